using System.Globalization;
using System.Text;
using StreamServer.Embedded;
using StreamServer.IntegrationTests.Conformance;
using StreamServer.Persistence;
using static StreamServer.IntegrationTests.Persistence.AofTestSupport;

namespace StreamServer.IntegrationTests.Persistence;

/// <summary>
/// The rewrite's snapshot is taken in steps between batches (AofRewriter): here the test takes each step itself, in
/// steps of a few slots, and runs a seeded mix of writes between steps, so they hit entries ahead of the cursor and
/// behind it. The base must then hold exactly the keyspace as at BGREWRITEAOF (each key once), and base plus the new
/// incremental file exactly the live keyspace at the end.
/// </summary>
public class ChunkedSnapshotTests
{
    private const int Databases = 3;

    [Theory]
    [InlineData(1, AofRewriter.SnapshotFromEntries)]
    [InlineData(2, AofRewriter.SnapshotFromEntries)]
    [InlineData(3, AofRewriter.SnapshotFromEntries)]
    [InlineData(4, 1)] // every set and hash is handed over as a snapshot (CollectionObject), as large ones are
    public async Task Rewrite_InSmallSteps_UnderRandomWrites_BaseIsTheSnapshot_BasePlusIncrIsTheLiveKeyspace(int seed, int snapshotFromEntries)
    {
        var dir = NewTempDir();
        var random = new Random(seed);
        var keyNames = new KeyNames();
        string atStart, live;
        AofRewriter rewriter;
        (long From, long To) snapshotWindow;
        var steps = 0;
        var options = Options(dir, "no");
        options.StreamNodeMaxEntries = 4;
        await using (var server = await EmbeddedServer.StartAsync(options))
        {
            var aof = server.Runtime.Aof;
            var dispatcher = server.Runtime.Dispatcher;
            await using var c = await Connect(server.Port);
            await Fill(c, random);
            // Free slots behind and ahead of where the cursor will be, so the writes below reuse them.
            for (var i = 0; i < 60; i++) await c.Cmd("DEL", keyNames.Any(random));
            var expiresAt = await ExpireSome(c, random, keyNames, 40, shortMs: 1000);
            var dumpStarted = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            atStart = await Dump(c);

            aof.RewriteChunkSlotsForTests = 7;
            aof.RewriteManualStepsForTests = true;
            aof.RewriteSnapshotFromEntriesForTests = snapshotFromEntries;
            Assert.Equal("+Background append only file rewriting started\r\n", await c.Cmd("BGREWRITEAOF"));
            snapshotWindow = (dumpStarted, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            rewriter = (await dispatcher.InvokeAsync(() => aof.RewriterForTests))!;
            var flushed = false;
            while (await dispatcher.InvokeAsync(() => aof.RewriterForTests is not null))
            {
                // The rewrite thread asks for the next step once it has the previous one.
                if (!await dispatcher.InvokeAsync(rewriter.StepForTests))
                {
                    await Task.Delay(1);
                    continue;
                }
                steps++;
                for (var n = 0; n < 6; n++) expiresAt = Math.Max(expiresAt, await RandomWrite(c, random, keyNames));
                if (!flushed && steps == 60)
                {
                    // Database 2 is walked last: its table goes while the walk is in database 0 or 1.
                    flushed = true;
                    await c.Cmd("SELECT", "2");
                    Assert.Equal("+OK\r\n", await c.Cmd("FLUSHDB"));
                    await c.Cmd("SET", "after-flush", "1");
                    await c.Cmd("SELECT", "0");
                }
            }
            Assert.Contains("aof_last_bgrewrite_status:ok", await c.Cmd("INFO", "persistence"), StringComparison.Ordinal);
            // Keys given a short time have gone on both sides before the comparison.
            var wait = expiresAt - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 100;
            if (wait > 0) await Task.Delay((int)wait);
            live = await Dump(c);
        }
        Assert.True(steps > 100, $"only {steps} steps");
        Assert.True(rewriter.CapturedCount > 20, $"only {rewriter.CapturedCount} entries were written before a change");

        // The base alone: the keyspace as at BGREWRITEAOF (less what has expired since), every key in one run of commands.
        var manifest = AofFiles.ReadManifest(Path.Combine(dir, "appendonlydir"), "appendonly.aof")!;
        var basePath = Path.Combine(dir, "appendonlydir", manifest.Base!.Name);
        AssertBaseHoldsTheSnapshotsKeys(basePath, atStart, snapshotWindow);
        var baseOnly = NewTempDir();
        Directory.CreateDirectory(Path.Combine(baseOnly, "appendonlydir"));
        File.Copy(basePath, Path.Combine(baseOnly, "appendonlydir", manifest.Base.Name));
        AofFiles.WriteManifest(Path.Combine(baseOnly, "appendonlydir"), new AofManifest { Base = manifest.Base });
        await using (var server = await EmbeddedServer.StartAsync(Options(baseOnly, "no")))
        {
            await using var c = await Connect(server.Port);
            Assert.Equal(WithoutExpired(atStart), await Dump(c));
        }
        Directory.Delete(baseOnly, true);

        // Base plus incremental files: the live keyspace.
        await using (var server = await EmbeddedServer.StartAsync(Options(dir, "no")))
        {
            await using var c = await Connect(server.Port);
            Assert.Equal(live, await Dump(c));
        }
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task Rewrite_AbandonedByAppendOnlyNo_UnhooksTheDatabases_AndTheNextRewriteIsComplete()
    {
        var dir = NewTempDir();
        var expected = new Dictionary<string, string>();
        await using (var server = await EmbeddedServer.StartAsync(Options(dir, "no")))
        {
            var aof = server.Runtime.Aof;
            var dispatcher = server.Runtime.Dispatcher;
            await using var c = await Connect(server.Port);
            for (var i = 0; i < 200; i++) await c.Cmd("SET", $"k:{i}", $"v{i}");
            aof.RewriteChunkSlotsForTests = 7;
            aof.RewriteManualStepsForTests = true;
            Assert.Equal("+Background append only file rewriting started\r\n", await c.Cmd("BGREWRITEAOF"));
            var rewriter = (await dispatcher.InvokeAsync(() => aof.RewriterForTests))!;
            for (var steps = 0; steps < 5;)
            {
                if (await dispatcher.InvokeAsync(rewriter.StepForTests)) steps++;
                else await Task.Delay(1);
            }
            await c.Cmd("SET", "k:100", "changed ahead of the cursor");
            Assert.Equal("+OK\r\n", await c.Cmd("CONFIG", "SET", "appendonly", "no"));
            Assert.True(await dispatcher.InvokeAsync(() => aof.RewriterForTests is null
                && server.Runtime.Server.Keyspace.Databases.All(db => db.RewriteAccess is null)));
            // The abandoned rewrite's thread ends (Detach hands it the end of the walk) and its temp file goes.
            var appendDir = Path.Combine(dir, "appendonlydir");
            for (var tries = 0; tries < 100 && Directory.EnumerateFiles(appendDir, "temp-*").Any(); tries++) await Task.Delay(50);
            Assert.Empty(Directory.EnumerateFiles(appendDir, "temp-*"));

            await c.Cmd("DEL", "k:1");
            await c.Cmd("SET", "k:2", "after");
            aof.RewriteManualStepsForTests = false;
            Assert.Equal("+OK\r\n", await c.Cmd("CONFIG", "SET", "appendonly", "yes")); // writes a new base
            for (var tries = 0; tries < 200 && (await c.Cmd("INFO", "persistence")).Contains("aof_rewrite_in_progress:1", StringComparison.Ordinal); tries++)
                await Task.Delay(50);
            await c.Cmd("SET", "k:3", "in the incr file");
            for (var i = 0; i < 200; i++) expected[$"k:{i}"] = await c.Cmd("GET", $"k:{i}");
        }
        await using (var server = await EmbeddedServer.StartAsync(Options(dir, "no")))
        {
            await using var c = await Connect(server.Port);
            foreach (var (key, reply) in expected) Assert.Equal(reply, await c.Cmd("GET", key));
            Assert.Equal(":199\r\n", await c.Cmd("DBSIZE"));
        }
        Directory.Delete(dir, true);
    }

    /// <summary>Key names by type, so most writes fit the value they meet (a few still answer WRONGTYPE after a RENAME).</summary>
    private sealed class KeyNames
    {
        public const int PerType = 120;

        public static readonly string[] Prefixes = ["s", "set", "h", "x"];

        public string Of(string prefix, Random random) => $"{prefix}:{random.Next(PerType)}";

        public string Any(Random random) => Of(Prefixes[random.Next(Prefixes.Length)], random);
    }

    private static async Task Fill(RespConnection c, Random random)
    {
        for (var db = 0; db < Databases; db++)
        {
            await c.Cmd("SELECT", db.ToString(CultureInfo.InvariantCulture));
            for (var i = 0; i < KeyNames.PerType; i++)
            {
                var n = i.ToString(CultureInfo.InvariantCulture);
                await c.Cmd("SET", $"s:{n}", $"v{n}");
                await c.Cmd("SADD", $"set:{n}", "a", "b", n);
                await c.Cmd("HSET", $"h:{n}", "f", n, "g", "x");
                await c.Cmd("XADD", $"x:{n}", "*", "f", n);
                // Every fourth stream spans several nodes (of four entries: see the test), which a snapshot shares
                // with the live stream until XDEL or XTRIM changes one in place.
                if (i % 4 == 0)
                {
                    for (var e = 0; e < 21; e++) await c.Cmd("XADD", $"x:{n}", "*", "e", e.ToString(CultureInfo.InvariantCulture));
                }
                if (random.Next(3) == 0)
                {
                    await c.Cmd("XGROUP", "CREATE", $"x:{n}", "g", "0");
                    await c.Cmd("XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", $"x:{n}", ">");
                }
            }
        }
        await c.Cmd("SELECT", "0");
    }

    /// <summary>
    /// Gives keys of database 0 long times, and creates keys with short ones (tmp:n, which nothing else writes);
    /// returns when the last short one runs out.
    /// </summary>
    private static async Task<long> ExpireSome(RespConnection c, Random random, KeyNames names, int count, int shortMs)
    {
        long last = 0;
        for (var i = 0; i < count; i++)
        {
            await c.Cmd("PEXPIRE", names.Any(random), (3_600_000 + random.Next(1000)).ToString(CultureInfo.InvariantCulture));
            await c.Cmd("SET", $"tmp:{i}", "t", "PX", (shortMs + random.Next(shortMs)).ToString(CultureInfo.InvariantCulture));
            last = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 2 * shortMs;
        }
        return last;
    }

    /// <summary>One write; returns when a short time it gave runs out (0 when it gave none).</summary>
    private static async Task<long> RandomWrite(RespConnection c, Random random, KeyNames names)
    {
        string Num() => random.Next(1000).ToString(CultureInfo.InvariantCulture);
        var db = random.Next(10) switch { < 6 => 0, < 9 => 1, _ => 2 };
        await c.Cmd("SELECT", db.ToString(CultureInfo.InvariantCulture));
        var s = names.Of("s", random);
        var set = names.Of("set", random);
        var h = names.Of("h", random);
        var x = names.Of("x", random);
        switch (random.Next(16))
        {
            case 0: await c.Cmd("SET", s, Num()); break;
            case 1: await c.Cmd("APPEND", s, Num()); break;
            case 2: await c.Cmd("DEL", names.Any(random)); break;
            case 3: await c.Cmd("SADD", set, Num()); break;
            case 4: await c.Cmd("SREM", set, "a"); break;
            case 5: await c.Cmd("HSET", h, "f" + Num(), Num()); break;
            case 6: await c.Cmd("HDEL", h, "g"); break;
            case 7: await c.Cmd("XADD", x, "*", "n", Num()); break;
            case 8:
                if (random.Next(2) == 0)
                {
                    // XDEL the first entry, if any.
                    if (await c.Call("XRANGE", x, "-", "+", "COUNT", "1") is object?[] { Length: 1 } first) await c.Cmd("XDEL", x, (string)((object?[])first[0]!)[0]!);
                }
                else if (await c.Call("XLEN", x) is long length and > 3)
                {
                    // An exact trim: whole nodes go, and entries inside the next one are marked deleted in place.
                    await c.Cmd("XTRIM", x, "MAXLEN", (length - 6).ToString(CultureInfo.InvariantCulture));
                }
                break;
            case 9:
                await c.Cmd("XGROUP", "CREATE", x, "g", "0", "MKSTREAM");
                await c.Cmd("XREADGROUP", "GROUP", "g", "bob", "COUNT", "2", "STREAMS", x, ">");
                break;
            case 10: await c.Cmd("EXPIRE", names.Any(random), (3600 + random.Next(100)).ToString(CultureInfo.InvariantCulture)); break;
            case 11:
                await c.Cmd("SET", "tmp:" + random.Next(100).ToString(CultureInfo.InvariantCulture), Num(), "PX", (50 + random.Next(200)).ToString(CultureInfo.InvariantCulture));
                return DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 300;
            case 12: await c.Cmd("PERSIST", names.Any(random)); break;
            case 13:
                // Within a type, so later writes mostly still fit; the destination may or may not exist.
                var prefix = KeyNames.Prefixes[random.Next(KeyNames.Prefixes.Length)];
                await c.Cmd("RENAME", names.Of(prefix, random), names.Of(prefix, random));
                break;
            case 14: await c.Cmd("SET", s, Num(), "PX", "3600000"); break;
            default: await c.Cmd("INCR", "counter:" + random.Next(5).ToString(CultureInfo.InvariantCulture)); break;
        }
        return 0;
    }

    /// <summary>Every key of every database with its type, contents and absolute expiry, one line per key, in key order.</summary>
    private static async Task<string> Dump(RespConnection c)
    {
        var sb = new StringBuilder();
        for (var db = 0; db < Databases; db++)
        {
            await c.Cmd("SELECT", db.ToString(CultureInfo.InvariantCulture));
            var keys = new SortedSet<string>(StringComparer.Ordinal);
            var cursor = "0";
            do
            {
                var reply = (object?[])(await c.Call("SCAN", cursor, "COUNT", "50"))!;
                cursor = (string)reply[0]!;
                foreach (var k in (object?[])reply[1]!) keys.Add((string)k!);
            }
            while (cursor != "0");
            foreach (var key in keys)
            {
                var type = (string)(await c.Call("TYPE", key))!;
                sb.Append(CultureInfo.InvariantCulture, $"{db} {key} {type} expiry={await c.Call("PEXPIRETIME", key)}:");
                switch (type)
                {
                    case "string": sb.Append(await c.Call("GET", key)); break;
                    case "set": sb.AppendJoin(',', ((object?[])(await c.Call("SMEMBERS", key))!).Select(m => (string)m!).Order(StringComparer.Ordinal)); break;
                    case "hash": sb.Append(Flat(await c.Call("HGETALL", key), sortPairs: true)); break;
                    case "stream":
                        sb.Append(Flat(await c.Call("XRANGE", key, "-", "+"), sortPairs: false));
                        // The radix tree's node counts depend on how the stream was built, not on its contents.
                        var info = (object?[])(await c.Call("XINFO", "STREAM", key))!;
                        for (var i = 0; i + 1 < info.Length; i += 2)
                        {
                            if (info[i] is "radix-tree-keys" or "radix-tree-nodes") continue;
                            sb.Append(CultureInfo.InvariantCulture, $" {info[i]}={Flat(info[i + 1], sortPairs: false)}");
                        }
                        sb.Append(" groups=").Append(Flat(await c.Call("XINFO", "GROUPS", key), sortPairs: false));
                        if (await c.Call("XINFO", "GROUPS", key) is object?[] { Length: > 0 })
                            sb.Append(" pending=").Append(Flat(await c.Call("XPENDING", key, "g"), sortPairs: false));
                        break;
                }
                sb.Append('\n');
            }
        }
        await c.Cmd("SELECT", "0");
        return sb.ToString();
    }

    private static string Flat(object? reply, bool sortPairs)
    {
        if (reply is not object?[] items) return reply?.ToString() ?? "nil";
        if (!sortPairs) return "[" + string.Join(' ', items.Select(i => Flat(i, false))) + "]";
        var pairs = new List<string>();
        for (var i = 0; i + 1 < items.Length; i += 2) pairs.Add(items[i] + "=" + items[i + 1]);
        pairs.Sort(StringComparer.Ordinal);
        return string.Join(',', pairs);
    }

    /// <summary>A dump without the keys whose expiry has passed (the base alone loads them as expired).</summary>
    private static string WithoutExpired(string dump)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return string.Concat(dump.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line =>
            {
                var at = line.IndexOf(" expiry=", StringComparison.Ordinal) + " expiry=".Length;
                var when = long.Parse(line[at..line.IndexOf(':', at)], CultureInfo.InvariantCulture);
                return when == -1 || when > now;
            })
            .Select(line => line + "\n"));
    }

