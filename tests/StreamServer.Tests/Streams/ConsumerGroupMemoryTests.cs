using System.Text;
using StreamServer.Storage.Streams;
using Xunit.Abstractions;
using static StreamServer.Tests.Streams.StreamTestHelpers;
using Stream = StreamServer.Storage.Streams.Stream;

namespace StreamServer.Tests.Streams;

[Collection(MemoryMeasurementCollection.Name)]
public class ConsumerGroupMemoryTests(ITestOutputHelper output)
{
    /// <summary>Redis 7.0 spends 84 bytes per pending entry (a million entries read by XREADGROUP, not acknowledged).</summary>
    [Fact]
    public void MillionPendingEntries_CostLessThanRedisPerEntry()
    {
        const int count = 1_000_000;
        var fields = Fv("user", "1234", "amount", "42");
        var stream = new Stream();
        for (var i = 0; i < count; i++) stream.Append(new StreamId(1_700_000_000_000UL + (ulong)i, 0), fields);
        var group = stream.Groups.TryCreate("g"u8, StreamId.Min, 0)!;
        var consumer = group.GetOrCreateConsumer("consumer-1"u8, 0, out _);

        var retainedBefore = GC.GetTotalMemory(forceFullCollection: true);
        var it = stream.Range(StreamId.Min, StreamId.Max);
        while (it.MoveNext()) group.DeliverNew(stream, it.Current.Id, consumer, 1_700_000_000_000, noAck: false);
        var retained = GC.GetTotalMemory(forceFullCollection: true) - retainedBefore;
        GC.KeepAlive(stream);

        Assert.Equal(count, group.Pending.Count);
        Assert.Equal(count, consumer.Pending.Count);
        var perEntry = (double)retained / count;
        var trees = (double)(group.Pending.EstimatedBytes + consumer.Pending.EstimatedBytes) / count;
        output.WriteLine($"retained heap per pending entry {perEntry:F1} B (both PEL trees by their own estimate {trees:F1} B, PendingEntry 24 B inline in the group PEL)");
        Assert.True(perEntry < 84, $"retained/pending entry {perEntry:F1}");
    }
}
