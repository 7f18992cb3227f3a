using System.Text.RegularExpressions;
using StreamServer.Configuration;
using StreamServer.Embedded;
using static StreamServer.IntegrationTests.Persistence.AofTestSupport;

namespace StreamServer.IntegrationTests.Persistence;

/// <summary>Streams and consumer groups through the AOF: propagated forms (t_stream.c) and the rewrite (rewriteStreamObject).</summary>
public partial class StreamAofTests
{
    private static ServerOptions StreamOptions(string dir)
    {
        var o = Options(dir);
        o.StreamNodeMaxEntries = 4; // small nodes, so '~' trims remove something
        return o;
    }

    [GeneratedRegex(@"\$(15|16)\r\nradix-tree-(keys|nodes)\r\n:\d+\r\n")]
    private static partial Regex RadixFields();

    [GeneratedRegex(@":-?\d+\r\n(:\d+\r\n)")]
    private static partial Regex IdleThenCount();

    [GeneratedRegex(@":-?\d+\r\n")]
    private static partial Regex Integers();

    private static async Task WriteStreams(int port)
    {
        await using var c = await Connect(port);
        for (var i = 0; i < 10; i++) Assert.StartsWith("$", await c.Cmd("XADD", "s", "*", "n", i.ToString(System.Globalization.CultureInfo.InvariantCulture)), StringComparison.Ordinal);
        Assert.StartsWith("$", await c.Cmd("XADD", "s", "99999999999999-*", "ms", "star"), StringComparison.Ordinal);
        Assert.Equal("$16\r\n99999999999999-1\r\n", await c.Cmd("XADD", "s", "99999999999999-*", "ms", "star2"));
        Assert.StartsWith("$", await c.Cmd("XADD", "s", "MAXLEN", "~", "7", "*", "trim", "approx"), StringComparison.Ordinal);
        Assert.StartsWith("$", await c.Cmd("XADD", "s", "*", "more", "1"), StringComparison.Ordinal);
        var more2 = await c.Cmd("XADD", "s", "*", "more", "2");
        Assert.StartsWith("$", more2, StringComparison.Ordinal);
        var trimmed = await c.Cmd("XTRIM", "s", "MAXLEN", "~", "3", "LIMIT", "4");
        Assert.Matches(@"^:\d+\r\n$", trimmed);
        var first = await c.Cmd("XRANGE", "s", "-", "+", "COUNT", "1");
        Assert.NotEqual("*0\r\n", first);
        Assert.Matches(@"^:\d+\r\n$", await c.Cmd("XTRIM", "s", "MINID", "~", "99999999999999-5"));
        var more3 = await c.Cmd("XADD", "s", "*", "more", "3");
        Assert.StartsWith("$", await c.Cmd("XADD", "s", "*", "more", "4"), StringComparison.Ordinal);
        Assert.Equal(":1\r\n", await c.Cmd("XDEL", "s", more3.Split("\r\n")[1]));
        Assert.Equal("+OK\r\n", await c.Cmd("XSETID", "s", "99999999999999-90"));
        Assert.Equal("$-1\r\n", await c.Cmd("XADD", "nokey", "NOMKSTREAM", "*", "a", "b"));
        // A second stream with an exact MAXLEN and MINID ~ on XADD.
        for (var i = 0; i < 9; i++) await c.Cmd("XADD", "t", (i + 1) + "-1", "k", "v");
        Assert.Equal("$4\r\n10-0\r\n", await c.Cmd("XADD", "t", "MINID", "~", "6-0", "10-*", "k", "v"));
        Assert.Equal("$4\r\n11-0\r\n", await c.Cmd("XADD", "t", "MAXLEN", "=", "5", "11-*", "k", "v"));
    }

    private static async Task<string> StreamState(int port)
    {
        await using var c = await Connect(port);
        var parts = new List<string>();
        foreach (var key in new[] { "s", "t" })
        {
            parts.Add(await c.Cmd("XRANGE", key, "-", "+"));
            parts.Add(RadixFields().Replace(await c.Cmd("XINFO", "STREAM", key), ""));
        }
        parts.Add(await c.Cmd("EXISTS", "nokey"));
        return string.Join("\n", parts);
    }

