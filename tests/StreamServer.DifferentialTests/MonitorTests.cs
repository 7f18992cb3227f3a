using System.Text;
using System.Text.RegularExpressions;
using StreamServer.Embedded;
using StreamServer.IntegrationTests.Conformance;
using static StreamServer.DifferentialTests.RespCalls;

namespace StreamServer.DifferentialTests;

/// <summary>
/// MONITOR against redis-server: the same commands, from two clients, must produce the same lines in the monitor's
/// feed (the timestamps and client ports masked): which commands show, when (EXEC's queued commands as they run,
/// a blocking read when it blocks), in which database, with what escaping and redaction.
/// </summary>
public sealed partial class MonitorTests : IClassFixture<RedisServerProcess>
{
    private readonly RedisServerProcess _redis;

    public MonitorTests(RedisServerProcess redis) => _redis = redis;

    private static readonly string[][] Script =
    [
        ["XADD", "s", "*", "a", "1"],
        ["get", "k"],
        ["SELECT", "2"],
        ["SET", "k", "a\"b c\\d\r\n\t\u0007\u0008\u0001é"],
        ["SELECT", "0"],
        ["CONFIG", "GET", "port"], // admin: not shown
        ["NOSUCHCOMMAND", "x"], // rejected: not shown
        ["GET"], // wrong arity: not shown
        ["AUTH", "nobody", "wrong"], // shown, redacted, though it fails
        ["HELLO", "2", "AUTH", "default", "wrong"],
        ["HELLO", "2", "SETNAME", "feed"],
        ["CLIENT", "SETNAME", "x"],
        ["CLIENT", "LIST"], // admin subcommand: not shown
        ["MULTI"],
        ["SET", "a", "1"], // queued: shown when EXEC runs it
        ["INCR", "n"],
        ["EXEC"],
        ["XREAD", "BLOCK", "50", "STREAMS", "s", "$"], // shown when it blocks
        ["XGROUP", "CREATE", "s", "g", "0"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
        ["XINFO", "HELP"],
        ["DEBUG", "SLEEP", "0"], // admin: not shown
        ["PING"],
    ];

    [Fact]
    public async Task MonitorFeed_ShowsWhatRedisShows()
    {
        await using var ours = await EmbeddedServer.StartAsync();
        var expected = await FeedAsync(_redis.Port);
        var actual = await FeedAsync(ours.Port);
        Assert.True(expected.Count > 10, string.Join('\n', expected));
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task Monitor_TwiceOnOneConnection_RepliesOnceThenResetStopsIt()
    {
        await using var ours = await EmbeddedServer.StartAsync();
        foreach (var port in new[] { _redis.Port, ours.Port })
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await using var monitor = await RespConnection.ConnectAsync("127.0.0.1", port, cts.Token);
            await using var other = await RespConnection.ConnectAsync("127.0.0.1", port, cts.Token);
            Assert.Equal("+OK\r\n", await Call(monitor, cts.Token, "MONITOR"));
            // The second MONITOR has no reply: the next frame is the feed line of the PING below.
            await monitor.SendRawAsync(RespConnection.Encode([.. new[] { "MONITOR" }.Select(Encoding.UTF8.GetBytes)]), cts.Token);
            await Call(other, cts.Token, "PING");
            Assert.EndsWith("\"PING\"\r\n", Encoding.UTF8.GetString(await monitor.ReadReplyAsync(cts.Token)));
            Assert.Equal("+RESET\r\n", await Call(monitor, cts.Token, "RESET"));
            await Call(other, cts.Token, "PING");
            Assert.Equal("+PONG\r\n", await Call(monitor, cts.Token, "PING")); // no feed line before it
        }
    }

    private async Task<List<string>> FeedAsync(int port)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var monitor = await RespConnection.ConnectAsync("127.0.0.1", port, cts.Token);
        await using var a = await RespConnection.ConnectAsync("127.0.0.1", port, cts.Token);
        await using var b = await RespConnection.ConnectAsync("127.0.0.1", port, cts.Token);
        await Call(a, cts.Token, "FLUSHALL");
        Assert.Equal("+OK\r\n", await Call(monitor, cts.Token, "MONITOR"));
        var clientOf = new Dictionary<string, string>
        {
            [ClientId(await Call(a, cts.Token, "CLIENT", "INFO"))] = "a",
            [ClientId(await Call(b, cts.Token, "CLIENT", "INFO"))] = "b",
        };
        var i = 0;
        foreach (var command in Script)
        {
            var c = i++ % 3 == 2 ? b : a; // two clients, so the feed's addresses matter
            await c.RoundTripAsync([.. command.Select(Encoding.UTF8.GetBytes)], cts.Token);
        }
        await Call(a, cts.Token, "ECHO", "end-of-test");
        var lines = new List<string>();
        while (true)
        {
            var line = Encoding.UTF8.GetString(await monitor.ReadReplyAsync(cts.Token));
            if (line.Contains("end-of-test", StringComparison.Ordinal)) break;
            // +1795938425.471090 [0 127.0.0.1:41678] "get" "k": the time and the port are the run's own.
            var m = FeedLine().Match(line);
            Assert.True(m.Success, line);
            lines.Add($"[{m.Groups["db"].Value} {clientOf.GetValueOrDefault(m.Groups["addr"].Value, "?")}] {m.Groups["args"].Value}");
        }
        return lines;
    }

    /// <summary>The addr= field of CLIENT INFO (also what the feed shows).</summary>
    private static string ClientId(string info) => AddrField().Match(info).Groups[1].Value;

    [GeneratedRegex(@"^\+\d{10}\.\d{6} \[(?<db>\d+) (?<addr>[^\]]+)\] (?<args>.*)\r\n$", RegexOptions.Singleline)]
    private static partial Regex FeedLine();

    [GeneratedRegex(@"addr=(\S+)")]
    private static partial Regex AddrField();
}
