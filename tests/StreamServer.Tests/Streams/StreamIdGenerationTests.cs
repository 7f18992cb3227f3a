using StreamServer.Storage.Streams;
using static StreamServer.Tests.Streams.StreamTestHelpers;
using Stream = StreamServer.Storage.Streams.Stream;

namespace StreamServer.Tests.Streams;

public class StreamIdGenerationTests
{
    [Fact]
    public void NextId_OnEmptyStream_IsNowDashZero()
    {
        var s = new Stream();
        Assert.Equal(StreamAddStatus.Ok, s.TryNextId(1000, out var id));
        Assert.Equal(Id(1000, 0), id);
    }

    [Fact]
    public void NextId_SameMillisecond_IncrementsSeq()
    {
        var s = new Stream();
        s.Add(Id(1000, 4), "f", "v");
        Assert.Equal(StreamAddStatus.Ok, s.TryNextId(1000, out var id));
        Assert.Equal(Id(1000, 5), id);
    }

    [Fact]
    public void NextId_ClockGoesBackwards_KeepsLastMsAndIncrementsSeq()
    {
        var s = new Stream();
        s.Add(Id(5000, 2), "f", "v");
        Assert.Equal(StreamAddStatus.Ok, s.TryNextId(10, out var id));
        Assert.Equal(Id(5000, 3), id);
    }

    [Fact]
    public void NextId_SeqOverflow_MovesToNextMillisecond()
    {
        var s = new Stream { LastId = Id(7, ulong.MaxValue) };
        Assert.Equal(StreamAddStatus.Ok, s.TryNextId(3, out var id));
        Assert.Equal(Id(8, 0), id);
    }

    [Fact]
    public void NextId_AtMaxId_IsExhausted()
    {
        var s = new Stream { LastId = StreamId.Max };
        Assert.Equal(StreamAddStatus.IdSpaceExhausted, s.TryNextId(ulong.MaxValue, out _));
        Assert.Equal(StreamAddStatus.IdSpaceExhausted, s.TryAutoSequenceId(ulong.MaxValue, out _));
        Assert.Equal(StreamAddStatus.IdSpaceExhausted, s.ValidateExplicitId(Id(1, 1)));
    }

    [Fact]
    public void AutoSequence_FollowsRedis()
    {
        var s = new Stream();
        Assert.Equal(StreamAddStatus.Ok, s.TryAutoSequenceId(0, out var id));
        Assert.Equal(Id(0, 1), id);                       // 0-* on an empty stream: 0-0 is not allowed
        s.Add(Id(10, 3), "f", "v");
        Assert.Equal(StreamAddStatus.Ok, s.TryAutoSequenceId(10, out id));
        Assert.Equal(Id(10, 4), id);
        Assert.Equal(StreamAddStatus.Ok, s.TryAutoSequenceId(11, out id));
        Assert.Equal(Id(11, 0), id);
        Assert.Equal(StreamAddStatus.IdNotGreaterThanLast, s.TryAutoSequenceId(9, out _));

        s.LastId = Id(12, ulong.MaxValue);
        Assert.Equal(StreamAddStatus.IdNotGreaterThanLast, s.TryAutoSequenceId(12, out _));
    }

    [Fact]
    public void ExplicitId_Validation()
    {
        var s = new Stream();
        Assert.Equal(StreamAddStatus.IdZero, s.ValidateExplicitId(StreamId.Min));
        Assert.Equal(StreamAddStatus.Ok, s.ValidateExplicitId(Id(0, 1)));
        s.Add(Id(5, 5), "f", "v");
        Assert.Equal(StreamAddStatus.IdNotGreaterThanLast, s.ValidateExplicitId(Id(5, 5)));
        Assert.Equal(StreamAddStatus.IdNotGreaterThanLast, s.ValidateExplicitId(Id(4, 9)));
        Assert.Equal(StreamAddStatus.Ok, s.ValidateExplicitId(Id(5, 6)));
        Assert.Equal(StreamAddStatus.IdNotGreaterThanLast, s.Append(Id(5, 5), Fv("f", "v")));
    }

    [Fact]
    public void Append_UpdatesLastIdFirstIdAndEntriesAdded()
    {
        var s = new Stream();
        s.Add(Id(1, 1), "f", "v");
        s.Add(Id(2, 1), "f", "v");
        Assert.Equal((Id(1, 1), Id(2, 1), 2L, 2L), (s.FirstId, s.LastId, s.EntriesAdded, s.Length));
    }
}