    private static async Task WriteGroups(int port)
    {
        await using var c = await Connect(port);
        for (var i = 1; i <= 10; i++) await c.Cmd("XADD", "g", i + "-0", "f", "v" + i);
        Assert.Equal("+OK\r\n", await c.Cmd("XGROUP", "CREATE", "g", "grp", "0", "ENTRIESREAD", "0"));
        Assert.Equal("+OK\r\n", await c.Cmd("XGROUP", "CREATE", "g", "other", "$"));
        Assert.StartsWith("*1\r\n", await c.Cmd("XREADGROUP", "GROUP", "grp", "alice", "COUNT", "4", "STREAMS", "g", ">"), StringComparison.Ordinal);
        Assert.Equal(":2\r\n", await c.Cmd("XACK", "g", "grp", "1-0", "2-0"));
        Assert.StartsWith("*1\r\n", await c.Cmd("XREADGROUP", "GROUP", "grp", "bob", "COUNT", "2", "NOACK", "STREAMS", "g", ">"), StringComparison.Ordinal);
        Assert.StartsWith("*1\r\n", await c.Cmd("XREADGROUP", "GROUP", "grp", "bob", "COUNT", "2", "STREAMS", "g", ">"), StringComparison.Ordinal);
        // History read: delivery counts go up.
        Assert.StartsWith("*1\r\n", await c.Cmd("XREADGROUP", "GROUP", "grp", "alice", "STREAMS", "g", "0"), StringComparison.Ordinal);
        Assert.StartsWith("*1\r\n", await c.Cmd("XCLAIM", "g", "grp", "carol", "0", "3-0", "RETRYCOUNT", "7"), StringComparison.Ordinal);
        Assert.StartsWith("*1\r\n", await c.Cmd("XCLAIM", "g", "grp", "carol", "0", "10-0", "FORCE", "JUSTID"), StringComparison.Ordinal);
        Assert.Equal(":1\r\n", await c.Cmd("XDEL", "g", "8-0"));
        var auto = await c.Cmd("XAUTOCLAIM", "g", "grp", "dave", "0", "0", "COUNT", "20", "JUSTID");
        Assert.Contains("8-0", auto, StringComparison.Ordinal); // the deleted entry is dropped from the PEL
        Assert.Equal(":1\r\n", await c.Cmd("XGROUP", "CREATECONSUMER", "g", "grp", "idle"));
        Assert.Equal(":1\r\n", await c.Cmd("XGROUP", "CREATECONSUMER", "g", "other", "gone"));
        Assert.Equal(":0\r\n", await c.Cmd("XGROUP", "DELCONSUMER", "g", "other", "gone"));
        // A blocked reader served later (creates its consumer while blocking).
        await using var blocked = await Connect(port);
        var read = blocked.Cmd("XREADGROUP", "GROUP", "other", "eve", "BLOCK", "0", "STREAMS", "g", ">");
        await Task.Delay(200);
        Assert.Equal("$4\r\n11-0\r\n", await c.Cmd("XADD", "g", "11-0", "f", "late"));
        Assert.StartsWith("*1\r\n", await read, StringComparison.Ordinal);
        // An empty stream with a group.
        Assert.Equal("+OK\r\n", await c.Cmd("XGROUP", "CREATE", "e", "eg", "$", "MKSTREAM"));
    }

    private static async Task<string> GroupState(int port)
    {
        await using var c = await Connect(port);
        var parts = new List<string>();
        foreach (var (key, group) in new[] { ("g", "grp"), ("g", "other"), ("e", "eg") })
        {
            parts.Add(IdleThenCount().Replace(await c.Cmd("XPENDING", key, group, "-", "+", "100"), ":_\r\n$1"));
            parts.Add(await c.Cmd("XPENDING", key, group));
            parts.Add(Integers().Replace(await c.Cmd("XINFO", "CONSUMERS", key, group), ":_\r\n"));
        }
        parts.Add(await c.Cmd("XINFO", "GROUPS", "g"));
        parts.Add(await c.Cmd("XINFO", "GROUPS", "e"));
        parts.Add(await c.Cmd("XRANGE", "g", "-", "+"));
        parts.Add(RadixFields().Replace(await c.Cmd("XINFO", "STREAM", "g"), ""));
        parts.Add(RadixFields().Replace(await c.Cmd("XINFO", "STREAM", "e"), ""));
        return string.Join("\n", parts);
    }

    private static void CheckAof(string dir)
    {
        var check = Run("redis-check-aof", Path.Combine(dir, "appendonlydir", "appendonly.aof.manifest"));
        Assert.Contains("All AOF files and manifest are valid", check.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Streams_SurviveRestart(bool rewrite)
    {
        var dir = NewTempDir();
        string before;
        await using (var server = await EmbeddedServer.StartAsync(StreamOptions(dir)))
        {
            await WriteStreams(server.Port);
            before = await StreamState(server.Port);
            if (rewrite) await BgRewriteAof(server.Port);
        }
        CheckAof(dir);
        var aof = string.Concat(Directory.GetFiles(Path.Combine(dir, "appendonlydir"), "*.aof").Select(File.ReadAllText));
        Assert.DoesNotContain("nokey", aof, StringComparison.Ordinal);
        Assert.DoesNotContain("~", aof, StringComparison.Ordinal);
        await using (var server = await EmbeddedServer.StartAsync(StreamOptions(dir)))
        {
            Assert.Equal(before, await StreamState(server.Port));
        }
        Directory.Delete(dir, true);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ConsumerGroups_SurviveRestart(bool rewrite)
    {
        var dir = NewTempDir();
        string before;
        await using (var server = await EmbeddedServer.StartAsync(StreamOptions(dir)))
        {
            await WriteGroups(server.Port);
            before = await GroupState(server.Port);
            if (rewrite) await BgRewriteAof(server.Port);
        }
        CheckAof(dir);
        var aof = string.Concat(Directory.GetFiles(Path.Combine(dir, "appendonlydir"), "*.aof").Select(File.ReadAllText));
        Assert.DoesNotContain("XREADGROUP", aof, StringComparison.Ordinal);
        Assert.DoesNotContain("XAUTOCLAIM", aof, StringComparison.Ordinal);
        await using (var server = await EmbeddedServer.StartAsync(StreamOptions(dir)))
        {
            Assert.Equal(before, await GroupState(server.Port));
        }
        Directory.Delete(dir, true);
    }
}
