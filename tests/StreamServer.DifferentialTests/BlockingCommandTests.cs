using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using StreamServer.Embedded;
using StreamServer.IntegrationTests.Conformance;

namespace StreamServer.DifferentialTests;

/// <summary>
/// Blocking reads, differentially: on each server one connection blocks (XREAD / XREADGROUP BLOCK) and another
/// writes once both servers report the reader blocked; the blocked reader's reply must match redis-server's. A reader
/// that neither write wakes is released with CLIENT UNBLOCK, so that no scenario waits on the clock except the
/// short-timeout ones, whose writer does nothing.
/// </summary>
public sealed partial class BlockingCommandTests : IClassFixture<RedisServerProcess>
{
    /// <summary>How long a write has to wake (or not wake) a reader before both are compared as they are.</summary>
    private static readonly TimeSpan WakeGrace = TimeSpan.FromMilliseconds(40);

    private readonly RedisServerProcess _redis;

    public BlockingCommandTests(RedisServerProcess redis) => _redis = redis;

    /// <summary>One server's pair of connections.</summary>
    private sealed record Side(string Name, RespConnection Reader, RespConnection Writer, byte[] ReaderId);

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 2)]
    [InlineData(3, 3)]
    [InlineData(4, 3)]
    public async Task BlockedReader_RepliesMatchRedis(int seed, int protocol)
    {
        const int Scenarios = 120;
        await using var ours = await EmbeddedServer.StartAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = cts.Token;
        await using var ar = await RespConnection.ConnectAsync("127.0.0.1", ours.Port, ct);
        await using var aw = await RespConnection.ConnectAsync("127.0.0.1", ours.Port, ct);
        await using var br = await RespConnection.ConnectAsync("127.0.0.1", _redis.Port, ct);
        await using var bw = await RespConnection.ConnectAsync("127.0.0.1", _redis.Port, ct);
        await bw.RoundTripAsync(Words("FLUSHALL"), ct);
        if (protocol == 3)
        {
            // Only the readers speak RESP3 (HELLO's own reply names the server: not compared); writers parse INFO.
            foreach (var reader in new[] { ar, br }) Assert.Equal((byte)'%', (await reader.RoundTripAsync(Words("HELLO", "3"), ct))[0]);
        }
        var a = new Side("ours", ar, aw, await ClientId(ar, ct));
        var b = new Side("redis", br, bw, await ClientId(br, ct));

        var generator = new BlockingGenerator(new Random(seed * 7919));
        var mismatches = new List<string>();
        var blockedScenarios = 0;
        var traceDir = Environment.GetEnvironmentVariable("DIFF_TRACE");
        using var trace = traceDir is null ? null : new StreamWriter(Path.Combine(traceDir, $"blocking-{seed}-resp{protocol}.txt"));
        for (var i = 0; i < Scenarios && mismatches.Count < 10; i++)
        {
            var scenario = generator.Next();
            foreach (var command in scenario.Setup) await Both(a.Writer, b.Writer, command, $"#{i} setup", mismatches, trace, ct);

            trace?.WriteLine("reader> " + Text(scenario.Read));
            var read = RespConnection.Encode(scenario.Read);
            await a.Reader.SendRawAsync(read, ct);
            await b.Reader.SendRawAsync(read, ct);
            var blockedA = await WaitBlockedOrReplied(a, ct);
            var blockedB = await WaitBlockedOrReplied(b, ct);
            if (blockedA && blockedB)
            {
                blockedScenarios++;
                foreach (var command in scenario.Writes) await Both(a.Writer, b.Writer, command, $"#{i} write", mismatches, trace, ct);
                var grace = scenario.Expires ? TimeSpan.FromSeconds(2) : WakeGrace;
                await WaitForReplies(a, b, grace, ct);
            }
            // A reader still blocked (nothing woke it, or it is blocked on one side only) is released.
            var stillA = !a.Reader.HasPendingData && await Unblock(a, scenario.UnblockWithError, ct);
            var stillB = !b.Reader.HasPendingData && await Unblock(b, scenario.UnblockWithError, ct);
            var replyA = await a.Reader.ReadReplyAsync(ct);
            var replyB = await b.Reader.ReadReplyAsync(ct);
            var na = BlockedOutcome((stillA ? "[released] " : "") + RandomCommandTests.Normalize(scenario.Read, replyA));
            var nb = BlockedOutcome((stillB ? "[released] " : "") + RandomCommandTests.Normalize(scenario.Read, replyB));
            trace?.WriteLine("reader< " + nb);
            // What the read left behind: groups, consumers and pending entries of its first key.
            foreach (var command in scenario.Observe) await Both(a.Writer, b.Writer, command, $"#{i} after", mismatches, trace, ct);
            if (na != nb)
            {
                var writes = string.Join(" ; ", scenario.Writes.Select(Text));
                mismatches.Add($"#{i} reader> {Text(scenario.Read)} (blocked: redis {blockedB}, ours {blockedA}; then {writes})\n  redis: {Escape(nb)}\n  ours:  {Escape(na)}");
            }
        }
        Assert.True(mismatches.Count == 0, $"blocking/{seed}/resp{protocol}: replies differ from redis-server:\n" + string.Join('\n', mismatches));
        // The run must have exercised blocking, not only immediate replies.
        Assert.True(blockedScenarios >= Scenarios / 4, $"only {blockedScenarios} of {Scenarios} scenarios blocked");
    }

    private static async Task Both(RespConnection a, RespConnection b, IReadOnlyList<byte[]> command, string where, List<string> mismatches, StreamWriter? trace, CancellationToken ct)
    {
        trace?.WriteLine("writer> " + Text(command));
        var ra = RandomCommandTests.Normalize(command, await a.RoundTripAsync(command, ct));
        var rb = RandomCommandTests.Normalize(command, await b.RoundTripAsync(command, ct));
        if (ra != rb) mismatches.Add($"{where} > {Text(command)}\n  redis: {Escape(rb)}\n  ours:  {Escape(ra)}");
    }

    /// <summary>Polls until the reader is blocked (true) or its reply is arriving (false).</summary>
    private static async Task<bool> WaitBlockedOrReplied(Side side, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < deadline)
        {
            if (side.Reader.HasPendingData) return false;
            var info = Encoding.ASCII.GetString(await side.Writer.RoundTripAsync(Words("INFO", "clients"), ct));
            if (BlockedClients().Match(info) is { Success: true } m && m.Groups[1].Value != "0") return true;
            await Task.Delay(1, ct);
        }
        throw new TimeoutException($"{side.Name}: the reader neither blocked nor replied");
    }

    /// <summary>Waits until both readers have a reply, or <paramref name="grace"/> has passed.</summary>
    private static async Task WaitForReplies(Side a, Side b, TimeSpan grace, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + grace;
        while (DateTime.UtcNow < deadline && !(a.Reader.HasPendingData && b.Reader.HasPendingData)) await Task.Delay(1, ct);
    }

    /// <summary>CLIENT UNBLOCK for the reader; true when it was blocked (its reply then is the timeout's, or the UNBLOCKED error).</summary>
    private static async Task<bool> Unblock(Side side, bool withError, CancellationToken ct)
    {
        var reply = await side.Writer.RoundTripAsync([.. Words("CLIENT", "UNBLOCK"), side.ReaderId, .. Words(withError ? "ERROR" : "TIMEOUT")], ct);
        return reply.AsSpan().SequenceEqual(":1\r\n"u8);
    }

    private static async Task<byte[]> ClientId(RespConnection c, CancellationToken ct)
    {
        var reply = Encoding.ASCII.GetString(await c.RoundTripAsync(Words("CLIENT", "ID"), ct));
        return Encoding.ASCII.GetBytes(reply[1..^2]);
    }

    /// <summary>
    /// 7.0 vs 7.2+: a reader woken by an XADD whose entry is already gone (XADD … MAXLEN 0) gets, in 7.0, its stream
    /// with no entries (<c>[[key, []]]</c>); since 7.2 the woken command runs again (redis#11012), finds nothing
    /// and keeps waiting, as ours does, until CLIENT UNBLOCK releases it. Both read as "nothing served".
    /// </summary>
    private static string BlockedOutcome(string reply)
        => reply is "[released] *-1\r\n" or "[released] _\r\n" || OneEmptyStream().IsMatch(reply) ? "<nothing served>" : reply;

    private static string Escape(string text) => Transcript.Escape(Encoding.Latin1.GetBytes(text));

    private static byte[][] Words(params string[] words) => words.Select(Encoding.UTF8.GetBytes).ToArray();

    private static string Text(IReadOnlyList<byte[]> command) => string.Join(' ', command.Select(c => Transcript.Escape(c)));

    [GeneratedRegex(@"^(?:\*1\r\n\*2|%1)\r\n\$\d+\r\n[^\r]*\r\n\*0\r\n$")]
    private static partial Regex OneEmptyStream();

    [GeneratedRegex(@"blocked_clients:(\d+)")]
    private static partial Regex BlockedClients();
}

