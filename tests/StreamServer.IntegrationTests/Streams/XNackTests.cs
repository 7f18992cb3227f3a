using StreamServer.Embedded;
using static StreamServer.IntegrationTests.Persistence.AofTestSupport;

namespace StreamServer.IntegrationTests.Streams;

/// <summary>Redis 8.8 XNACK. Page: https://redis.io/docs/latest/commands/xnack/.</summary>
public sealed partial class XNackTests
{
    private static string PendingRow(string id, string consumer, long idle, long count)
        => $"*4\r\n${id.Length}\r\n{id}\r\n${consumer.Length}\r\n{consumer}\r\n:{idle}\r\n:{count}\r\n";

    private static async Task TwoEntriesReadByConsumer1(Conformance.RespConnection c)
    {
        Assert.Equal("$15\r\n1526569498055-0\r\n", await c.Cmd("XADD", "mystream", "1526569498055-0", "field", "value1"));
        Assert.Equal("$15\r\n1526569498056-0\r\n", await c.Cmd("XADD", "mystream", "1526569498056-0", "field", "value2"));
        Assert.Equal("+OK\r\n", await c.Cmd("XGROUP", "CREATE", "mystream", "mygroup", "0"));
        Assert.StartsWith("*1\r\n", await c.Cmd("XREADGROUP", "GROUP", "mygroup", "consumer1", "STREAMS", "mystream", ">"), StringComparison.Ordinal);
    }

