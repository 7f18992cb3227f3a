using StreamServer.Storage.Streams;
using Xunit.Abstractions;
using static StreamServer.Tests.Streams.StreamTestHelpers;
using Stream = StreamServer.Storage.Streams.Stream;

namespace StreamServer.Tests.Streams;

[Collection(MemoryMeasurementCollection.Name)]
public class StreamMemoryTests(ITestOutputHelper output)
{
    /// <summary>Redis 7.0 holds a million <c>user 1234 amount 42</c> entries in 15.7 bytes each.</summary>
    [Fact]
    public void MillionSmallEntries_CostLessThanRedisPerEntry()
    {
        const int count = 1_000_000;
        var fields = Fv("user", "1234", "amount", "42");
        var retainedBefore = GC.GetTotalMemory(forceFullCollection: true);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();

        var stream = new Stream();
        for (var i = 0; i < count; i++) stream.Append(new StreamId(1_700_000_000_000UL + (ulong)i, 0), fields);

        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        var retained = GC.GetTotalMemory(forceFullCollection: true) - retainedBefore;
        GC.KeepAlive(stream);

        var estimated = (double)stream.EstimatedBytes / count;
        output.WriteLine($"EstimatedBytes/entry {estimated:F2}, retained heap/entry {(double)retained / count:F2}, allocated/entry {(double)allocated / count:F2}, nodes {stream.NodeCount}");
        Assert.True(estimated < 15.7, $"EstimatedBytes/entry {estimated:F2}");
        Assert.True((double)retained / count < 15.7, $"retained/entry {(double)retained / count:F2}");
    }
}
