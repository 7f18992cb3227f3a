using StreamServer.Embedded;
using static StreamServer.IntegrationTests.Persistence.AofTestSupport;

namespace StreamServer.IntegrationTests.Streams;

/// <summary>
/// Redis 8.2: XDELEX, XACKDEL and KEEPREF | DELREF | ACKED on XADD's trimming and XTRIM.
/// Pages: https://redis.io/docs/latest/commands/xdelex/, https://redis.io/docs/latest/commands/xackdel/,
/// https://redis.io/docs/latest/commands/xadd/, https://redis.io/docs/latest/commands/xtrim/.
/// </summary>
public sealed class StreamDeleteReferencePolicyTests
{
    private const string NumIdsMismatch = "-ERR The `numids` parameter must match the number of arguments\r\n";
    private const string NumIdsNotPositive = "-ERR Number of IDs must be a positive integer\r\n";

    /// <summary>s holds 1-0, 2-0, 3-0; group g (from 0) delivered all three to c.</summary>
    private static async Task ThreeEntriesReadByGroup(Conformance.RespConnection c, params string[] groups)
    {
        for (var i = 1; i <= 3; i++) Assert.Equal($"$3\r\n{i}-0\r\n", await c.Cmd("XADD", "s", i + "-0", "f", "v" + i));
        foreach (var g in groups)
        {
            Assert.Equal("+OK\r\n", await c.Cmd("XGROUP", "CREATE", "s", g, "0"));
            Assert.StartsWith("*1\r\n", await c.Cmd("XREADGROUP", "GROUP", g, "c", "STREAMS", "s", ">"), StringComparison.Ordinal);
        }
    }

