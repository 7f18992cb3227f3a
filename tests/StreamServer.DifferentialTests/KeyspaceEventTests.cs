using System.Text;
using System.Text.RegularExpressions;
using StreamServer.Embedded;
using StreamServer.IntegrationTests.Conformance;
using static StreamServer.DifferentialTests.RespCalls;

namespace StreamServer.DifferentialTests;

/// <summary>
/// Keyspace notifications against redis-server: the same commands on both servers, with a subscriber to every
/// keyspace and keyevent channel, must publish the same messages in the same order. A RESP3 client that subscribes
/// and writes on one connection must also see its replies and the pushes interleaved exactly as Redis does.
/// </summary>
public sealed partial class KeyspaceEventTests : IClassFixture<RedisServerProcess>
{
    private readonly RedisServerProcess _redis;

    public KeyspaceEventTests(RedisServerProcess redis) => _redis = redis;

    private static readonly string[][] Streams =
    [
        ["XADD", "s", "1-1", "a", "1"],
        ["XADD", "s", "MAXLEN", "1", "2-1", "a", "1"],
        ["XADD", "s", "NOMKSTREAM", "3-1", "a", "1"],
        ["XADD", "nos", "NOMKSTREAM", "3-1", "a", "1"],
        ["XADD", "s", "1-1", "a", "1"], // error: no event
        ["XGROUP", "CREATE", "s", "g", "0"],
        ["XGROUP", "CREATE", "s", "g", "0"], // BUSYGROUP
        ["XGROUP", "CREATECONSUMER", "s", "g", "c1"],
        ["XGROUP", "CREATECONSUMER", "s", "g", "c1"],
        ["XREADGROUP", "GROUP", "g", "c2", "COUNT", "1", "STREAMS", "s", ">"],
        ["XREADGROUP", "GROUP", "g", "c2", "COUNT", "1", "STREAMS", "s", ">"],
        ["XCLAIM", "s", "g", "c3", "0", "3-1"],
        ["XAUTOCLAIM", "s", "g", "c4", "0", "0"],
        ["XACK", "s", "g", "3-1"],
        ["XGROUP", "SETID", "s", "g", "0"],
        ["XSETID", "s", "5-0"],
        ["XTRIM", "s", "MAXLEN", "0"],
        ["XTRIM", "s", "MAXLEN", "0"],
        ["XDEL", "s", "9-9"],
        ["XADD", "s", "10-1", "a", "1"],
        ["XDEL", "s", "10-1"],
        ["XGROUP", "DELCONSUMER", "s", "g", "c1"],
        ["XGROUP", "DELCONSUMER", "s", "g", "nobody"],
        ["XGROUP", "DESTROY", "s", "g"],
        ["XGROUP", "DESTROY", "s", "g"],
        ["XGROUP", "CREATE", "t", "g", "$", "MKSTREAM"],
        ["DEL", "t", "s"],
    ];

