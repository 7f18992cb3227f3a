using StreamServer.Storage.Streams;
using static StreamServer.Tests.Streams.StreamTestHelpers;
using Stream = StreamServer.Storage.Streams.Stream;

namespace StreamServer.Tests.Streams;

public class ConsumerGroupTests
{
    private static Stream StreamWith(int entries)
    {
        var stream = new Stream();
        for (var i = 1; i <= entries; i++) stream.Add(Id((ulong)i, 0), "f", "v");
        return stream;
    }

    private static void ReadNew(Stream stream, ConsumerGroup group, Consumer consumer, long count, long now = 1)
    {
        group.LastDeliveredId.TryIncrement(out var start);
        var it = stream.Range(start, StreamId.Max, count);
        while (it.MoveNext()) group.DeliverNew(stream, it.Current.Id, consumer, now, noAck: false);
    }

    [Fact]
    public void DeliverNew_PutsTheSameEntryInGroupAndConsumerPels()
    {
        var stream = StreamWith(3);
        var group = stream.Groups.TryCreate("g"u8, StreamId.Min, 0)!;
        var c = group.GetOrCreateConsumer("c"u8, 1, out var created);
        Assert.True(created);

        ReadNew(stream, group, c, 2, now: 50);

        Assert.Equal(Id(2, 0), group.LastDeliveredId);
        Assert.Equal(2, group.EntriesRead);
        Assert.Equal(1, group.Lag(stream));
        Assert.True(group.Pending.TryGetValue(Id(1, 0), out var inGroup));
        Assert.True(c.Pending.TryGetValue(Id(1, 0), out _));
        Assert.Same(c, inGroup.Consumer);
        Assert.Equal((50L, 1L), (inGroup.DeliveryTimeMs, inGroup.DeliveryCount));
        Assert.Equal(50, c.ActiveTimeMs);
    }

    [Fact]
    public void DeliverNew_AfterSetIdBack_MovesThePendingEntryToTheNewReaderWithCountOne()
    {
        var stream = StreamWith(2);
        var group = stream.Groups.TryCreate("g"u8, StreamId.Min, 0)!;
        var a = group.GetOrCreateConsumer("a"u8, 1, out _);
        var b = group.GetOrCreateConsumer("b"u8, 1, out _);
        ReadNew(stream, group, a, 0);
        group.Pending.GetValueRefOrNullRef(Id(1, 0)).DeliveryCount = 5;

        group.LastDeliveredId = StreamId.Min;
        ReadNew(stream, group, b, 1, now: 9);
        group.Pending.TryGetValue(Id(1, 0), out var entry);

        Assert.Same(b, entry.Consumer);
        Assert.Equal((9L, 1L), (entry.DeliveryTimeMs, entry.DeliveryCount));
        Assert.False(a.Pending.TryGetValue(Id(1, 0), out _));
        Assert.Equal(1, a.Pending.Count);
        Assert.Equal(2, group.Pending.Count);
    }

    [Fact]
    public void Lag_IsNullWhenADeletionLiesAheadOfTheGroup_AndKnownAgainOnceReadPastIt()
    {
        var stream = StreamWith(4);
        var group = stream.Groups.TryCreate("g"u8, StreamId.Min, 0)!;
        var c = group.GetOrCreateConsumer("c"u8, 1, out _);
        ReadNew(stream, group, c, 1);
        Assert.Equal(3, group.Lag(stream));

        Assert.True(stream.Delete(Id(3, 0)));
        Assert.Null(group.Lag(stream));

        ReadNew(stream, group, c, 0);
        Assert.Equal(Id(4, 0), group.LastDeliveredId);
        Assert.Equal(4, group.EntriesRead);
        Assert.Equal(0, group.Lag(stream));
    }

