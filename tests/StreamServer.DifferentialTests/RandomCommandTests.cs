using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using StreamServer.Embedded;
using StreamServer.IntegrationTests.Conformance;

namespace StreamServer.DifferentialTests;

/// <summary>
/// Live differential run: the same random command sequences go to redis-server and to us, on one connection each,
/// and every reply must be identical (after masking what is legitimately non-deterministic: times, idle counters,
/// the order of set and hash members).
/// </summary>
public sealed partial class RandomCommandTests : IClassFixture<RedisServerProcess>
{
    private readonly RedisServerProcess _redis;

    public RandomCommandTests(RedisServerProcess redis) => _redis = redis;

    public static TheoryData<string, int> Families => new()
    {
        { "strings", 1 }, { "strings", 2 },
        { "keys", 1 }, { "keys", 2 },
        { "sets", 1 },
        { "hashes", 1 },
        { "transactions", 1 },
        { "streams", 1 }, { "streams", 2 }, { "streams", 3 },
        { "groups", 1 }, { "groups", 2 }, { "groups", 3 },
        { "stream-args", 1 }, { "stream-args", 2 }, { "stream-args", 3 }, { "stream-args", 4 },
        // The same generators after HELLO 3 on both connections: RESP3 replies (maps, '_' nulls) are compared.
        { "resp3-streams", 4 }, { "resp3-streams", 5 },
        { "resp3-groups", 4 }, { "resp3-groups", 5 },
        { "resp3-stream-args", 5 }, { "resp3-stream-args", 6 },
    };

    [Theory]
    [MemberData(nameof(Families))]
    public async Task RandomSequence_RepliesMatchRedis(string family, int seed)
    {
        const int Commands = 3000;
        await using var ours = await EmbeddedServer.StartAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var a = await RespConnection.ConnectAsync("127.0.0.1", ours.Port, cts.Token);
        await using var b = await RespConnection.ConnectAsync("127.0.0.1", _redis.Port, cts.Token);
        await b.RoundTripAsync([Encoding.ASCII.GetBytes("FLUSHALL")], cts.Token);
        const string Resp3Prefix = "resp3-";
        var baseFamily = family;
        if (family.StartsWith(Resp3Prefix, StringComparison.Ordinal))
        {
            baseFamily = family[Resp3Prefix.Length..];
            // HELLO's own reply names the server, its version and the connection id: not compared, but it must
            // switch both connections to RESP3 (a map reply).
            byte[][] hello = [Encoding.ASCII.GetBytes("HELLO"), Encoding.ASCII.GetBytes("3")];
            var ha = await a.RoundTripAsync(hello, cts.Token);
            var hb = await b.RoundTripAsync(hello, cts.Token);
            Assert.True(ha[0] == '%' && hb[0] == '%', $"HELLO 3: redis {Transcript.Escape(hb)}, ours {Transcript.Escape(ha)}");
        }

        var generator = new CommandGenerator(baseFamily, new Random(seed * 7919 + baseFamily.Length));
        var mismatches = new List<string>();
        // DIFF_TRACE=dir writes each sequence to dir/family-seed.txt, to replay a divergence by hand.
        var traceDir = Environment.GetEnvironmentVariable("DIFF_TRACE");
        using var trace = traceDir is null ? null : new StreamWriter(Path.Combine(traceDir, $"{family}-{seed}.txt"));
        for (var i = 0; i < Commands && mismatches.Count < 10; i++)
        {
            var command = generator.Next();
            trace?.WriteLine(string.Join(' ', command.Select(c => Transcript.Escape(c))));
            var ra = await a.RoundTripAsync(command, cts.Token);
            var rb = await b.RoundTripAsync(command, cts.Token);
            var na = Normalize(command, ra);
            var nb = Normalize(command, rb);
            if (na != nb)
            {
                var text = string.Join(' ', command.Select(c => Transcript.Escape(c)));
                mismatches.Add($"#{i} > {text}\n  redis: {Transcript.Escape(rb)}\n  ours:  {Transcript.Escape(ra)}");
            }
        }
        Assert.True(mismatches.Count == 0, $"{family}/{seed}: replies differ from redis-server:\n" + string.Join('\n', mismatches));
    }