/// <summary>One blocking scenario: writes that prepare it, the blocking read, and the writes made while it blocks.</summary>
internal sealed record BlockingScenario(IReadOnlyList<byte[]>[] Setup, IReadOnlyList<byte[]> Read, IReadOnlyList<byte[]>[] Writes, bool Expires, bool UnblockWithError)
{
    public IReadOnlyList<byte[]>[] Observe { get; init; } = [];
}

/// <summary>
/// Blocking reads over three stream keys and one string key. Ids are explicit and increase across all keys, so both
/// servers hold the same entries. BLOCK is 0 or 5000 ms (released by a write or CLIENT UNBLOCK long before it ends),
/// or 100 ms with no write at all, so that no reply depends on a race with the clock.
/// </summary>
internal sealed class BlockingGenerator
{
    private readonly Random _r;
    private ulong _ms = 1;
    private readonly List<string> _retyped = [];

    public BlockingGenerator(Random random) => _r = random;

    private string Pick(params string[] options) => options[_r.Next(options.Length)];

    private string StreamKey() => "b" + _r.Next(3).ToString(CultureInfo.InvariantCulture);

    private string NextId() => (_ms++).ToString(CultureInfo.InvariantCulture) + "-1";

    private string OldId() => _r.Next(1, (int)_ms + 1).ToString(CultureInfo.InvariantCulture) + "-" + _r.Next(0, 2).ToString(CultureInfo.InvariantCulture);