    [Fact]
    public void EntriesRead_UnknownAtCreation_IsEstimatedFromTheFirstEverEntry()
    {
        var stream = StreamWith(3);
        var group = stream.Groups.TryCreate("g"u8, StreamId.Min, ConsumerGroup.InvalidEntriesRead)!;
        Assert.Equal(3, group.Lag(stream)); // 0-0 is before the first entry: nothing read
        ReadNew(stream, group, group.GetOrCreateConsumer("c"u8, 1, out _), 1);
        Assert.Equal(1, group.EntriesRead);

        var late = stream.Groups.TryCreate("late"u8, stream.LastId, ConsumerGroup.InvalidEntriesRead)!;
        Assert.Equal(0, late.Lag(stream));
        Assert.Equal(3, ConsumerGroup.EstimateDistanceFromFirstEverEntry(stream, stream.LastId));
        Assert.Equal(ConsumerGroup.InvalidEntriesRead, ConsumerGroup.EstimateDistanceFromFirstEverEntry(stream, Id(9, 0)));
    }

    [Fact]
    public void DeleteConsumer_DropsItsEntriesFromTheGroupPel_AndReturnsHowMany()
    {
        var stream = StreamWith(3);
        var group = stream.Groups.TryCreate("g"u8, StreamId.Min, 0)!;
        var a = group.GetOrCreateConsumer("a"u8, 1, out _);
        var b = group.GetOrCreateConsumer("b"u8, 1, out _);
        ReadNew(stream, group, a, 2);
        ReadNew(stream, group, b, 1);

        Assert.Equal(2, group.DeleteConsumer(a));
        Assert.Null(group.FindConsumer("a"u8));
        Assert.Equal(1, group.Pending.Count);
        Assert.True(group.Pending.TryGetValue(Id(3, 0), out _));
    }

    [Fact]
    public void AutoClaim_CountsDeletedEntriesAgainstCount_AndReturnsTheNextCursor()
    {
        var stream = StreamWith(5);
        var group = stream.Groups.TryCreate("g"u8, StreamId.Min, 0)!;
        ReadNew(stream, group, group.GetOrCreateConsumer("a"u8, 1, out _), 0);
        stream.Delete(Id(2, 0));
        List<StreamId> claimed = [], deleted = [];

        var cursor = group.AutoClaim(stream, StreamId.Min, 2, 0, "b"u8, countDelivery: true, 10, claimed, deleted, out _);

        Assert.Equal([Id(1, 0)], claimed);
        Assert.Equal([Id(2, 0)], deleted);
        Assert.Equal(Id(3, 0), cursor);
        Assert.Equal(4, group.Pending.Count);
        var b = group.FindConsumer("b"u8)!;
        Assert.Equal(1, b.Pending.Count);
        Assert.Equal(10, b.ActiveTimeMs);
    }

    [Fact]
    public void AutoClaim_ExaminesAtMostTenTimesCount()
    {
        var stream = StreamWith(12);
        var group = stream.Groups.TryCreate("g"u8, StreamId.Min, 0)!;
        ReadNew(stream, group, group.GetOrCreateConsumer("a"u8, 100, out _), 0, now: 100);
        List<StreamId> claimed = [], deleted = [];

        var cursor = group.AutoClaim(stream, StreamId.Min, 1, minIdle: 1000, "b"u8, countDelivery: true, 101, claimed, deleted, out _);

        Assert.Empty(claimed);
        Assert.Equal(Id(11, 0), cursor);
        Assert.Null(group.FindConsumer("b"u8)); // nothing claimed: no consumer created
    }

    [Fact]
    public void Groups_AreListedInBytewiseNameOrder_AndNamesAreUnique()
    {
        var stream = new Stream();
        Assert.NotNull(stream.Groups.TryCreate("b"u8, StreamId.Min, 0));
        Assert.NotNull(stream.Groups.TryCreate("ab"u8, StreamId.Min, 0));
        Assert.NotNull(stream.Groups.TryCreate("a"u8, StreamId.Min, 0));
        Assert.Null(stream.Groups.TryCreate("a"u8, StreamId.Min, 0));
        Assert.Equal(["a", "ab", "b"], stream.Groups.InOrder().Select(g => Text(g.Name)));
        Assert.True(stream.Groups.Remove("ab"u8));
        Assert.False(stream.Groups.Remove("ab"u8));
        Assert.Equal(2, stream.Groups.Count);
    }
}