    /// <summary>Masks what may differ between two correct servers.</summary>
    internal static string Normalize(IReadOnlyList<byte[]> command, byte[] reply)
    {
        var name = Encoding.ASCII.GetString(command[0]).ToUpperInvariant();
        var text = Encoding.Latin1.GetString(reply);
        if (name is "SMEMBERS" or "HGETALL" or "HKEYS" or "HVALS" or "KEYS" or "SINTER" or "SUNION")
        {
            return SortedElements(text);
        }
        // EXEC's array holds the queued commands' replies: it gets every stream mask.
        var exec = name == "EXEC";
        if (exec || name is "XPENDING" or "XINFO" or "XCLAIM" or "XAUTOCLAIM")
        {
            // idle times and delivery timestamps
            text = IdleAfterName().Replace(text, "$1:<t>\r\n");
        }
        if (exec || (name == "XPENDING" && command.Count > 3))
        {
            // extended form: [id, consumer, idle, count] — idle is the third element
            text = ExtendedPendingIdle().Replace(text, "$1:<t>\r\n$2");
        }
        if (exec || name == "XINFO")
        {
            // XINFO STREAM FULL: delivery times and seen-times are unix-time milliseconds.
            text = UnixTimeMs().Replace(text, ":<ms>\r\n");
            // 7.0 vs 7.2+: 7.2 added "active-time" to XINFO STREAM FULL's consumers and "inactive" to XINFO CONSUMERS
            // (redis.io XINFO STREAM / XINFO CONSUMERS history); we present 8.x. Both are dropped, with the field count.
            text = ActiveTimeField().Replace(text, m => FewerFields(m.Groups[1].Value) + "\r\n" + m.Groups[2].Value);
            text = InactiveField().Replace(text, m => FewerFields(m.Groups[1].Value) + "\r\n" + m.Groups[2].Value);
        }
        if (exec || name is "XREAD" or "XREADGROUP")
        {
            // 7.0 vs 7.2+: 7.0 says "Unbalanced XREAD list … an ID or '$'" for both commands; 7.2 (redis#12238) names
            // the command and XREADGROUP's '>', and 8.0 lists XREAD's '+' (redis#13117): "an ID, '+', or '$'".
            text = UnbalancedStreams().Replace(text, "-ERR Unbalanced <command> list of streams\r\n");
        }
        return text;
    }

    /// <summary>A consumer's map or flat array header with one field less.</summary>
    private static string FewerFields(string header) => header[0] == '%'
        ? "%" + (int.Parse(header[1..], CultureInfo.InvariantCulture) - 1).ToString(CultureInfo.InvariantCulture)
        : "*" + (int.Parse(header[1..], CultureInfo.InvariantCulture) - 2).ToString(CultureInfo.InvariantCulture);

    private static string SortedElements(string reply)
    {
        var lines = reply.Split("\r\n");
        if (lines.Length < 2 || lines[0].Length == 0 || lines[0][0] is not ('*' or '~' or '%')) return reply;
        var items = new List<string>();
        for (var i = 1; i + 1 < lines.Length; i += 2) items.Add(lines[i] + "\r\n" + lines[i + 1]);
        items.Sort(StringComparer.Ordinal);
        return lines[0] + "|" + string.Join("|", items);
    }

    [GeneratedRegex(@"(\$(?:4|8|6|8)\r\n(?:idle|inactive|seen-time|active-time|delivery-time)\r\n):-?\d+\r\n")]
    private static partial Regex IdleAfterName();

