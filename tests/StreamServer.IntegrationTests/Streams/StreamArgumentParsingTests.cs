using StreamServer.Embedded;
using static StreamServer.IntegrationTests.Persistence.AofTestSupport;

namespace StreamServer.IntegrationTests.Streams;

/// <summary>Argument parsing the differential run found apart from redis-server 7.0 (replies recorded from it).</summary>
public sealed class StreamArgumentParsingTests
{
    // streamParseID reads each part with string2ull, which falls back to strtoull: leading spaces, a sign and leading
    // zeros are accepted, and '-' negates modulo 2^64 unless string2ll already read a negative number.
    [Fact]
    public async Task IdParts_AreReadAsString2ullReadsThem()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        Assert.Equal("$3\r\n1-1\r\n", await c.Cmd("XADD", "s", "+1-1", "f", "v"));
        Assert.Equal("$3\r\n2-1\r\n", await c.Cmd("XADD", "s", " 2-1", "f", "v"));
        Assert.Equal("$3\r\n3-2\r\n", await c.Cmd("XADD", "s", "03-0002", "f", "v"));
        Assert.Equal("$22\r\n3-18446744073709551615\r\n", await c.Cmd("XADD", "s", "3--01", "f", "v"));
        Assert.Equal("-ERR Invalid stream ID specified as stream command argument\r\n", await c.Cmd("XADD", "s", "4--1", "f", "v"));
        Assert.Equal("$21\r\n4-9223372036854775807\r\n", await c.Cmd("XADD", "s", "4--9223372036854775809", "f", "v"));
        Assert.Equal("$3\r\n6-0\r\n", await c.Cmd("XADD", "s", "+6-*", "f", "v"));
        Assert.Equal("-ERR Invalid stream ID specified as stream command argument\r\n", await c.Cmd("XADD", "s", "7-1 ", "f", "v"));
        Assert.Equal("-ERR Invalid stream ID specified as stream command argument\r\n", await c.Cmd("XADD", "s", "7-", "f", "v"));
    }

    // Redis's listpack stores the ms delta as a 64-bit integer: ids 2^64 ms apart still share a node, so a '~' trim
    // (whole nodes only) has nothing to remove.
    [Fact]
    public async Task FarApartIds_ShareANode()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await c.Cmd("XADD", "n", "1-1", "f", "v");
        await c.Cmd("XADD", "n", "18446744073709551615-0", "f", "v");
        Assert.StartsWith("*20\r\n$6\r\nlength\r\n:2\r\n$15\r\nradix-tree-keys\r\n:1\r\n", await c.Cmd("XINFO", "STREAM", "n"), StringComparison.Ordinal);
        Assert.Equal(":0\r\n", await c.Cmd("XTRIM", "n", "MAXLEN", "~", "1"));
        Assert.Equal("*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$22\r\n18446744073709551615-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n",
            await c.Cmd("XRANGE", "n", "-", "+"));
        Assert.Equal(":1\r\n", await c.Cmd("XDEL", "n", "18446744073709551615-0"));
        Assert.Equal("$22\r\n18446744073709551615-1\r\n", await c.Cmd("XADD", "n", "18446744073709551615-*", "g", "w"));
        Assert.Equal("*1\r\n*2\r\n$22\r\n18446744073709551615-1\r\n*2\r\n$1\r\ng\r\n$1\r\nw\r\n", await c.Cmd("XREVRANGE", "n", "+", "-", "COUNT", "1"));
    }

    // Redis 7.2 (redis#11338) refuses a timeout whose deadline would overflow; 7.0 let now + timeout wrap.
    [Fact]
    public async Task Block_TimeoutPastTheLargestDeadline_IsOutOfRange()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        Assert.Equal("-ERR timeout is out of range\r\n", await c.Cmd("XREAD", "BLOCK", "9223372036854775807", "STREAMS", "s", "$"));
        Assert.Equal("-ERR timeout is out of range\r\n", await c.Cmd("XREADGROUP", "GROUP", "g", "c", "BLOCK", "9223372036854775807", "STREAMS", "s", ">"));
    }

    // xgroupCommand parses every ENTRIESREAD value first, then looks up the key and group, and only then checks
    // SETID's argument count.
    [Fact]
    public async Task XGroupSetId_ParsesOptionsThenGroupThenArgumentCount()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await c.Cmd("XADD", "t", "1-1", "f", "v");
        await c.Cmd("XGROUP", "CREATE", "t", "g", "0");
        Assert.Equal("-ERR value is not an integer or out of range\r\n", await c.Cmd("XGROUP", "SETID", "t", "g", "0", "ENTRIESREAD", "1.5", "ENTRIESREAD"));
        Assert.Equal("-ERR value is not an integer or out of range\r\n", await c.Cmd("XGROUP", "SETID", "nokey", "g", "0", "ENTRIESREAD", "abc"));
        Assert.Equal("-NOGROUP No such consumer group 'nog' for key name 't'\r\n", await c.Cmd("XGROUP", "SETID", "t", "nog", "0", "ENTRIESREAD", "1", "ENTRIESREAD", "2"));
        Assert.Equal("-ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP.\r\n",
            await c.Cmd("XGROUP", "SETID", "t", "g", "0", "ENTRIESREAD", "1", "ENTRIESREAD", "2"));
        Assert.Equal("+OK\r\n", await c.Cmd("XGROUP", "SETID", "t", "g", "0", "ENTRIESREAD", "1"));
    }
}
