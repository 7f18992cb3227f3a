using System.Globalization;
using System.Text;
using StreamServer.Embedded;
using StreamServer.IntegrationTests.Conformance;
using StreamServer.Persistence;
using StreamServer.Storage;
using static StreamServer.IntegrationTests.Persistence.AofTestSupport;

namespace StreamServer.IntegrationTests.Persistence;

/// <summary>
/// Large sets and hashes are handed to the rewrite as snapshots that share the live collection (CollectionObject):
/// here the rewrite thread is held before it writes anything, while every command that changes a set or hash in
/// place (and DEL, SET, RENAME, expiry) changes large ones — handed over already, or still ahead of the cursor. The
/// base must then hold each value exactly as at BGREWRITEAOF, and base plus incremental file the live values.
/// </summary>
public class LargeValueSnapshotTests
{
    private const int Entries = AofRewriter.SnapshotFromEntries + 476;

    /// <summary>The keys of one group, in the order they are created (so in slot order).</summary>
    private static readonly string[] Scenarios =
    [
        "h-hset", "h-hdel", "h-empty", "h-del", "h-set", "h-rename", "h-expire", "h-small",
        "s-sadd", "s-srem", "s-spop", "s-spopall", "s-del", "s-rename", "s-expire", "s-small",
    ];

    [Fact]
    public async Task LargeSetsAndHashes_ChangedInEveryWayDuringTheRewrite_BaseHoldsThemAsAtTheSnapshot()
    {
        var dir = NewTempDir();
        string atStart, live;
        await using (var server = await EmbeddedServer.StartAsync(Options(dir, "no")))
        {
            var aof = server.Runtime.Aof;
            var dispatcher = server.Runtime.Dispatcher;
            await using var c = await Connect(server.Port);
            // Group a is handed over in the first step; group b is still ahead of the cursor when it changes.
            foreach (var group in new[] { "a", "b" })
            {
                foreach (var scenario in Scenarios) await Fill(c, $"{group}:{scenario}");
            }
            await c.Cmd("SET", "after", "1");
            atStart = await Dump(c);

            aof.RewriteChunkSlotsForTests = Scenarios.Length;
            aof.RewriteManualStepsForTests = true;
            aof.RewriteSnapshotFromEntriesForTests = AofRewriter.SnapshotFromEntries;
            Assert.Equal("+Background append only file rewriting started\r\n", await c.Cmd("BGREWRITEAOF"));
            var rewriter = (await dispatcher.InvokeAsync(() => aof.RewriterForTests))!;
            using var gate = new ManualResetEventSlim(false);
            rewriter.StepGateForTests = gate;
            while (!await dispatcher.InvokeAsync(rewriter.StepForTests)) await Task.Delay(1);

            foreach (var group in new[] { "a", "b" }) await ChangeAll(c, group);
            await Task.Delay(20);
            foreach (var group in new[] { "a", "b" })
            {
                Assert.Equal(":0\r\n", await c.Cmd("EXISTS", $"{group}:h-expire", $"{group}:s-expire")); // expired now
            }
            var db = server.Runtime.Server.Keyspace.Databases[0];
            Assert.True(await dispatcher.InvokeAsync(() =>
                db.Get(Encoding.ASCII.GetBytes("a:h-hset")) is HashObject { HasChangesAsideForTests: true }
                && db.Get(Encoding.ASCII.GetBytes("b:s-srem")) is SetObject { HasChangesAsideForTests: true }
                && db.Get(Encoding.ASCII.GetBytes("a:h-renamed")) is HashObject { HasChangesAsideForTests: true }));

            gate.Set();
            while (await dispatcher.InvokeAsync(() => aof.RewriterForTests is not null))
            {
                if (!await dispatcher.InvokeAsync(rewriter.StepForTests)) await Task.Delay(1);
            }
            Assert.Contains("aof_last_bgrewrite_status:ok", await c.Cmd("INFO", "persistence"), StringComparison.Ordinal);
            // Released: the changes kept aside are applied as the values are used again, and more changes go in place.
            foreach (var group in new[] { "a", "b" }) await ChangeAll(c, group, again: true);
            live = await Dump(c);
        }
        Assert.NotEqual(atStart, live);

        var manifest = AofFiles.ReadManifest(Path.Combine(dir, "appendonlydir"), "appendonly.aof")!;
        var baseOnly = NewTempDir();
        Directory.CreateDirectory(Path.Combine(baseOnly, "appendonlydir"));
        File.Copy(Path.Combine(dir, "appendonlydir", manifest.Base!.Name), Path.Combine(baseOnly, "appendonlydir", manifest.Base.Name));
        AofFiles.WriteManifest(Path.Combine(baseOnly, "appendonlydir"), new AofManifest { Base = manifest.Base });
        await using (var server = await EmbeddedServer.StartAsync(Options(baseOnly, "no")))
        {
            await using var c = await Connect(server.Port);
            Assert.Equal(atStart, await Dump(c));
        }
        Directory.Delete(baseOnly, true);

        await using (var server = await EmbeddedServer.StartAsync(Options(dir, "no")))
        {
            await using var c = await Connect(server.Port);
            Assert.Equal(live, await Dump(c));
        }
        Directory.Delete(dir, true);
    }

    private static string N(int i) => i.ToString(CultureInfo.InvariantCulture);