    [GeneratedRegex(@"(\*4\r\n\$\d+\r\n[^\r]+\r\n\$\d+\r\n[^\r]+\r\n):\d+\r\n(:\d+\r\n)")]
    private static partial Regex ExtendedPendingIdle();

    [GeneratedRegex(@":1\d{12}\r\n")]
    private static partial Regex UnixTimeMs();

    [GeneratedRegex(@"(\*10|%5)\r\n(\$4\r\nname\r\n\$\d+\r\n[^\r]*\r\n\$9\r\nseen-time\r\n:[^\r]*\r\n)\$11\r\nactive-time\r\n:[^\r]*\r\n")]
    private static partial Regex ActiveTimeField();

    [GeneratedRegex(@"(\*8|%4)\r\n(\$4\r\nname\r\n\$\d+\r\n[^\r]*\r\n\$7\r\npending\r\n:\d+\r\n\$4\r\nidle\r\n:[^\r]*\r\n)\$8\r\ninactive\r\n:[^\r]*\r\n")]
    private static partial Regex InactiveField();

    [GeneratedRegex(@"-ERR Unbalanced (?:XREAD|'xread'|'xreadgroup') list of streams: for each stream key an (?:ID or '\$'|ID or '>'|ID, '\+', or '\$') must be specified\.\r\n")]
    private static partial Regex UnbalancedStreams();
}

/// <summary>Random commands over a small key space, so that commands meet each other's data (and errors).</summary>
internal sealed class CommandGenerator
{
    private readonly string _family;
    private readonly Random _r;
    private ulong _ms = 1;
    private readonly Dictionary<string, ulong> _lastSeq = [];

    public CommandGenerator(string family, Random random)
    {
        _family = family;
        _r = random;
    }

    public IReadOnlyList<byte[]> Next()
    {
        var words = _family switch
        {
            "strings" => Strings(),
            "keys" => _r.Next(3) == 0 ? Strings() : Keys(),
            "sets" => _r.Next(5) == 0 ? Keys() : Sets(),
            "hashes" => _r.Next(5) == 0 ? Keys() : Hashes(),
            "transactions" => Transactions(),
            "streams" => _r.Next(8) == 0 ? Keys() : Streams(),
            "groups" => _r.Next(3) == 0 ? Streams() : Groups(),
            "stream-args" => _r.Next(4) == 0 ? StreamSetup() : _r.Next(25) == 0 ? Transaction() : StreamArgs(),
            _ => throw new ArgumentException(_family),
        };
        return words.Select(Encoding.UTF8.GetBytes).ToArray();
    }

    private string Key(string prefix) => prefix + _r.Next(4).ToString(CultureInfo.InvariantCulture);

    private string Value() => _r.Next(6) switch
    {
        0 => _r.Next(-1000, 1000).ToString(CultureInfo.InvariantCulture),
        1 => "",
        2 => "9223372036854775807",
        3 => "1.5",
        _ => "v" + _r.Next(10).ToString(CultureInfo.InvariantCulture),
    };

    private string Int() => _r.Next(8) switch
    {
        0 => "-1",
        1 => "0",
        2 => "abc",
        3 => "9223372036854775807",
        _ => _r.Next(1, 20).ToString(CultureInfo.InvariantCulture),
    };

    private string Pick(params string[] options) => options[_r.Next(options.Length)];