    private static readonly string[][] Generic =
    [
        ["SET", "a", "1"], ["SET", "a", "2", "EX", "100"], ["SET", "a", "3", "KEEPTTL"], ["SETNX", "a", "4"], ["SETNX", "b", "4"],
        ["SETEX", "c", "100", "v"], ["PSETEX", "d", "100000", "v"], ["GETSET", "a", "9"], ["MSET", "m1", "1", "m2", "2"],
        ["MSETNX", "m1", "1", "m3", "3"], ["MSETNX", "m4", "1", "m5", "3"], ["INCR", "n"], ["INCRBY", "n", "5"], ["DECR", "n"],
        ["DECRBY", "n", "2"], ["INCRBYFLOAT", "f", "1.5"], ["APPEND", "s", "x"], ["APPEND", "s", "y"], ["SETRANGE", "s", "1", "zz"],
        ["SETRANGE", "s", "1", ""], ["SETRANGE", "e", "0", ""], ["GETDEL", "s"], ["GETDEL", "s"], ["GETEX", "a", "EX", "100"],
        ["GETEX", "a", "PERSIST"], ["GETEX", "a", "PERSIST"], ["GETEX", "a", "PXAT", "1"], ["EXPIRE", "b", "100"],
        ["EXPIRE", "b", "100", "NX"], ["PEXPIRE", "b", "-1"], ["EXPIRE", "nokey", "10"], ["SET", "t", "1"], ["PERSIST", "t"],
        ["EXPIRE", "t", "100"], ["PERSIST", "t"], ["RENAME", "t", "t2"], ["SET", "t3", "x"], ["RENAME", "t2", "t3"],
        ["RENAMENX", "t3", "m1"], ["RENAMENX", "t3", "t4"], ["DEL", "t4", "m1", "nokey"], ["UNLINK", "m2"],
        ["HSET", "h", "f", "1", "g", "2"], ["HSET", "h", "f", "1"], ["HSETNX", "h", "f", "1"], ["HSETNX", "h", "z", "1"],
        ["HINCRBY", "h", "n", "3"], ["HINCRBYFLOAT", "h", "x", "1.5"], ["HDEL", "h", "nope"], ["HDEL", "h", "f", "g"],
        ["HDEL", "h", "z", "n", "x"], ["HMSET", "h2", "a", "1"], ["SADD", "st", "a", "b", "c"], ["SADD", "st", "a"],
        ["SREM", "st", "zz"], ["SREM", "st", "a"], ["SPOP", "st"], ["SPOP", "st", "5"], ["SADD", "st2", "a", "b", "c", "d"],
        ["SPOP", "st2", "1"], ["SPOP", "st2", "10"], ["SPOP", "nost"],
        // Last: the one event whose moment depends on the clock (lazy or active expiry), with nothing after it but the GET.
        ["SET", "px", "v", "PX", "1"], ["SLEEP"], ["GET", "px"],
    ];

    /// <summary>Reads of missing keys: which lookups publish "keymiss" (class m) and count as misses.</summary>
    private static readonly string[][] Reads =
    [
        ["GET", "k1"], ["EXISTS", "k2"], ["TYPE", "k3"], ["TTL", "k4"], ["XRANGE", "k5", "-", "+"], ["XREVRANGE", "k6", "+", "-"],
        ["XLEN", "k7"], ["XREAD", "STREAMS", "k8", "0"], ["XINFO", "STREAM", "k9"], ["XPENDING", "k10", "g"], ["HGET", "k11", "f"],
        ["HGETALL", "k12"], ["SMEMBERS", "k13"], ["SCARD", "k14"], ["STRLEN", "k15"], ["MGET", "k16", "k17"],
        ["GETRANGE", "k18", "0", "1"], ["XADD", "k19", "1-1", "a", "1"], ["INCR", "k20"], ["TOUCH", "k21"],
        ["OBJECT", "ENCODING", "k22"], ["XINFO", "GROUPS", "k24"], ["SISMEMBER", "k25", "a"], ["HLEN", "k26"], ["PTTL", "k27"],
        ["EXPIRETIME", "k28"], ["GETEX", "k29"], ["GETDEL", "k30"], ["SET", "k31", "v", "GET"], ["GETSET", "k32", "v"],
        ["XACK", "k33", "g", "1-1"], ["XCLAIM", "k34", "g", "c", "0", "1-1"], ["HMGET", "k35", "a"], ["SRANDMEMBER", "k36"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "k37", ">"], ["MEMORY", "USAGE", "k38"],
    ];

    public static TheoryData<string, string> Cases => new()
    {
        { "streams", "KEA" }, { "streams", "Kt" }, { "streams", "Eg" },
        { "generic", "KEA" }, { "generic", "KEAn" }, { "generic", "E$" }, { "generic", "Kgx" }, { "generic", "Esh" },
        { "reads", "KEm" }, { "reads", "KEAm" },
    };