    /// <summary>
    /// The base writes each (database, key) of the keyspace at BGREWRITEAOF in one uninterrupted run of commands (once), and
    /// no other key: all of <paramref name="atStart"/> but the keys whose time ran out before the snapshot (those whose
    /// time ran out while it was being taken, between the dump and the reply, may be there or not).
    /// </summary>
    private static void AssertBaseHoldsTheSnapshotsKeys(string path, string atStart, (long From, long To) window)
    {
        using var reader = new AofReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        var args = new List<byte[]>();
        var db = "0";
        string? current = null;
        var written = new HashSet<string>();
        while (reader.Read(args) == AofReadStatus.Command)
        {
            var name = Encoding.UTF8.GetString(args[0]).ToUpperInvariant();
            if (name == "SELECT")
            {
                db = Encoding.UTF8.GetString(args[1]);
                continue;
            }
            var key = db + " " + Encoding.UTF8.GetString(name == "XGROUP" ? args[2] : args[1]);
            if (key == current) continue;
            Assert.True(written.Add(key), $"{key} is written twice in the base");
            current = key;
        }
        var expected = new HashSet<string>();
        var either = new HashSet<string>();
        foreach (var line in atStart.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', 3);
            var at = line.IndexOf(" expiry=", StringComparison.Ordinal) + " expiry=".Length;
            var when = long.Parse(line[at..line.IndexOf(':', at)], CultureInfo.InvariantCulture);
            var key = parts[0] + " " + parts[1];
            if (when == -1 || when > window.To) expected.Add(key);
            else if (when > window.From) either.Add(key);
        }
        Assert.True(expected.Count > 1000, $"the snapshot holds only {expected.Count} keys");
        Assert.Empty(expected.Except(written));
        Assert.Empty(written.Except(expected).Except(either));
    }
}