    private string[] Strings() => _r.Next(18) switch
    {
        0 => ["SET", Key("s"), Value()],
        1 => ["SET", Key("s"), Value(), Pick("NX", "XX", "GET", "KEEPTTL")],
        // Expiry times long enough that both servers see the same keys (no race with the clock).
        15 => ["SET", Key("s"), Value(), Pick("EX", "PX"), Pick("100000", "0", "-5", "abc")],
        2 => ["GET", Key("s")],
        3 => ["INCR", Key("s")],
        4 => ["INCRBY", Key("s"), Int()],
        5 => ["DECRBY", Key("s"), Int()],
        6 => ["APPEND", Key("s"), Value()],
        7 => ["STRLEN", Key("s")],
        8 => ["GETRANGE", Key("s"), Int(), Int()],
        9 => ["SETRANGE", Key("s"), Int(), Value()],
        10 => ["MSET", Key("s"), Value(), Key("s"), Value()],
        11 => ["MGET", Key("s"), Key("s"), Key("s")],
        12 => ["GETDEL", Key("s")],
        13 => ["SETNX", Key("s"), Value()],
        14 => ["INCRBYFLOAT", Key("s"), Pick("1.5", "-0.25", "1e3", "abc", "0")],
        16 => ["GETEX", Key("s"), Pick("PERSIST", "EX")],
        _ => ["GETSET", Key("s"), Value()],
    };

    private string[] Keys() => _r.Next(12) switch
    {
        0 => ["DEL", Key("s"), Key("x")],
        1 => ["EXISTS", Key("s"), Key("h"), Key("x")],
        2 => ["TYPE", Key(Pick("s", "h", "t", "x"))],
        3 => ["RENAME", Key(Pick("s", "h", "t", "x")), Key(Pick("s", "h", "t", "x"))],
        4 => ["RENAMENX", Key(Pick("s", "h", "t", "x")), Key(Pick("s", "h", "t", "x"))],
        5 => ["EXPIRE", Key(Pick("s", "h", "t")), Pick("100", "1000", "abc"), Pick("NX", "XX", "GT", "LT")],
        6 => ["TTL", Key(Pick("s", "h", "t"))],
        7 => ["PERSIST", Key(Pick("s", "h", "t"))],
        8 => ["DBSIZE"],
        // OBJECT ENCODING only where 7.0 and the 7.4 we present agree (7.2 made small sets listpack).
        9 => ["OBJECT", "ENCODING", Key("s")],
        10 => ["KEYS", Pick("s*", "h?", "*")],
        _ => ["UNLINK", Key(Pick("s", "h", "t"))],
    };

    private string[] Sets() => _r.Next(9) switch
    {
        0 or 1 => ["SADD", Key("set"), Value(), Value()],
        2 => ["SREM", Key("set"), Value()],
        3 => ["SISMEMBER", Key("set"), Value()],
        4 => ["SMISMEMBER", Key("set"), Value(), Value()],
        5 => ["SCARD", Key("set")],
        6 => ["SMEMBERS", Key("set")],
        7 => ["GET", Key("set")],
        _ => ["TYPE", Key("set")],
    };

    private string[] Hashes() => _r.Next(12) switch
    {
        0 or 1 => ["HSET", Key("h"), "f" + _r.Next(5), Value()],
        2 => ["HGET", Key("h"), "f" + _r.Next(5)],
        3 => ["HDEL", Key("h"), "f" + _r.Next(5)],
        4 => ["HINCRBY", Key("h"), "f" + _r.Next(5), Int()],
        5 => ["HINCRBYFLOAT", Key("h"), "f" + _r.Next(5), Pick("1.5", "-2", "abc", "0.1")],
        6 => ["HLEN", Key("h")],
        7 => ["HGETALL", Key("h")],
        8 => ["HMGET", Key("h"), "f1", "f2"],
        9 => ["HSETNX", Key("h"), "f" + _r.Next(5), Value()],
        10 => ["HEXISTS", Key("h"), "f" + _r.Next(5)],
        _ => ["HSTRLEN", Key("h"), "f" + _r.Next(5)],
    };

    private string[] Transactions() => _r.Next(10) switch
    {
        0 => ["MULTI"],
        1 => ["EXEC"],
        2 => ["DISCARD"],
        3 => ["WATCH", Key("s")],
        4 => ["UNWATCH"],
        5 => ["NOSUCHCOMMAND"],
        6 => ["GET"],
        _ => Strings(),
    };

    private string StreamKey() => Key("t");