    public BlockingScenario Next()
    {
        var setup = new List<string[]>();
        // A stream key the last scenario made a string goes, or WRONGTYPE would answer most reads from then on.
        foreach (var key in _retyped) setup.Add(["DEL", key]);
        _retyped.Clear();
        for (var n = _r.Next(0, 3); n > 0; n--) setup.Add(SetupWrite());

        var keys = Enumerable.Range(0, _r.Next(1, 4)).Select(_ => _r.Next(12) == 0 ? "bs" : StreamKey()).Distinct().ToList();
        var timeout = Pick("0", "0", "5000", "5000", "100");
        var expires = timeout == "100";
        var count = _r.Next(3) == 0 ? [] : new[] { "COUNT", Pick("1", "2") };
        string[] read;
        if (_r.Next(2) == 0)
        {
            var ids = keys.Select(_ => Pick("$", "$", "$", "$", "0", OldId()));
            read = ["XREAD", .. count, "BLOCK", timeout, "STREAMS", .. keys, .. ids];
        }
        else
        {
            // Mostly with the group in place (BUSYGROUP when it is already), so that most reads get to block.
            foreach (var key in keys.Where(k => k != "bs" && _r.Next(4) != 0)) setup.Add(["XGROUP", "CREATE", key, "g0", "$", "MKSTREAM"]);
            var noAck = _r.Next(4) == 0 ? new[] { "NOACK" } : [];
            var ids = keys.Select(_ => Pick(">", ">", ">", ">", "0"));
            read = ["XREADGROUP", "GROUP", "g0", Pick("c0", "c1"), .. count, .. noAck, "BLOCK", timeout, "STREAMS", .. keys, .. ids];
        }

        var writes = new List<string[]>();
        if (!expires)
        {
            var key = _r.Next(4) == 0 ? StreamKey() : keys[_r.Next(keys.Count)];
            switch (_r.Next(21))
            {
                case 0 or 1 or 2: writes.Add(["XADD", key, NextId(), "f", "v"]); break;
                case 3: writes.Add(["XADD", key, "NOMKSTREAM", NextId(), "f", "v"]); break;
                case 4: writes.Add(["XDEL", key, OldId()]); break;
                case 5: writes.Add(["XGROUP", "DESTROY", key, "g0"]); break;
                case 6: writes.Add(["DEL", key]); break;
                case 7: writes.Add(["XTRIM", key, "MAXLEN", "0"]); break;
                case 8: writes.Add(["XGROUP", "SETID", key, "g0", Pick("$", "0")]); break;
                case 9:
                    writes.Add(["MULTI"]);
                    writes.Add(["XADD", key, NextId(), "f", "v"]);
                    writes.Add(["XADD", key, NextId(), "g", "w"]);
                    writes.Add(["EXEC"]);
                    break;
                case 10:
                    writes.Add(["SET", key, "x"]);
                    _retyped.Add(key);
                    break;
                // An entry gone before the reader is served: 7.0 serves XREAD an empty stream (masked, see
                // BlockedOutcome). Not for XREADGROUP, where 7.0's empty serve also creates the consumer, a state
                // 7.2+ (which re-runs the read and keeps waiting, redis#11012) never reaches.
                case 11 when read[0] == "XREAD": writes.Add(["XADD", key, "MAXLEN", "0", NextId(), "f", "v"]); break;
                case 12: writes.Add(["RENAME", StreamKey(), key]); break;
                case 13:
                    // The new entry is consumed inside the transaction, before the blocked reader is served.
                    writes.Add(["MULTI"]);
                    writes.Add(["XADD", key, NextId(), "f", "v"]);
                    writes.Add(["XREADGROUP", "GROUP", "g0", "c9", "STREAMS", key, ">"]);
                    writes.Add(["EXEC"]);
                    break;
                case 14: writes.Add(["FLUSHDB"]); break;
                case 18: writes.Add(["XGROUP", "CREATE", key, "g1", "$", "MKSTREAM"]); break;
                case 19: writes.Add(["XGROUP", "CREATECONSUMER", key, "g0", "c1"]); break;
                case 16:
                    // Deleted and created again before the reader is served.
                    writes.Add(["MULTI"]);
                    writes.Add(["DEL", key]);
                    writes.Add(["XADD", key, NextId(), "f", "v"]);
                    writes.Add(["EXEC"]);
                    break;
                case 17:
                    writes.Add(["MULTI"]);
                    writes.Add(["XGROUP", "DESTROY", key, "g0"]);
                    writes.Add(["XGROUP", "CREATE", key, "g0", "0"]);
                    writes.Add(["XADD", key, NextId(), "f", "v"]);
                    writes.Add(["EXEC"]);
                    break;
                case 15:
                    writes.Add(["XADD", StreamKey(), NextId(), "f", "v"]);
                    writes.Add(["XADD", key, NextId(), "f", "v"]);
                    break;
                default: break; // nothing: CLIENT UNBLOCK releases the reader
            }
        }
        // CLIENT UNBLOCK … ERROR now and then, but not where 7.0 serves an empty stream (see BlockedOutcome).
        var unblockWithError = _r.Next(3) == 0 && !writes.Any(w => w.Contains("MAXLEN"));
        string[][] observe = [["XINFO", "GROUPS", keys[0]], ["XINFO", "CONSUMERS", keys[0], "g0"], ["XPENDING", keys[0], "g0"]];
        return new BlockingScenario(setup.Select(Bytes).ToArray(), Bytes(read), writes.Select(Bytes).ToArray(), expires, unblockWithError)
        {
            Observe = observe.Select(Bytes).ToArray(),
        };
    }

    private string[] SetupWrite()
    {
        var key = StreamKey();
        return _r.Next(7) switch
        {
            0 or 1 => ["XADD", key, NextId(), "f", "v"],
            2 => ["XGROUP", "CREATE", key, "g0", Pick("$", "0"), "MKSTREAM"],
            3 => ["DEL", key],
            4 => ["XTRIM", key, "MAXLEN", "1"],
            5 => ["XGROUP", "DESTROY", key, "g0"],
            _ => ["SET", "bs", "v"],
        };
    }

    private static IReadOnlyList<byte[]> Bytes(string[] words) => words.Select(Encoding.UTF8.GetBytes).ToArray();
}