    /// <summary>Commands whose INFO keyspace_hits/keyspace_misses must move as Redis's do, on existing and missing keys.</summary>
    private static readonly string[][] Lookups =
    [
        ["GET", "str"], ["GET", "nokey"], ["EXISTS", "str", "nokey"], ["TYPE", "s"], ["TTL", "str"], ["XRANGE", "s", "-", "+"],
        ["XRANGE", "nokey", "-", "+"], ["XREVRANGE", "s", "+", "-"], ["XLEN", "s"], ["XLEN", "nokey"],
        ["XREAD", "STREAMS", "s", "nokey", "0", "0"], ["XREAD", "STREAMS", "s", "$"], ["XREAD", "COUNT", "1", "STREAMS", "s", "0"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"], ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"],
        ["XINFO", "STREAM", "s"], ["XINFO", "GROUPS", "s"], ["XINFO", "CONSUMERS", "s", "g"], ["XPENDING", "s", "g"],
        ["XPENDING", "s", "g", "-", "+", "10"], ["XADD", "s", "2-1", "b", "2"], ["XACK", "s", "g", "1-1"], ["XCLAIM", "s", "g", "c", "0", "1-1"],
        ["XAUTOCLAIM", "s", "g", "c", "0", "0"], ["XDEL", "s", "1-1"], ["XTRIM", "s", "MAXLEN", "0"], ["XSETID", "s", "9-9"],
        ["XGROUP", "SETID", "s", "g", "0"], ["XGROUP", "CREATECONSUMER", "s", "g", "c2"], ["HGET", "h", "f"], ["HGET", "nokey", "f"],
        ["HGETALL", "h"], ["HSET", "h", "f2", "v"], ["HINCRBY", "h", "n", "1"], ["SMEMBERS", "st"], ["SISMEMBER", "st", "a"],
        ["SADD", "st", "b"], ["SCARD", "st"], ["STRLEN", "str"], ["MGET", "str", "nokey"], ["GETRANGE", "str", "0", "1"], ["INCR", "n"],
        ["APPEND", "str", "x"], ["SET", "str", "x"], ["SET", "str", "x", "GET"], ["SET", "s", "x", "GET"], ["GETDEL", "str"], ["GETEX", "str"],
        ["TOUCH", "str", "nokey"], ["OBJECT", "ENCODING", "str"], ["OBJECT", "ENCODING", "nokey"], ["MEMORY", "USAGE", "str"],
        ["EXPIRE", "str", "100"], ["PERSIST", "str"], ["RENAME", "str", "str2"], ["DEL", "str"], ["SRANDMEMBER", "st"], ["SPOP", "st"],
        ["HRANDFIELD", "h"], ["HEXISTS", "h", "f"], ["HLEN", "h"], ["HMGET", "h", "f", "x"], ["SSCAN", "st", "0"], ["HSCAN", "h", "0"],
    ];

    [Fact]
    public async Task KeyspaceHitsAndMisses_MoveAsRedisDoes()
    {
        await using var ours = await EmbeddedServer.StartAsync();
        var expected = await HitsAndMissesAsync(_redis.Port);
        var actual = await HitsAndMissesAsync(ours.Port);
        Assert.Contains(expected, line => !line.EndsWith(" 0/0", StringComparison.Ordinal));
        Assert.Equal(expected, actual);
    }