    private string NewId(string key)
    {
        // Mostly increasing explicit ids; sometimes an old one (error), sometimes ms-* (deterministic too).
        switch (_r.Next(10))
        {
            case 0:
                return "1-1";
            case 1:
                return (_ms + 1).ToString(CultureInfo.InvariantCulture) + "-*";
            default:
                _ms += (ulong)_r.Next(0, 3);
                var seq = _lastSeq.GetValueOrDefault(key + _ms) + 1;
                _lastSeq[key + _ms] = seq;
                return $"{_ms}-{seq}";
        }
    }

    private string AnyId() => _r.Next(6) switch
    {
        0 => "-",
        1 => "+",
        2 => "0",
        3 => "(" + _r.Next(1, (int)_ms + 2).ToString(CultureInfo.InvariantCulture),
        4 => "abc",
        _ => _r.Next(0, (int)_ms + 2).ToString(CultureInfo.InvariantCulture) + "-" + _r.Next(0, 4).ToString(CultureInfo.InvariantCulture),
    };

    private string ReadId()
    {
        var id = AnyId();
        return id == "+" ? "$" : id;
    }

    private string[] Streams()
    {
        var key = StreamKey();
        return _r.Next(14) switch
        {
            0 or 1 or 2 => ["XADD", key, NewId(key), "f", Value()],
            3 => ["XADD", key, Pick("MAXLEN", "MINID"), Pick("=", "~"), Int(), NewId(key), "a", "1", "b", "2"],
            4 => ["XADD", key, "NOMKSTREAM", NewId(key), "f", "v"],
            5 => ["XRANGE", key, AnyId(), AnyId()],
            6 => ["XRANGE", key, "-", "+", "COUNT", Int()],
            7 => ["XREVRANGE", key, AnyId(), AnyId(), "COUNT", Int()],
            8 => ["XLEN", key],
            9 => ["XDEL", key, AnyId(), AnyId()],
            10 => ["XTRIM", key, Pick("MAXLEN", "MINID"), Pick("=", "~", "5"), Int()],
            // XREAD '+' is 7.4 (the 7.0 oracle rejects it): tested against the docs in the integration tests.
            11 => ["XREAD", "COUNT", Int(), "STREAMS", key, Key("t"), ReadId(), ReadId()],
            12 => ["XSETID", key, AnyId()],
            _ => ["XINFO", "STREAM", key],
        };
    }

    private string[] Groups()
    {
        var key = StreamKey();
        var group = "g" + _r.Next(2).ToString(CultureInfo.InvariantCulture);
        var consumer = "c" + _r.Next(3).ToString(CultureInfo.InvariantCulture);
        return _r.Next(13) switch
        {
            0 => ["XGROUP", "CREATE", key, group, Pick("$", "0", "-"), "MKSTREAM"],
            1 => ["XGROUP", "SETID", key, group, Pick("$", "0", AnyId())],
            2 => ["XGROUP", "DESTROY", key, group],
            3 => ["XGROUP", "CREATECONSUMER", key, group, consumer],
            4 => ["XGROUP", "DELCONSUMER", key, group, consumer],
            5 or 6 => ["XREADGROUP", "GROUP", group, consumer, "COUNT", Int(), "STREAMS", key, Pick(">", ">", "0", AnyId())],
            7 => ["XACK", key, group, AnyId(), AnyId()],
            8 => ["XPENDING", key, group],
            9 => ["XPENDING", key, group, "-", "+", Int()],
            10 => ["XCLAIM", key, group, consumer, "0", AnyId(), "JUSTID"],
            11 => ["XAUTOCLAIM", key, group, consumer, "0", "0", "COUNT", Int(), "JUSTID"],
            _ => ["XINFO", "GROUPS", key],
        };
    }

    // ---- stream-args: argument parsing and error texts of the stream commands (7.0 options only) ----------

    /// <summary>Numbers as a client may mistype them: negative, zero, overflowing, not integers.</summary>
    private string BadNum() => Pick("-1", "0", "1", "2", "5", "100", "abc", "", "1.5", "+1", "01", " 1",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "18446744073709551615");