    // xdelex page: "-1 for each requested ID when the given key does not exist".
    [Fact]
    public async Task XDelEx_OnMissingKey_ReplyMinusOnePerId()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        Assert.Equal("*2\r\n:-1\r\n:-1\r\n", await c.Cmd("XDELEX", "nokey", "KEEPREF", "IDS", "2", "1526919030474-55", "1526919030474-56"));
        Assert.Equal(":0\r\n", await c.Cmd("EXISTS", "nokey"));
    }

    // xdelex page: KEEPREF deletes the entry, keeps PEL references (as XDEL); 1 deleted, -1 no such id.
    [Fact]
    public async Task XDelEx_KeepRef_DeletesEntriesAndKeepsPendingReferences()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await ThreeEntriesReadByGroup(c, "g");
        Assert.Equal("*2\r\n:1\r\n:-1\r\n", await c.Cmd("XDELEX", "s", "KEEPREF", "IDS", "2", "1-0", "9-0"));
        Assert.Equal("*1\r\n:-1\r\n", await c.Cmd("XDELEX", "s", "IDS", "1", "1-0")); // default KEEPREF; already gone
        Assert.Equal(":2\r\n", await c.Cmd("XLEN", "s"));
        Assert.StartsWith("*4\r\n:3\r\n$3\r\n1-0\r\n", await c.Cmd("XPENDING", "s", "g"), StringComparison.Ordinal);
    }

    // xdelex page: DELREF also removes the entries from every group's PEL, even when the entry is already gone.
    [Fact]
    public async Task XDelEx_DelRef_RemovesReferencesFromEveryGroup()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await ThreeEntriesReadByGroup(c, "g1", "g2");
        Assert.Equal("*1\r\n:1\r\n", await c.Cmd("XDELEX", "s", "DELREF", "IDS", "1", "1-0"));
        Assert.StartsWith("*4\r\n:2\r\n$3\r\n2-0\r\n", await c.Cmd("XPENDING", "s", "g1"), StringComparison.Ordinal);
        Assert.StartsWith("*4\r\n:2\r\n$3\r\n2-0\r\n", await c.Cmd("XPENDING", "s", "g2"), StringComparison.Ordinal);

        // A dangling reference (XDEL left it) is removed though the entry is not in the stream: -1.
        Assert.Equal(":1\r\n", await c.Cmd("XDEL", "s", "2-0"));
        Assert.Equal("*1\r\n:-1\r\n", await c.Cmd("XDELEX", "s", "IDS", "1", "2-0", "DELREF")); // the IDS block may come first
        Assert.StartsWith("*4\r\n:1\r\n$3\r\n3-0\r\n", await c.Cmd("XPENDING", "s", "g1"), StringComparison.Ordinal);
        Assert.StartsWith("*4\r\n:1\r\n$3\r\n3-0\r\n", await c.Cmd("XPENDING", "s", "g2"), StringComparison.Ordinal);
    }

    // xdelex page: ACKED deletes only entries read and acknowledged by all groups; 2 when still referenced.
    [Fact]
    public async Task XDelEx_Acked_DeletesOnlyWhatEveryGroupAcknowledged()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        for (var i = 1; i <= 3; i++) await c.Cmd("XADD", "s", i + "-0", "f", "v");
        Assert.Equal("+OK\r\n", await c.Cmd("XGROUP", "CREATE", "s", "g", "0"));
        Assert.StartsWith("*1\r\n", await c.Cmd("XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "s", ">"), StringComparison.Ordinal);
        Assert.Equal(":1\r\n", await c.Cmd("XACK", "s", "g", "1-0"));
        // 1-0 read and acknowledged; 2-0 pending; 3-0 never read by g; 7-0 not in the stream.
        Assert.Equal("*4\r\n:1\r\n:2\r\n:2\r\n:-1\r\n", await c.Cmd("XDELEX", "s", "ACKED", "IDS", "4", "1-0", "2-0", "3-0", "7-0"));
        Assert.Equal(":2\r\n", await c.Cmd("XLEN", "s"));

        // Without consumer groups nothing references an entry (xadd page: the options have no effect then).
        await c.Cmd("XADD", "t", "1-0", "f", "v");
        Assert.Equal("*1\r\n:1\r\n", await c.Cmd("XDELEX", "t", "ACKED", "IDS", "1", "1-0"));
    }

    [Fact]
    public async Task XDelEx_BadArguments_GiveErrorsAndChangeNothing()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await ThreeEntriesReadByGroup(c, "g");
        Assert.Equal(NumIdsNotPositive, await c.Cmd("XDELEX", "s", "IDS", "0", "1-0"));
        Assert.Equal(NumIdsNotPositive, await c.Cmd("XDELEX", "s", "IDS", "x", "1-0"));
        Assert.Equal(NumIdsMismatch, await c.Cmd("XDELEX", "s", "IDS", "3", "1-0", "2-0"));
        Assert.Equal(NumIdsMismatch, await c.Cmd("XDELEX", "s", "IDS", "1", "1-0", "2-0"));
        Assert.Equal("-ERR Invalid stream ID specified as stream command argument\r\n", await c.Cmd("XDELEX", "s", "IDS", "2", "1-0", "bad"));
        Assert.Equal("-ERR syntax error\r\n", await c.Cmd("XDELEX", "s", "FOO", "IDS", "1", "1-0"));
        Assert.Equal("-ERR syntax error\r\n", await c.Cmd("XDELEX", "s", "KEEPREF", "DELREF", "IDS", "1", "1-0"));
        Assert.Equal("-ERR syntax error\r\n", await c.Cmd("XDELEX", "s", "DELREF", "KEEPREF", "1-0"));
        Assert.Equal("-ERR wrong number of arguments for 'xdelex' command\r\n", await c.Cmd("XDELEX", "s", "IDS", "1"));
        Assert.Equal(":3\r\n", await c.Cmd("XLEN", "s"));
        Assert.StartsWith("*4\r\n:3\r\n", await c.Cmd("XPENDING", "s", "g"), StringComparison.Ordinal);
        await c.Cmd("SET", "str", "x");
        Assert.Equal("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", await c.Cmd("XDELEX", "str", "IDS", "1", "1-0"));
    }

    // xackdel page example: KEEPREF acknowledges and deletes; XPENDING is empty after.
    [Fact]
    public async Task XAckDel_KeepRef_AcknowledgesAndDeletes()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        Assert.Equal("$15\r\n1755870377536-0\r\n", await c.Cmd("XADD", "mystream", "1755870377536-0", "field1", "value1"));
        Assert.Equal("$15\r\n1755870387045-0\r\n", await c.Cmd("XADD", "mystream", "1755870387045-0", "field2", "value2"));
        Assert.Equal("+OK\r\n", await c.Cmd("XGROUP", "CREATE", "mystream", "mygroup", "0"));
        await c.Cmd("XREADGROUP", "GROUP", "mygroup", "consumer1", "COUNT", "2", "STREAMS", "mystream", ">");
        Assert.Equal("*2\r\n:1\r\n:1\r\n", await c.Cmd("XACKDEL", "mystream", "mygroup", "KEEPREF", "IDS", "2", "1755870377536-0", "1755870387045-0"));
        Assert.Equal("*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n", await c.Cmd("XPENDING", "mystream", "mygroup"));
        Assert.Equal("*0\r\n", await c.Cmd("XRANGE", "mystream", "-", "+"));
    }

    // xackdel page: ACKED deletes only when all groups acknowledged (2 otherwise); DELREF cleans every group's PEL.
    [Fact]
    public async Task XAckDel_AckedAndDelRef_FollowEveryGroup()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await ThreeEntriesReadByGroup(c, "g1", "g2");
        Assert.Equal("*2\r\n:2\r\n:-1\r\n", await c.Cmd("XACKDEL", "s", "g1", "ACKED", "IDS", "2", "1-0", "8-0"));
        Assert.StartsWith("*4\r\n:2\r\n$3\r\n2-0\r\n", await c.Cmd("XPENDING", "s", "g1"), StringComparison.Ordinal); // acknowledged in g1
        Assert.Equal("*1\r\n:1\r\n", await c.Cmd("XACKDEL", "s", "g2", "ACKED", "IDS", "1", "1-0"));
        Assert.Equal(":2\r\n", await c.Cmd("XLEN", "s"));

        Assert.Equal("*1\r\n:1\r\n", await c.Cmd("XACKDEL", "s", "g1", "DELREF", "IDS", "1", "2-0"));
        Assert.StartsWith("*4\r\n:1\r\n$3\r\n3-0\r\n", await c.Cmd("XPENDING", "s", "g2"), StringComparison.Ordinal);

        // A missing key or group: -1 for each id (page: "-1 for each requested ID when the given key does not exist").
        Assert.Equal("*2\r\n:-1\r\n:-1\r\n", await c.Cmd("XACKDEL", "nokey", "g1", "IDS", "2", "1-0", "2-0"));
        Assert.Equal("*1\r\n:-1\r\n", await c.Cmd("XACKDEL", "s", "nogroup", "IDS", "1", "3-0"));
        Assert.Equal(":1\r\n", await c.Cmd("XLEN", "s"));

        Assert.Equal(NumIdsMismatch, await c.Cmd("XACKDEL", "s", "g2", "IDS", "2", "3-0"));
        Assert.Equal("-ERR wrong number of arguments for 'xackdel' command\r\n", await c.Cmd("XACKDEL", "s", "g2", "IDS", "1"));
        Assert.StartsWith("*4\r\n:1\r\n$3\r\n3-0\r\n", await c.Cmd("XPENDING", "s", "g2"), StringComparison.Ordinal);
    }

    // xadd/xtrim pages: ACKED trims only entries every group read and acknowledged; DELREF also cleans the PELs.
    [Fact]
    public async Task Trim_WithReferencePolicies()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        for (var i = 1; i <= 5; i++) await c.Cmd("XADD", "s", i + "-0", "f", "v");
        Assert.Equal("+OK\r\n", await c.Cmd("XGROUP", "CREATE", "s", "g", "0"));
        await c.Cmd("XREADGROUP", "GROUP", "g", "c", "COUNT", "3", "STREAMS", "s", ">");
        Assert.Equal(":2\r\n", await c.Cmd("XACK", "s", "g", "1-0", "2-0"));

        // 3-0 is pending, 4-0 and 5-0 unread: only 1-0 and 2-0 may go.
        Assert.Equal(":2\r\n", await c.Cmd("XTRIM", "s", "MAXLEN", "0", "ACKED"));
        Assert.Equal(":3\r\n", await c.Cmd("XLEN", "s"));
        Assert.Equal(":0\r\n", await c.Cmd("XTRIM", "s", "ACKED", "MINID", "5-0"));

        Assert.Equal(":2\r\n", await c.Cmd("XTRIM", "s", "DELREF", "MAXLEN", "1"));
        Assert.Equal("*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n", await c.Cmd("XPENDING", "s", "g"));

        Assert.Equal("$3\r\n6-0\r\n", await c.Cmd("XADD", "s", "KEEPREF", "MAXLEN", "1", "6-0", "f", "v"));
        Assert.Equal("*1\r\n*2\r\n$3\r\n6-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n", await c.Cmd("XRANGE", "s", "-", "+"));
        Assert.Equal("-ERR syntax error\r\n", await c.Cmd("XTRIM", "s", "MAXLEN", "0", "KEEPREF", "ACKED"));
        Assert.Equal("-ERR wrong number of arguments for 'xtrim' command\r\n", await c.Cmd("XTRIM", "s", "ACKED"));
        Assert.Equal(":1\r\n", await c.Cmd("XLEN", "s"));
        // No option is KEEPREF: 6-0 goes though group g never read it.
        Assert.Equal("$3\r\n7-0\r\n", await c.Cmd("XADD", "s", "MAXLEN", "1", "7-0", "f", "v"));
        Assert.Equal("*1\r\n*2\r\n$3\r\n7-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n", await c.Cmd("XRANGE", "s", "-", "+"));
    }
}