    /// <summary>Per command: "command hits/misses" from INFO stats after it ran alone on a fresh sample data set.</summary>
    private static async Task<List<string>> HitsAndMissesAsync(int port)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var c = await RespConnection.ConnectAsync("127.0.0.1", port, cts.Token);
        var result = new List<string>();
        foreach (var command in Lookups)
        {
            await Call(c, cts.Token, "FLUSHALL");
            await Call(c, cts.Token, "SET", "str", "v");
            await Call(c, cts.Token, "XADD", "s", "1-1", "a", "1");
            await Call(c, cts.Token, "XGROUP", "CREATE", "s", "g", "0");
            await Call(c, cts.Token, "HSET", "h", "f", "v");
            await Call(c, cts.Token, "SADD", "st", "a");
            await Call(c, cts.Token, "CONFIG", "RESETSTAT");
            await c.RoundTripAsync([.. command.Select(Encoding.UTF8.GetBytes)], cts.Token);
            var info = await Call(c, cts.Token, "INFO", "stats");
            result.Add($"{string.Join(' ', command)} {Stat(info, "keyspace_hits")}/{Stat(info, "keyspace_misses")}");
        }
        return result;
    }

    private static string Stat(string info, string name) => Regex.Match(info, name + @":(\d+)").Groups[1].Value;

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Subscriber_ReceivesTheSameEventsAsFromRedis(string script, string classes)
    {
        var commands = script switch { "streams" => Streams, "reads" => Reads, _ => Generic };
        await using var ours = await EmbeddedServer.StartAsync();
        var expected = await EventsAsync(_redis.Port, commands, classes);
        var actual = await EventsAsync(ours.Port, commands, classes);
        Assert.NotEmpty(expected); // the script does produce events for these classes
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task NotifyKeyspaceEvents_ConfigSetAndGet_MatchRedis()
    {
        await using var ours = await EmbeddedServer.StartAsync();
        string[] values = ["KEA", "Ex", "g$lshzxetd", "Kgx", "Q", "", "AKEmn", "lKl", "Kn", "E$lshzxetdm", "Kxq"];
        foreach (var port in new[] { _redis.Port, ours.Port })
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await using var c = await RespConnection.ConnectAsync("127.0.0.1", port, cts.Token);
            var replies = new List<string>();
            foreach (var value in values)
            {
                replies.Add(await Call(c, cts.Token, "CONFIG", "SET", "notify-keyspace-events", value));
                replies.Add(await Call(c, cts.Token, "CONFIG", "GET", "notify-keyspace-events"));
            }
            await Call(c, cts.Token, "CONFIG", "SET", "notify-keyspace-events", "");
            if (port == _redis.Port) _configReplies = replies;
            else Assert.Equal(_configReplies, replies);
        }
    }

    private List<string> _configReplies = [];

    [Theory]
    [InlineData("streams")]
    [InlineData("generic")]
    public async Task Resp3ClientThatWritesAndSubscribes_GetsItsEventsAfterEachReply(string script)
    {
        // Redis 7.0 writes such a push wherever the event happens, even inside the reply (XREADGROUP creating its
        // consumer); Redis 7.2 and later hold it until the reply is written, as RESP3 requires ("never inside"
        // another value). We present 7.2+: the same replies and the same messages per command, each after its reply.
        var commands = script == "streams" ? Streams : Generic;
        await using var ours = await EmbeddedServer.StartAsync();
        var redis = await PerCommandAsync(_redis.Port, commands);
        var actual = await PerCommandAsync(ours.Port, commands);
        Assert.Contains(redis, c => c.Pushes.Count > 0);
        for (var i = 0; i < commands.Length; i++)
        {
            var name = string.Join(' ', commands[i]);
            Assert.True(actual[i].PushesBeforeReply == 0, $"{name}: a message the command caused came before its reply");
            Assert.Equal(redis[i].Reply, actual[i].Reply);
            Assert.Equal(redis[i].Pushes, actual[i].Pushes);
        }
    }

    private sealed record CommandFrames(string Reply, List<string> Pushes, int PushesBeforeReply);

    [GeneratedRegex(@">4\r\n\$8\r\npmessage\r\n\$\d+\r\n[^\r]*\r\n\$\d+\r\n[^\r]*\r\n\$\d+\r\n[^\r]*\r\n")]
    private static partial Regex PushMessage();

    /// <summary>
    /// A RESP3 connection subscribed to every keyspace and keyevent channel runs the commands itself; per command, its
    /// reply (with any message written inside it taken out) and every message it caused: before the reply, inside
    /// it, or after it (a PING after each command marks the end).
    /// </summary>
    private static async Task<List<CommandFrames>> PerCommandAsync(int port, string[][] commands)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var c = await RespConnection.ConnectAsync("127.0.0.1", port, cts.Token);
        await Call(c, cts.Token, "FLUSHALL");
        await Call(c, cts.Token, "HELLO", "3"); // its reply names the server: not compared
        Assert.Equal("+OK\r\n", await Call(c, cts.Token, "CONFIG", "SET", "notify-keyspace-events", "KEA"));
        await Call(c, cts.Token, "PSUBSCRIBE", "__key*__:*");
        var result = new List<CommandFrames>();
        foreach (var command in commands)
        {
            if (command[0] == "SLEEP")
            {
                await Task.Delay(20, cts.Token);
                result.Add(new CommandFrames("", [], 0));
                continue;
            }
            await c.SendRawAsync(RespConnection.Encode([.. command.Select(Encoding.UTF8.GetBytes)]), cts.Token);
            var pushes = new List<string>();
            string reply;
            while (true)
            {
                var frame = Encoding.UTF8.GetString(await c.ReadReplyAsync(cts.Token));
                if (!frame.StartsWith('>')) { reply = frame; break; }
                pushes.Add(frame);
            }
            // Active expiry runs on the server's timer, not in a command: its "expired" may come before any reply.
            var before = pushes.Count(p => !p.Contains("expired", StringComparison.Ordinal));
            var inside = new List<string>();
            var after = new List<string>();
            await c.SendRawAsync(RespConnection.Encode([.. new[] { "PING" }.Select(Encoding.UTF8.GetBytes)]), cts.Token);
            while (true)
            {
                var frame = Encoding.UTF8.GetString(await c.ReadReplyAsync(cts.Token));
                if (frame == "+PONG\r\n") break;
                if (frame.StartsWith('>')) after.Add(frame);
                else reply += frame; // the rest of a reply a message was written into (read as a value of its own)
            }
            foreach (Match m in PushMessage().Matches(reply)) inside.Add(m.Value);
            reply = PushMessage().Replace(reply, "");
            if (command[0] == "SPOP") reply = "(a random member)";
            pushes.AddRange(inside);
            pushes.AddRange(after);
            result.Add(new CommandFrames(Transcript.Escape(Encoding.UTF8.GetBytes(reply)), [.. pushes.Select(p => Transcript.Escape(Encoding.UTF8.GetBytes(p)))], before));
        }
        await Call(c, cts.Token, "CONFIG", "SET", "notify-keyspace-events", "");
        return result;
    }

    /// <summary>What a second connection, subscribed to every keyspace and keyevent channel, receives while the commands run.</summary>
    private static async Task<List<string>> EventsAsync(int port, string[][] commands, string classes)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var writer = await RespConnection.ConnectAsync("127.0.0.1", port, cts.Token);
        await using var subscriber = await RespConnection.ConnectAsync("127.0.0.1", port, cts.Token);
        await Call(writer, cts.Token, "FLUSHALL");
        Assert.Equal("+OK\r\n", await Call(writer, cts.Token, "CONFIG", "SET", "notify-keyspace-events", classes));
        await Call(subscriber, cts.Token, "PSUBSCRIBE", "__key*__:*");
        await Run(writer, commands, cts.Token);
        await Call(writer, cts.Token, "PUBLISH", "__keyevent@0__:end-of-test", "end"); // ordered after every event above
        var events = new List<string>();
        while (true)
        {
            var frame = Encoding.UTF8.GetString(await subscriber.ReadReplyAsync(cts.Token));
            if (frame.Contains("end-of-test", StringComparison.Ordinal)) break;
            events.Add(Transcript.Escape(Encoding.UTF8.GetBytes(frame)));
        }
        await Call(writer, cts.Token, "CONFIG", "SET", "notify-keyspace-events", "");
        return events;
    }

    private static async Task Run(RespConnection c, string[][] commands, CancellationToken ct)
    {
        foreach (var command in commands)
        {
            if (command[0] == "SLEEP") await Task.Delay(20, ct);
            else await c.RoundTripAsync([.. command.Select(Encoding.UTF8.GetBytes)], ct);
        }
    }
}