    /// <summary>
    /// Ids as a client may mistype them, and as Redis's string2ull still reads them (" 1", "+1", "01", "1--01").
    /// Never '*' (a time-based id differs between the servers).
    /// </summary>
    private string BadId() => Pick("18446744073709551615-18446744073709551615", "18446744073709551616", "18446744073709551615",
        "1-18446744073709551615", "18446744073709551615-0", "1-", "-1", "1-abc", "0-0", "0", "0-1", "1", "1-1", "2-3", "abc", "",
        "-", "+", "$", ">", "1-*", "0-*", "18446744073709551615-*", "01-02", " 1", "+1-+1", "1--01", "1--1", "1--0", "(1", "((1", "(-", "(+", "(0-0", "1-2-3", "-1-1");

    private string ArgsStreamKey() => _r.Next(10) == 0 ? "s0" : Key("t");

    /// <summary>Valid writes that give the parsing commands something to find: entries, groups, pending entries.</summary>
    private string[] StreamSetup()
    {
        var key = Key("t");
        return _r.Next(6) switch
        {
            0 or 1 => ["XADD", key, NewId(key), "f", Value()],
            2 => ["XGROUP", "CREATE", key, "g" + _r.Next(2), "0", "MKSTREAM"],
            3 => ["XREADGROUP", "GROUP", "g" + _r.Next(2), "c" + _r.Next(2), "COUNT", "2", "STREAMS", key, ">"],
            4 => ["SET", "s0", "v"],
            _ => ["XTRIM", key, "MAXLEN", "5"],
        };
    }

    /// <summary>The trim options of XADD and XTRIM in any order, with or without their values.</summary>
    private IEnumerable<string> TrimTokens()
    {
        var n = _r.Next(0, 5);
        for (var i = 0; i < n; i++)
        {
            switch (_r.Next(9))
            {
                case 0: yield return Pick("MAXLEN", "MINID"); yield return Pick("=", "~"); yield return _r.Next(2) == 0 ? BadNum() : BadId(); break;
                case 1: yield return Pick("MAXLEN", "MINID"); yield return _r.Next(2) == 0 ? BadNum() : BadId(); break;
                case 2: yield return "LIMIT"; yield return BadNum(); break;
                case 3: yield return Pick("maxlen", "minid", "limit", "LIMIT", "MAXLEN"); break;
                case 4: yield return "NOMKSTREAM"; break;
                case 5: yield return Pick("~", "=", "NOSUCHOPTION", "COUNT"); break;
                case 6: yield return BadNum(); break;
                default: yield return "MAXLEN"; yield return "~"; yield return Pick("0", "1", "2"); yield return "LIMIT"; yield return BadNum(); break;
            }
        }
    }