    private static async Task Fill(RespConnection c, string key)
    {
        var count = key.EndsWith("-small", StringComparison.Ordinal) ? 10 : Entries;
        if (key.Contains(":h-", StringComparison.Ordinal))
        {
            var args = new List<string> { "HSET", key, "num", "10", "flt", "1.5" };
            for (var i = 0; i < count; i++) args.AddRange([$"f{i}", $"v{i}"]);
            await c.Cmd([.. args]);
        }
        else
        {
            var args = new List<string> { "SADD", key };
            for (var i = 0; i < count; i++) args.Add($"m{i}");
            await c.Cmd([.. args]);
        }
    }

    /// <summary>Every kind of change to the group's values; <paramref name="again"/>: the second round, after the rewrite.</summary>
    private static async Task ChangeAll(RespConnection c, string g, bool again = false)
    {
        var round = again ? "2" : "1";
        Assert.Equal(":2\r\n", await c.Cmd("HSET", $"{g}:h-hset", "new" + round, "x", "f1", "changed" + round, "new-b" + round, "y"));
        Assert.Equal(":1\r\n", await c.Cmd("HSETNX", $"{g}:h-hset", "nx" + round, "z"));
        Assert.Equal(again ? ":14\r\n" : ":12\r\n", await c.Cmd("HINCRBY", $"{g}:h-hset", "num", "2"));
        Assert.Equal(again ? "$3\r\n2.5\r\n" : "$1\r\n2\r\n", await c.Cmd("HINCRBYFLOAT", $"{g}:h-hset", "flt", "0.5"));
        Assert.Equal(":1\r\n", await c.Cmd("HDEL", $"{g}:h-hset", "f" + round + "0"));
        await c.Cmd("HSET", $"{g}:h-small", "f1", "changed" + round);
        await c.Cmd("SADD", $"{g}:s-small", "new" + round);
        if (again)
        {
            await c.Cmd("HSET", $"{g}:h-hdel", "back", "1");
            await c.Cmd("SADD", $"{g}:s-srem", "back");
            await c.Cmd("SADD", $"{g}:s-renamed", "more");
            await c.Cmd("HDEL", $"{g}:h-renamed", "f7");
            return;
        }
        Assert.Equal(":3\r\n", await c.Cmd("HDEL", $"{g}:h-hdel", "f2", "f3", "f4", "missing"));
        Assert.Equal(":" + N(Entries + 2) + "\r\n", await c.Cmd([.. new[] { "HDEL", $"{g}:h-empty", "num", "flt" }.Concat(Enumerable.Range(0, Entries).Select(i => $"f{i}"))]));
        Assert.Equal(":0\r\n", await c.Cmd("EXISTS", $"{g}:h-empty"));
        Assert.Equal(":1\r\n", await c.Cmd("DEL", $"{g}:h-del"));
        Assert.Equal("+OK\r\n", await c.Cmd("SET", $"{g}:h-set", "a string now"));
        Assert.Equal("+OK\r\n", await c.Cmd("RENAME", $"{g}:h-rename", $"{g}:h-renamed"));
        Assert.Equal(":1\r\n", await c.Cmd("HSET", $"{g}:h-renamed", "after-rename", "1"));
        Assert.Equal(":1\r\n", await c.Cmd("PEXPIRE", $"{g}:h-expire", "1"));

        Assert.Equal(":1\r\n", await c.Cmd("SADD", $"{g}:s-sadd", "new", "m1"));
        Assert.Equal(":2\r\n", await c.Cmd("SREM", $"{g}:s-srem", "m2", "m3", "missing"));
        await c.Cmd("SPOP", $"{g}:s-spop");
        await c.Cmd("SPOP", $"{g}:s-spop", "5");
        Assert.Equal(N(Entries - 6), ((long)(await c.Call("SCARD", $"{g}:s-spop"))!).ToString(CultureInfo.InvariantCulture));
        await c.Cmd("SPOP", $"{g}:s-spopall", N(Entries + 10));
        Assert.Equal(":0\r\n", await c.Cmd("EXISTS", $"{g}:s-spopall"));
        Assert.Equal(":1\r\n", await c.Cmd("DEL", $"{g}:s-del"));
        Assert.Equal("+OK\r\n", await c.Cmd("RENAME", $"{g}:s-rename", $"{g}:s-renamed"));
        Assert.Equal(":1\r\n", await c.Cmd("SREM", $"{g}:s-renamed", "m5"));
        Assert.Equal(":1\r\n", await c.Cmd("PEXPIRE", $"{g}:s-expire", "1"));
    }

    /// <summary>Every key of database 0 with its type, contents and expiry, one line per key, in key order.</summary>
    private static async Task<string> Dump(RespConnection c)
    {
        var sb = new StringBuilder();
        var keys = ((object?[])(await c.Call("KEYS", "*"))!).Select(k => (string)k!).Order(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            var type = (string)(await c.Call("TYPE", key))!;
            sb.Append(CultureInfo.InvariantCulture, $"{key} {type} expiry={await c.Call("PEXPIRETIME", key)}:");
            switch (type)
            {
                case "string": sb.Append(await c.Call("GET", key)); break;
                case "set": sb.AppendJoin(',', ((object?[])(await c.Call("SMEMBERS", key))!).Select(m => (string)m!).Order(StringComparer.Ordinal)); break;
                case "hash":
                    var flat = (object?[])(await c.Call("HGETALL", key))!;
                    var pairs = new List<string>();
                    for (var i = 0; i + 1 < flat.Length; i += 2) pairs.Add(flat[i] + "=" + flat[i + 1]);
                    sb.AppendJoin(',', pairs.Order(StringComparer.Ordinal));
                    sb.Append(CultureInfo.InvariantCulture, $" hlen={await c.Call("HLEN", key)}");
                    break;
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
