using System.Globalization;
using System.Text;
using StreamServer.Embedded;
using StreamServer.Persistence;
using static StreamServer.IntegrationTests.Persistence.AofTestSupport;

namespace StreamServer.IntegrationTests.Persistence;

/// <summary>What lands in the AOF for each command (appendfsync always: the file is written before the reply).</summary>
public class PropagationTests
{
    private static List<string> ReadIncr(string dir)
    {
        var path = Path.Combine(dir, "appendonlydir", "appendonly.aof.1.incr.aof");
        var commands = new List<string>();
        using var reader = new AofReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        var args = new List<byte[]>();
        while (reader.Read(args) == AofReadStatus.Command) commands.Add(string.Join(' ', args.Select(a => Encoding.UTF8.GetString(a))));
        return commands;
    }

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static void AssertAbsoluteTime(string actual, string prefix, long expectedMs)
    {
        Assert.StartsWith(prefix, actual, StringComparison.Ordinal);
        var t = long.Parse(actual[prefix.Length..], CultureInfo.InvariantCulture);
        Assert.InRange(t, expectedMs - 2000, expectedMs + 2000);
    }

    [Fact]
    public async Task WritesAreDeterministic_ReadsAndFailuresLeaveNothing()
    {
        var dir = NewTempDir();
        await using (var server = await EmbeddedServer.StartAsync(Options(dir)))
        {
            await using var c = await Connect(server.Port);
            await c.Cmd("GET", "nothing");                          // read: nothing
            await c.Cmd("SET", "a", "1", "EX", "100");              // → SET a 1 PXAT t
            await c.Cmd("SET", "a", "2", "NX");                     // not set: nothing
            await c.Cmd("INCR", "str-not-int-fails");               // writes (key created)
            await c.Cmd("SET", "s", "x");
            await c.Cmd("INCR", "s");                               // fails: nothing
            await c.Cmd("SETEX", "b", "100", "v");                  // → SET b v PXAT t
            await c.Cmd("EXPIRE", "s", "50");                       // → PEXPIREAT s t
            await c.Cmd("INCRBYFLOAT", "f", "0.5");                 // → SET f 0.5 KEEPTTL
            await c.Cmd("HINCRBYFLOAT", "h", "x", "1.25");          // → HSET h x 1.25
            await c.Cmd("SADD", "set", "only");
            await c.Cmd("SPOP", "set");                             // → SREM set only
            await c.Cmd("GETDEL", "b");                             // → DEL b
            await c.Cmd("SET", "gone", "1", "PX", "1");
            await Task.Delay(20);
            await c.Cmd("GET", "gone");                             // lazy expiry → DEL gone
            await c.Cmd("SELECT", "3");
            await c.Cmd("MULTI");
            await c.Cmd("SET", "t", "1");
            await c.Cmd("GET", "t");
            await c.Cmd("EXEC");                                    // → MULTI, SET, EXEC
            await c.Cmd("MULTI");
            await c.Cmd("GET", "t");
            await c.Cmd("EXEC");                                    // read-only transaction: nothing
            await c.Cmd("FLUSHDB");
            var now = Now;
            var aof = ReadIncr(dir);
            Assert.Equal("SELECT 0", aof[0]);
            AssertAbsoluteTime(aof[1], "SET a 1 PXAT ", now + 100_000);
            Assert.Equal("INCR str-not-int-fails", aof[2]);
            Assert.Equal("SET s x", aof[3]);
            AssertAbsoluteTime(aof[4], "SET b v PXAT ", now + 100_000);
            AssertAbsoluteTime(aof[5], "PEXPIREAT s ", now + 50_000);
            Assert.Equal(["SET f 0.5 KEEPTTL", "HSET h x 1.25", "SADD set only", "SREM set only", "DEL b"], aof[6..11]);
            AssertAbsoluteTime(aof[11], "SET gone 1 PXAT ", now);
            Assert.Equal(["DEL gone", "SELECT 3", "MULTI", "SET t 1", "EXEC", "FLUSHDB"], aof[12..]);
        }
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task XReadGroup_PropagatesItsXClaimsAndSetIdInsideMultiExec()
    {
        var dir = NewTempDir();
        await using (var server = await EmbeddedServer.StartAsync(Options(dir)))
        {
            await using var c = await Connect(server.Port);
            await c.Cmd("XADD", "s", "1-1", "f", "v");
            await c.Cmd("XADD", "s", "1-2", "f", "v");
            await c.Cmd("XGROUP", "CREATE", "s", "g", "0");
            await c.Cmd("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">");
            var aof = ReadIncr(dir);
            var multi = aof.IndexOf("MULTI");
            Assert.True(multi > 0, string.Join(" | ", aof));
            Assert.Equal("XGROUP CREATECONSUMER s g c", aof[multi + 1]);
            Assert.StartsWith("XCLAIM s g c 0 1-1 TIME ", aof[multi + 2], StringComparison.Ordinal);
            Assert.EndsWith(" RETRYCOUNT 1 FORCE JUSTID LASTID 1-1", aof[multi + 2], StringComparison.Ordinal);
            Assert.StartsWith("XCLAIM s g c 0 1-2 TIME ", aof[multi + 3], StringComparison.Ordinal);
            Assert.Equal("XGROUP SETID s g 1-2 ENTRIESREAD 2", aof[multi + 4]);
            Assert.Equal("EXEC", aof[multi + 5]);
            Assert.Equal(multi + 6, aof.Count);
        }
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task ActiveExpiry_IsWrittenAsDel()
    {
        var dir = NewTempDir();
        await using (var server = await EmbeddedServer.StartAsync(Options(dir)))
        {
            await using var c = await Connect(server.Port);
            await c.Cmd("SET", "k", "v", "PX", "50");
            for (var i = 0; i < 50 && ReadIncr(dir).Count < 3; i++) await Task.Delay(50);
            var aof = ReadIncr(dir);
            Assert.Equal("DEL k", aof[^1]);
        }
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task Rewrite_WhileValuesChangeInPlace_RestartMatchesTheModel()
    {
        var dir = NewTempDir();
        const int Keys = 20000;
        var model = new long[Keys];
        var members = new int[Keys / 10];
        var fresh = new long[100];        // counters created while the rewrite runs: not in its snapshot
        var streamLengths = new int[20];  // x0..x9 exist before the rewrite, x10..x19 are created during it
        await using (var server = await EmbeddedServer.StartAsync(Options(dir, "no")))
        {
            await using var c = await Connect(server.Port);
            var pipeline = new StringBuilder();
            for (var i = 0; i < Keys; i++) pipeline.Append(CultureInfo.InvariantCulture, $"SET n{i} 0\r\n");
            await c.SendRawAsync(Encoding.ASCII.GetBytes(pipeline.ToString()), CancellationToken.None);
            for (var i = 0; i < Keys; i++) await c.ReadReplyAsync(CancellationToken.None);
            for (var i = 0; i < members.Length; i++)
            {
                await c.Cmd("SADD", $"s{i}", "m0");
                members[i] = 1;
            }
            for (var i = 0; i < 10; i++)
            {
                await c.Cmd("XADD", $"x{i}", "*", "n", "0");
                streamLengths[i] = 1;
            }
            AofRewriter.SlowdownEveryForTests = 5; // ~4 s of rewrite: the writes below overlap it
            Assert.Equal("+Background append only file rewriting started\r\n", await c.Cmd("BGREWRITEAOF"));
            var random = new Random(7);
            for (var op = 0; op < 2000; op++)
            {
                var k = random.Next(Keys);
                await c.Cmd("INCR", $"n{k}");
                model[k]++;
                var s = random.Next(members.Length);
                await c.Cmd("SADD", $"s{s}", $"m{members[s]++}");
                var f = random.Next(fresh.Length);
                await c.Cmd("INCR", $"fresh{f}");
                fresh[f]++;
                var x = random.Next(streamLengths.Length);
                await c.Cmd("XADD", $"x{x}", "*", "n", op.ToString(CultureInfo.InvariantCulture));
                streamLengths[x]++;
            }
            Assert.Contains("aof_rewrite_in_progress:1", await c.Cmd("INFO", "persistence"), StringComparison.Ordinal);
            AofRewriter.SlowdownEveryForTests = 0;
            for (var tries = 0; tries < 200 && (await c.Cmd("INFO", "persistence")).Contains("aof_rewrite_in_progress:1", StringComparison.Ordinal); tries++)
                await Task.Delay(50);
            Assert.Contains("aof_rewrites:1", await c.Cmd("INFO", "persistence"), StringComparison.Ordinal);
        }
        await using (var server = await EmbeddedServer.StartAsync(Options(dir)))
        {
            await using var c = await Connect(server.Port);
            for (var i = 0; i < Keys; i++)
            {
                var expected = model[i].ToString(CultureInfo.InvariantCulture);
                Assert.Equal($"${expected.Length}\r\n{expected}\r\n", await c.Cmd("GET", $"n{i}"));
            }
            for (var i = 0; i < members.Length; i++) Assert.Equal($":{members[i]}\r\n", await c.Cmd("SCARD", $"s{i}"));
            for (var i = 0; i < fresh.Length; i++)
            {
                Assert.Equal(fresh[i] == 0 ? "$-1\r\n" : $"${fresh[i].ToString(CultureInfo.InvariantCulture).Length}\r\n{fresh[i]}\r\n", await c.Cmd("GET", $"fresh{i}"));
            }
            for (var i = 0; i < streamLengths.Length; i++) Assert.Equal($":{streamLengths[i]}\r\n", await c.Cmd("XLEN", $"x{i}"));
        }
        Directory.Delete(dir, true);
    }
}