    private string[] StreamArgs()
    {
        var key = ArgsStreamKey();
        var group = "g" + _r.Next(3);
        var consumer = "c" + _r.Next(2);
        List<string> words = _r.Next(30) switch
        {
            0 or 1 => ["XADD", key, .. TrimTokens(), _r.Next(3) == 0 ? NewId(key) : BadId(), .. Pick("f v", "f", "", "f v g", "f v g w").Split(' ', StringSplitOptions.RemoveEmptyEntries)],
            2 => ["XTRIM", key, .. TrimTokens()],
            3 => ["XRANGE", key, BadId(), BadId(), .. Maybe("COUNT", BadNum())],
            4 => ["XREVRANGE", key, BadId(), BadId(), .. Maybe(Pick("COUNT", "count", "LIMIT"), BadNum())],
            5 => ["XREAD", .. ReadOptions(group: false), .. ReadStreams(group: false)],
            6 => ["XREADGROUP", .. ReadOptions(group: true), .. ReadStreams(group: true)],
            7 => ["XDEL", key, BadId(), .. Maybe(BadId())],
            8 => ["XSETID", key, BadId(), .. Maybe("ENTRIESADDED", BadNum()), .. Maybe("MAXDELETEDID", BadId()), .. Maybe(Pick("ENTRIESADDED", "MAXDELETEDID", "junk"))],
            9 => ["XGROUP", "CREATE", key, group, BadId(), .. Maybe("MKSTREAM"), .. Maybe("ENTRIESREAD", BadNum()), .. Maybe(Pick("MKSTREAM", "ENTRIESREAD", "junk"))],
            10 => ["XGROUP", "SETID", key, group, BadId(), .. Maybe("ENTRIESREAD", BadNum()), .. Maybe(Pick("ENTRIESREAD", "junk"))],
            11 => ["XGROUP", Pick("CREATECONSUMER", "DELCONSUMER", "DESTROY", "NOSUCH", "HELP"), key, group, .. Maybe(consumer), .. Maybe("extra")],
            12 => ["XINFO", "STREAM", key, .. Maybe(Pick("FULL", "full", "COUNT")), .. Maybe(Pick("COUNT", "FULL")), .. Maybe(BadNum())],
            13 => ["XINFO", Pick("GROUPS", "CONSUMERS", "NOSUCH"), key, .. Maybe(group), .. Maybe("extra")],
            14 => ["XAUTOCLAIM", key, group, consumer, BadNum(), BadId(), .. Maybe(Pick("COUNT", "count"), BadNum()), .. Maybe(Pick("JUSTID", "junk", "COUNT"))],
            15 or 16 => ["XCLAIM", key, group, consumer, BadNum(), BadId(), .. Maybe(BadId()), .. ClaimOptions()],
            17 => ["XPENDING", key, group, .. Maybe("IDLE", BadNum()), .. Maybe(BadId(), BadId()), .. Maybe(BadNum()), .. Maybe(consumer), .. Maybe("extra")],
            18 => ["XACK", key, group, BadId(), .. Maybe(BadId())],
            19 => [Pick("XLEN", "XINFO", "XGROUP", "XADD", "XRANGE", "XACK", "XCLAIM", "XAUTOCLAIM", "XPENDING", "XSETID", "XTRIM", "XDEL", "XREAD", "XREADGROUP"), .. Maybe(key), .. Maybe(group)],
            20 => [Pick("GET", "INCR", "APPEND", "SADD", "HSET", "SCARD", "HGETALL", "STRLEN"), Key("t"), .. Maybe("x", "y")],
            21 => ["XLEN", key],
            22 => ["TYPE", key],
            23 => ["XGROUP", "CREATE", key, group, Pick("$", "0"), .. Maybe("MKSTREAM"), "ENTRIESREAD", BadNum()],
            24 => ["XINFO", "STREAM", key, "FULL", "COUNT", BadNum()],
            25 => ["XADD", key, Pick("MAXLEN", "MINID"), Pick("~", "="), BadNum(), "LIMIT", BadNum(), NewId(key), "f", "v"],
            // Well-formed group commands on live ids, so that the options act (idle thresholds far from the clock).
            26 => ["XCLAIM", key, group, consumer, Pick("0", "100000"), AnyId(), AnyId(), .. Maybe("IDLE", Pick("0", "5000")),
                .. Maybe("RETRYCOUNT", Pick("0", "3")), .. Maybe("FORCE"), .. Maybe("JUSTID"), .. Maybe("LASTID", AnyId())],
            27 => ["XPENDING", key, group, .. Maybe("IDLE", Pick("0", "1000", "100000")), AnyId(), AnyId(), Pick("1", "10"), .. Maybe(consumer)],
            28 => ["XAUTOCLAIM", key, group, consumer, Pick("0", "100000"), AnyId(), .. Maybe("COUNT", Pick("1", "2", "100")), .. Maybe("JUSTID")],
            _ => ["XACK", key, group, AnyId(), .. Maybe(AnyId())],
        };
        return [.. words];
    }