    // Page example "Basic usage with FAIL mode": both released; XPENDING shows an empty consumer, idle -1, count 1.
    [Fact]
    public async Task Fail_ReleasesEntriesToNoConsumer()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await TwoEntriesReadByConsumer1(c);
        Assert.Equal(":2\r\n", await c.Cmd("XNACK", "mystream", "mygroup", "FAIL", "IDS", "2", "1526569498055-0", "1526569498056-0"));
        Assert.Equal("*2\r\n" + PendingRow("1526569498055-0", "", -1, 1) + PendingRow("1526569498056-0", "", -1, 1),
            await c.Cmd("XPENDING", "mystream", "mygroup", "-", "+", "10"));
        // Still pending for the group, owned by no consumer: the summary lists no consumer, consumer1 has none left.
        Assert.Equal("*4\r\n:2\r\n$15\r\n1526569498055-0\r\n$15\r\n1526569498056-0\r\n*0\r\n", await c.Cmd("XPENDING", "mystream", "mygroup"));
        Assert.Equal("*0\r\n", await c.Cmd("XPENDING", "mystream", "mygroup", "-", "+", "10", "consumer1"));
        Assert.Equal("*1\r\n*2\r\n$8\r\nmystream\r\n*0\r\n", await c.Cmd("XREADGROUP", "GROUP", "mygroup", "consumer1", "STREAMS", "mystream", "0"));
    }

    // Page: SILENT decrements the counter, FATAL sets LLONG_MAX, RETRYCOUNT sets it whatever the mode.
    [Fact]
    public async Task Modes_AdjustTheDeliveryCounter()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await TwoEntriesReadByConsumer1(c);
        Assert.Equal(":1\r\n", await c.Cmd("XNACK", "mystream", "mygroup", "SILENT", "IDS", "1", "1526569498055-0"));
        Assert.Equal("*1\r\n" + PendingRow("1526569498055-0", "", -1, 0), await c.Cmd("XPENDING", "mystream", "mygroup", "-", "1526569498055-0", "10"));
        Assert.Equal(":1\r\n", await c.Cmd("XNACK", "mystream", "mygroup", "FATAL", "IDS", "1", "1526569498055-0"));
        Assert.Equal("*1\r\n" + PendingRow("1526569498055-0", "", -1, long.MaxValue), await c.Cmd("XPENDING", "mystream", "mygroup", "-", "1526569498055-0", "10"));
        Assert.Equal(":1\r\n", await c.Cmd("XNACK", "mystream", "mygroup", "FAIL", "IDS", "1", "1526569498055-0", "RETRYCOUNT", "5"));
        Assert.Equal("*1\r\n" + PendingRow("1526569498055-0", "", -1, 5), await c.Cmd("XPENDING", "mystream", "mygroup", "-", "1526569498055-0", "10"));
        Assert.Equal(":1\r\n", await c.Cmd("XNACK", "mystream", "mygroup", "FATAL", "IDS", "1", "1526569498056-0", "RETRYCOUNT", "3"));
        Assert.Equal("*1\r\n" + PendingRow("1526569498056-0", "", -1, 3), await c.Cmd("XPENDING", "mystream", "mygroup", "1526569498056-0", "+", "10"));
    }

    // Page notes: ids not pending are ignored and not counted; FORCE creates unowned entries for ids in the stream
    // (count 0, or RETRYCOUNT, or LLONG_MAX with FATAL).
    [Fact]
    public async Task NotPendingIds_AreIgnoredUnlessForced()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await TwoEntriesReadByConsumer1(c);
        await c.Cmd("XADD", "mystream", "1526569498057-0", "field", "value3");
        Assert.Equal(":0\r\n", await c.Cmd("XNACK", "mystream", "mygroup", "FAIL", "IDS", "2", "1526569498057-0", "9-9"));
        Assert.Equal(":1\r\n", await c.Cmd("XNACK", "mystream", "mygroup", "FAIL", "IDS", "2", "1526569498057-0", "9-9", "FORCE"));
        Assert.Equal("*1\r\n" + PendingRow("1526569498057-0", "", -1, 0), await c.Cmd("XPENDING", "mystream", "mygroup", "1526569498057-0", "+", "10"));
        Assert.Equal(":3\r\n", await c.Cmd("XNACK", "mystream", "mygroup", "FATAL", "IDS", "3", "1526569498055-0", "1526569498056-0", "1526569498057-0", "FORCE"));
    }

    // Page: released entries are immediately claimable with any min-idle-time (XCLAIM, XAUTOCLAIM).
    [Fact]
    public async Task ReleasedEntries_AreClaimableAtOnce()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await TwoEntriesReadByConsumer1(c);
        Assert.Equal(":2\r\n", await c.Cmd("XNACK", "mystream", "mygroup", "FAIL", "IDS", "2", "1526569498055-0", "1526569498056-0"));
        Assert.Equal("*1\r\n$15\r\n1526569498055-0\r\n", await c.Cmd("XCLAIM", "mystream", "mygroup", "consumer2", "3600000", "1526569498055-0", "JUSTID"));
        Assert.Equal("*3\r\n$3\r\n0-0\r\n*1\r\n$15\r\n1526569498056-0\r\n*0\r\n", await c.Cmd("XAUTOCLAIM", "mystream", "mygroup", "consumer3", "3600000", "0", "JUSTID"));
        var rows = await c.Cmd("XPENDING", "mystream", "mygroup", "-", "+", "10");
        Assert.Contains("$9\r\nconsumer2\r\n", rows, StringComparison.Ordinal);
        Assert.Contains("$9\r\nconsumer3\r\n", rows, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadArguments_GiveErrorsAndChangeNothing()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await TwoEntriesReadByConsumer1(c);
        var before = await c.Cmd("XPENDING", "mystream", "mygroup");
        Assert.Equal("-ERR syntax error\r\n", await c.Cmd("XNACK", "mystream", "mygroup", "LOUD", "IDS", "1", "1526569498055-0"));
        Assert.Equal("-ERR syntax error\r\n", await c.Cmd("XNACK", "mystream", "mygroup", "FAIL", "ID", "1", "1526569498055-0"));
        Assert.Equal("-ERR The `numids` parameter must match the number of arguments\r\n", await c.Cmd("XNACK", "mystream", "mygroup", "FAIL", "IDS", "2", "1526569498055-0"));
        Assert.Equal("-ERR The `numids` parameter must match the number of arguments\r\n", await c.Cmd("XNACK", "mystream", "mygroup", "FAIL", "IDS", "1", "1526569498055-0", "1526569498056-0"));
        Assert.Equal("-ERR Number of IDs must be a positive integer\r\n", await c.Cmd("XNACK", "mystream", "mygroup", "FAIL", "IDS", "0", "1526569498055-0"));
        Assert.Equal("-ERR Invalid RETRYCOUNT option argument for XNACK\r\n", await c.Cmd("XNACK", "mystream", "mygroup", "FAIL", "IDS", "1", "1526569498055-0", "RETRYCOUNT", "-1"));
        Assert.Equal("-ERR syntax error\r\n", await c.Cmd("XNACK", "mystream", "mygroup", "FAIL", "IDS", "1", "1526569498055-0", "FORCEFULLY"));
        Assert.Equal("-NOGROUP No such key 'mystream' or consumer group 'nogroup'\r\n", await c.Cmd("XNACK", "mystream", "nogroup", "FAIL", "IDS", "1", "1526569498055-0"));
        Assert.Equal("-NOGROUP No such key 'nokey' or consumer group 'mygroup'\r\n", await c.Cmd("XNACK", "nokey", "mygroup", "FAIL", "IDS", "1", "1526569498055-0"));
        Assert.Equal("-ERR wrong number of arguments for 'xnack' command\r\n", await c.Cmd("XNACK", "mystream", "mygroup", "FAIL", "IDS", "1"));
        Assert.Equal(before, await c.Cmd("XPENDING", "mystream", "mygroup"));
        Assert.DoesNotContain("$0\r\n\r\n", await c.Cmd("XPENDING", "mystream", "mygroup", "-", "+", "10"), StringComparison.Ordinal); // none released
    }

    // Released entries survive a restart from the AOF, and a rewrite (XNACK … FORCE recreates them).
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReleasedEntries_SurviveAofRestart(bool rewrite)
    {
        var (before, after) = await AcrossRestart(NewTempDir(), rewrite, async c =>
        {
            await TwoEntriesReadByConsumer1(c);
            Assert.Equal(":1\r\n", await c.Cmd("XNACK", "mystream", "mygroup", "FATAL", "IDS", "1", "1526569498055-0"));
            await c.Cmd("XADD", "mystream", "1526569498057-0", "field", "value3");
            Assert.Equal(":1\r\n", await c.Cmd("XNACK", "mystream", "mygroup", "SILENT", "IDS", "1", "1526569498057-0", "RETRYCOUNT", "4", "FORCE"));
        }, async c => OwnerIdle().Replace(await c.Cmd("XPENDING", "mystream", "mygroup", "-", "+", "10"), "$1:_\r\n"));
        // consumer1's own entry has an idle time that moves on (masked); the released ones are exact.
        Assert.Equal("*3\r\n" + PendingRow("1526569498055-0", "", -1, long.MaxValue) + "*4\r\n$15\r\n1526569498056-0\r\n$9\r\nconsumer1\r\n:_\r\n:1\r\n"
            + PendingRow("1526569498057-0", "", -1, 4), before);
        Assert.Equal(before, after);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"(\$\d+\r\n\w+\r\n):\d+\r\n")]
    private static partial System.Text.RegularExpressions.Regex OwnerIdle();
}
