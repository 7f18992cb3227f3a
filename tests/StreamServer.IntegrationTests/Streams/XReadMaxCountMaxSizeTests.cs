using StreamServer.Embedded;
using static StreamServer.IntegrationTests.Persistence.AofTestSupport;

namespace StreamServer.IntegrationTests.Streams;

/// <summary>
/// Redis 8.10 MAXCOUNT / MAXSIZE on XREAD and XREADGROUP. Pages: https://redis.io/docs/latest/commands/xread/,
/// https://redis.io/docs/latest/commands/xreadgroup/ ("MAXCOUNT: the maximum number of entries to return in total
/// across all streams"; MAXSIZE the same for the reply's size in bytes).
/// </summary>
public sealed class XReadMaxCountMaxSizeTests
{
    private static string E(string id, string value) => $"*2\r\n${id.Length}\r\n{id}\r\n*2\r\n$1\r\nf\r\n${value.Length}\r\n{value}\r\n";

    private static string S(string key, params string[] entries) => $"*2\r\n${key.Length}\r\n{key}\r\n*{entries.Length}\r\n" + string.Concat(entries);

    private static async Task TwoStreams(Conformance.RespConnection c)
    {
        foreach (var key in new[] { "a", "b" })
            for (var i = 1; i <= 3; i++) await c.Cmd("XADD", key, i + "-0", "f", "vvvv");
    }

    [Fact]
    public async Task XRead_MaxCount_CapsTheWholeReply()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await TwoStreams(c);
        Assert.Equal("*2\r\n" + S("a", E("1-0", "vvvv"), E("2-0", "vvvv"), E("3-0", "vvvv")) + S("b", E("1-0", "vvvv")),
            await c.Cmd("XREAD", "MAXCOUNT", "4", "STREAMS", "a", "b", "0", "0"));
        // COUNT still caps each stream; MAXCOUNT the total.
        Assert.Equal("*2\r\n" + S("a", E("1-0", "vvvv"), E("2-0", "vvvv")) + S("b", E("1-0", "vvvv")),
            await c.Cmd("XREAD", "COUNT", "2", "MAXCOUNT", "3", "STREAMS", "a", "b", "0", "0"));
        Assert.Equal("*1\r\n" + S("a", E("1-0", "vvvv")), await c.Cmd("XREAD", "MAXCOUNT", "1", "STREAMS", "a", "b", "0", "0"));
    }

    // Each entry counts its id, fields and values: "1-0" + "f" + "vvvv" is 8 bytes.
    [Fact]
    public async Task XRead_MaxSize_CapsTheEntryBytes_ButAlwaysReturnsOneEntry()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await TwoStreams(c);
        Assert.Equal("*1\r\n" + S("a", E("1-0", "vvvv"), E("2-0", "vvvv")), await c.Cmd("XREAD", "MAXSIZE", "20", "STREAMS", "a", "b", "0", "0"));
        Assert.Equal("*2\r\n" + S("a", E("1-0", "vvvv"), E("2-0", "vvvv"), E("3-0", "vvvv")) + S("b", E("1-0", "vvvv")),
            await c.Cmd("XREAD", "MAXSIZE", "32", "STREAMS", "a", "b", "0", "0"));
        Assert.Equal("*1\r\n" + S("a", E("1-0", "vvvv")), await c.Cmd("XREAD", "MAXSIZE", "1", "STREAMS", "a", "b", "0", "0"));
        Assert.Equal("*1\r\n" + S("b", E("1-0", "vvvv")), await c.Cmd("XREAD", "MAXCOUNT", "5", "MAXSIZE", "1", "STREAMS", "b", "a", "0", "0"));
    }

    [Fact]
    public async Task XReadGroup_MaxCount_DeliversOnlyWhatIsReturned()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await TwoStreams(c);
        Assert.Equal("+OK\r\n", await c.Cmd("XGROUP", "CREATE", "a", "g", "0"));
        Assert.Equal("+OK\r\n", await c.Cmd("XGROUP", "CREATE", "b", "g", "0"));
        Assert.Equal("*2\r\n" + S("a", E("1-0", "vvvv"), E("2-0", "vvvv"), E("3-0", "vvvv")) + S("b", E("1-0", "vvvv")),
            await c.Cmd("XREADGROUP", "GROUP", "g", "c", "MAXCOUNT", "4", "STREAMS", "a", "b", ">", ">"));
        Assert.StartsWith("*4\r\n:1\r\n$3\r\n1-0\r\n$3\r\n1-0\r\n", await c.Cmd("XPENDING", "b", "g"), StringComparison.Ordinal);
        Assert.Equal("*1\r\n" + S("b", E("2-0", "vvvv")), await c.Cmd("XREADGROUP", "GROUP", "g", "c", "MAXSIZE", "10", "STREAMS", "a", "b", ">", ">"));
        // History reads are capped too.
        Assert.Equal("*1\r\n" + S("a", E("1-0", "vvvv"), E("2-0", "vvvv")), await c.Cmd("XREADGROUP", "GROUP", "g", "c", "MAXCOUNT", "2", "STREAMS", "a", "b", "0", "0"));
    }

    [Fact]
    public async Task BadValues_GiveErrors()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await TwoStreams(c);
        Assert.Equal("-ERR MAXCOUNT must be a positive integer\r\n", await c.Cmd("XREAD", "MAXCOUNT", "0", "STREAMS", "a", "0"));
        Assert.Equal("-ERR MAXCOUNT must be a positive integer\r\n", await c.Cmd("XREAD", "MAXCOUNT", "-3", "STREAMS", "a", "0"));
        Assert.Equal("-ERR MAXCOUNT must be a positive integer\r\n", await c.Cmd("XREAD", "MAXCOUNT", "many", "STREAMS", "a", "0"));
        Assert.Equal("-ERR MAXSIZE must be a positive integer\r\n", await c.Cmd("XREAD", "MAXSIZE", "0", "STREAMS", "a", "0"));
        Assert.Equal("-ERR MAXSIZE must be a positive integer\r\n", await c.Cmd("XREADGROUP", "GROUP", "g", "c", "MAXSIZE", "x", "STREAMS", "a", ">"));
    }
}