    private bool _inMulti;

    /// <summary>
    /// MULTI / EXEC / DISCARD, and inside a transaction a valid BLOCK (which EXEC runs without blocking), so that the
    /// stream commands' parse errors meet EXECABORT and their replies sit in EXEC's array.
    /// </summary>
    private string[] Transaction()
    {
        if (!_inMulti)
        {
            _inMulti = true;
            return ["MULTI"];
        }
        switch (_r.Next(4))
        {
            case 0:
                _inMulti = false;
                return [Pick("EXEC", "EXEC", "DISCARD")];
            case 1:
                return ["XREAD", .. Maybe("COUNT", "1"), "BLOCK", Pick("0", "100"), "STREAMS", Key("t"), Pick("$", "0")];
            default:
                return ["XREADGROUP", "GROUP", "g" + _r.Next(2), "c0", "BLOCK", Pick("0", "100"), "STREAMS", Key("t"), Pick(">", "0")];
        }
    }

    /// <summary>The words, or (half the time) nothing.</summary>
    private string[] Maybe(params string[] words) => _r.Next(2) == 0 ? words : [];

    /// <summary>XREAD/XREADGROUP options; BLOCK only with values that fail, so that nothing ever blocks here.</summary>
    private IEnumerable<string> ReadOptions(bool group)
    {
        if (group && _r.Next(6) != 0)
        {
            yield return "GROUP";
            yield return "g" + _r.Next(3);
            if (_r.Next(8) != 0) yield return "c" + _r.Next(2);
        }
        var n = _r.Next(0, 4);
        for (var i = 0; i < n; i++)
        {
            switch (_r.Next(6))
            {
                case 0: yield return Pick("COUNT", "count"); yield return BadNum(); break;
                case 1:
                    // Not 9223372036854775807: 7.0 lets now + timeout overflow and goes on, 7.2 answers "timeout is out
                    // of range" (redis#11338); StreamArgumentParsingTests covers ours.
                    yield return "BLOCK"; yield return Pick("-1", "abc", "1.5", "", "-9223372036854775808"); break;
                case 2: yield return "NOACK"; break;
                case 3: yield return Pick("GROUP", "NOSUCH", "COUNT", "BLOCK"); break;
                case 4: yield return "GROUP"; yield return "g0"; yield return "c0"; break;
                default: yield return "COUNT"; yield return "1"; break;
            }
        }
    }

    private IEnumerable<string> ReadStreams(bool group)
    {
        if (_r.Next(10) == 0) yield break;
        yield return _r.Next(12) == 0 ? "streams" : "STREAMS";
        var keys = _r.Next(0, 3);
        for (var i = 0; i < keys; i++) yield return ArgsStreamKey();
        var ids = _r.Next(4) == 0 ? _r.Next(0, 4) : keys;
        for (var i = 0; i < ids; i++)
        {
            var id = _r.Next(3) == 0 ? Pick("$", ">", "0") : BadId();
            // '$' on XREAD blocks with BLOCK only (never valid here); '+' is 7.4's.
            yield return id == "+" ? "0" : id;
        }
    }

    private IEnumerable<string> ClaimOptions()
    {
        var n = _r.Next(0, 4);
        for (var i = 0; i < n; i++)
        {
            switch (_r.Next(8))
            {
                case 0: yield return "IDLE"; yield return BadNum(); break;
                case 1: yield return "TIME"; yield return BadNum(); break;
                case 2: yield return "RETRYCOUNT"; yield return BadNum(); break;
                case 3: yield return "LASTID"; yield return BadId(); break;
                case 4: yield return "FORCE"; break;
                case 5: yield return "JUSTID"; break;
                case 6: yield return Pick("IDLE", "TIME", "RETRYCOUNT", "LASTID", "NOSUCH", "force"); break;
                default: yield return BadId(); break;
            }
        }
    }
}
