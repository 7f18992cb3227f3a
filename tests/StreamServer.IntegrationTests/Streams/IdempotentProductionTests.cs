using System.Globalization;
using System.Text.RegularExpressions;
using StreamServer.Embedded;
using static StreamServer.IntegrationTests.Persistence.AofTestSupport;

namespace StreamServer.IntegrationTests.Streams;

/// <summary>
/// Redis 8.6 idempotent production: XADD IDMPAUTO / IDMP, XCFGSET, XINFO STREAM's IDMP fields, and the state through
/// the AOF (XIDMPRECORD). Pages: https://redis.io/docs/latest/commands/xadd/,
/// https://redis.io/docs/latest/commands/xcfgset/, https://redis.io/docs/latest/develop/data-types/streams/idempotency/,
/// https://redis.io/docs/latest/commands/xidmprecord/.
/// </summary>
public sealed partial class IdempotentProductionTests
{
    [GeneratedRegex(@"^\$\d+\r\n(\d+-\d+)\r\n$")]
    private static partial Regex BulkId();

    private static string IdOf(string reply)
    {
        var m = BulkId().Match(reply);
        Assert.True(m.Success, reply);
        return m.Groups[1].Value;
    }

    /// <summary>The IDMP fields of XINFO STREAM, as RESP2 text from "idmp-duration" to iids-duplicates' value.</summary>
    private static string IdmpFields(long duration, long maxSize, long pids, long iids, long added, long duplicates)
        => $"$13\r\nidmp-duration\r\n:{duration}\r\n$12\r\nidmp-maxsize\r\n:{maxSize}\r\n$12\r\npids-tracked\r\n:{pids}\r\n"
            + $"$12\r\niids-tracked\r\n:{iids}\r\n$10\r\niids-added\r\n:{added}\r\n$15\r\niids-duplicates\r\n:{duplicates}\r\n";

    // xadd page: "If this producer-id/idempotent-id combination was already used, the command returns the ID of the
    // existing entry instead of creating a duplicate"; idempotency page: producers are isolated; XINFO STREAM's fields.
    [Fact]
    public async Task XAdd_Idmp_DuplicateReturnsTheOriginalIdAndAddsNothing()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        var first = IdOf(await c.Cmd("XADD", "s", "IDMP", "producer-1", "iid-1", "*", "field", "value"));
        Assert.Equal(first, IdOf(await c.Cmd("XADD", "s", "IDMP", "producer-1", "iid-1", "*", "field", "other")));
        var second = IdOf(await c.Cmd("XADD", "s", "IDMP", "producer-2", "iid-1", "*", "field", "value"));
        Assert.NotEqual(first, second);
        Assert.Equal(":2\r\n", await c.Cmd("XLEN", "s"));
        Assert.Contains("$23\r\nrecorded-first-entry-id\r\n$" + first.Length + "\r\n" + first + "\r\n" + IdmpFields(100, 100, 2, 2, 2, 1) + "$6\r\ngroups\r\n",
            await c.Cmd("XINFO", "STREAM", "s"), StringComparison.Ordinal);
        // A duplicate is not a write: nothing to propagate, nothing touched (NOMKSTREAM on a missing key is still nil).
        Assert.Equal("$-1\r\n", await c.Cmd("XADD", "nokey", "NOMKSTREAM", "IDMP", "p", "i", "*", "f", "v"));
    }

    // idempotency page: "Redis calculates an iid from field-value pairs. The same content produces the same iid."
    [Fact]
    public async Task XAdd_IdmpAuto_DeduplicatesByContent()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        var first = IdOf(await c.Cmd("XADD", "s", "IDMPAUTO", "producer-2", "*", "field", "value"));
        Assert.Equal(first, IdOf(await c.Cmd("XADD", "s", "IDMPAUTO", "producer-2", "*", "field", "value")));
        Assert.NotEqual(first, IdOf(await c.Cmd("XADD", "s", "IDMPAUTO", "producer-2", "*", "field", "value2")));
        // The pairs are encoded unambiguously: "ab"+"c" is not "a"+"bc".
        var ab = IdOf(await c.Cmd("XADD", "s", "IDMPAUTO", "p", "*", "ab", "c"));
        Assert.NotEqual(ab, IdOf(await c.Cmd("XADD", "s", "IDMPAUTO", "p", "*", "a", "bc")));
        Assert.Equal(":4\r\n", await c.Cmd("XLEN", "s"));
        // Options in any order before the id, with trimming.
        var trimmed = IdOf(await c.Cmd("XADD", "s", "MAXLEN", "2", "IDMPAUTO", "p", "KEEPREF", "*", "x", "y"));
        Assert.Equal(trimmed, IdOf(await c.Cmd("XADD", "s", "IDMPAUTO", "p", "MAXLEN", "2", "*", "x", "y")));
        Assert.Equal(":2\r\n", await c.Cmd("XLEN", "s"));
    }

    // xadd page: "Both modes can only be specified when the entry ID is * (auto-generated)".
    [Fact]
    public async Task XAdd_Idmp_BadCombinationsGiveErrorsAndChangeNothing()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        IdOf(await c.Cmd("XADD", "s", "IDMP", "p", "i", "*", "f", "v"));
        Assert.Equal("-ERR IDMP/IDMPAUTO can be used only with auto-generated IDs\r\n", await c.Cmd("XADD", "s", "IDMP", "p", "j", "99999999999999-1", "f", "v"));
        Assert.Equal("-ERR IDMP/IDMPAUTO can be used only with auto-generated IDs\r\n", await c.Cmd("XADD", "s", "IDMPAUTO", "p", "99999999999999-*", "f", "v"));
        Assert.Equal("-ERR IDMP/IDMPAUTO can be used only with auto-generated IDs\r\n", await c.Cmd("XADD", "new", "IDMP", "p", "i", "5-5", "f", "v"));
        Assert.Equal("-ERR IDMP/IDMPAUTO can be specified only once\r\n", await c.Cmd("XADD", "s", "IDMP", "p", "j", "IDMPAUTO", "p", "*", "f", "v"));
        Assert.Equal("-ERR producer ID must not be empty\r\n", await c.Cmd("XADD", "s", "IDMP", "", "j", "*", "f", "v"));
        Assert.Equal("-ERR producer ID must not be empty\r\n", await c.Cmd("XADD", "s", "IDMPAUTO", "", "*", "f", "v"));
        Assert.Equal("-ERR idempotent ID must not be empty\r\n", await c.Cmd("XADD", "s", "IDMP", "p", "", "*", "f", "v"));
        Assert.Equal("-ERR wrong number of arguments for 'xadd' command\r\n", await c.Cmd("XADD", "s", "IDMP", "p", "j", "*", "f"));
        Assert.Equal("-ERR syntax error\r\n", await c.Cmd("XTRIM", "s", "IDMPAUTO", "p", "MAXLEN", "0"));
        Assert.Equal(":1\r\n", await c.Cmd("XLEN", "s"));
        Assert.Equal(":0\r\n", await c.Cmd("EXISTS", "new"));
        Assert.Contains(IdmpFields(100, 100, 1, 1, 1, 0), await c.Cmd("XINFO", "STREAM", "s"), StringComparison.Ordinal);
    }

    // xcfgset page: ranges 1-86,400 s and 1-10,000; at least one option; the stream must exist; clears the maps.
    [Fact]
    public async Task XCfgSet_ValidatesAndClearsTheMaps()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        Assert.Equal("-ERR no such key\r\n", await c.Cmd("XCFGSET", "mystream", "IDMP-DURATION", "300"));
        var first = IdOf(await c.Cmd("XADD", "mystream", "IDMP", "p", "i", "*", "field", "value"));
        Assert.Equal("-ERR syntax error\r\n", await c.Cmd("XCFGSET", "mystream"));
        Assert.Equal("-ERR syntax error\r\n", await c.Cmd("XCFGSET", "mystream", "IDMP-DURATION"));
        Assert.Equal("-ERR syntax error\r\n", await c.Cmd("XCFGSET", "mystream", "FOO", "1"));
        Assert.Equal("-ERR invalid duration\r\n", await c.Cmd("XCFGSET", "mystream", "IDMP-DURATION", "0"));
        Assert.Equal("-ERR invalid duration\r\n", await c.Cmd("XCFGSET", "mystream", "IDMP-DURATION", "86401"));
        Assert.Equal("-ERR invalid duration\r\n", await c.Cmd("XCFGSET", "mystream", "IDMP-DURATION", "abc"));
        Assert.Equal("-ERR invalid maxsize\r\n", await c.Cmd("XCFGSET", "mystream", "IDMP-MAXSIZE", "0"));
        Assert.Equal("-ERR invalid maxsize\r\n", await c.Cmd("XCFGSET", "mystream", "IDMP-DURATION", "600", "IDMP-MAXSIZE", "10001"));
        await c.Cmd("SET", "str", "x");
        Assert.Equal("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", await c.Cmd("XCFGSET", "str", "IDMP-MAXSIZE", "5"));
        // Nothing changed: the iid still answers, the settings are the defaults.
        Assert.Equal(first, IdOf(await c.Cmd("XADD", "mystream", "IDMP", "p", "i", "*", "field", "value")));
        Assert.Contains(IdmpFields(100, 100, 1, 1, 1, 1), await c.Cmd("XINFO", "STREAM", "mystream"), StringComparison.Ordinal);

        Assert.Equal("+OK\r\n", await c.Cmd("XCFGSET", "mystream", "IDMP-DURATION", "300"));
        Assert.Equal("+OK\r\n", await c.Cmd("XCFGSET", "mystream", "IDMP-MAXSIZE", "1000"));
        Assert.Equal("+OK\r\n", await c.Cmd("XCFGSET", "mystream", "IDMP-DURATION", "600", "IDMP-MAXSIZE", "500"));
        Assert.Contains(IdmpFields(600, 500, 0, 0, 1, 1), await c.Cmd("XINFO", "STREAM", "mystream"), StringComparison.Ordinal);
        // The map was cleared: the same (pid, iid) adds a new entry.
        Assert.NotEqual(first, IdOf(await c.Cmd("XADD", "mystream", "IDMP", "p", "i", "*", "field", "value")));
        Assert.Equal(":2\r\n", await c.Cmd("XLEN", "mystream"));
    }

    // idempotency page: IDMP-MAXSIZE is stronger than IDMP-DURATION (the oldest iids are evicted), and an iid is
    // forgotten after IDMP-DURATION seconds.
    [Fact]
    public async Task Iids_AreEvictedPastMaxSizeAndExpireAfterDuration()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await c.Cmd("XADD", "s", "*", "f", "v");
        Assert.Equal("+OK\r\n", await c.Cmd("XCFGSET", "s", "IDMP-DURATION", "1", "IDMP-MAXSIZE", "2"));
        var a = IdOf(await c.Cmd("XADD", "s", "IDMP", "p", "a", "*", "f", "v"));
        var b = IdOf(await c.Cmd("XADD", "s", "IDMP", "p", "b", "*", "f", "v"));
        IdOf(await c.Cmd("XADD", "s", "IDMP", "p", "c", "*", "f", "v"));
        Assert.NotEqual(a, IdOf(await c.Cmd("XADD", "s", "IDMP", "p", "a", "*", "f", "v"))); // evicted by c
        Assert.Contains(IdmpFields(1, 2, 1, 2, 4, 0), await c.Cmd("XINFO", "STREAM", "s"), StringComparison.Ordinal);
        await Task.Delay(1100);
        Assert.NotEqual(b, IdOf(await c.Cmd("XADD", "s", "IDMP", "p", "b", "*", "f", "v"))); // expired
        Assert.Contains(IdmpFields(1, 2, 1, 1, 5, 0), await c.Cmd("XINFO", "STREAM", "s"), StringComparison.Ordinal);
    }

    // A stream that never used IDMP keeps Redis 7's XINFO STREAM shape (idempotency page: the fields are shown
    // "when idempotency is being used").
    [Fact]
    public async Task XInfoStream_WithoutIdmp_HasNoIdmpFields()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await c.Cmd("XADD", "s", "1-0", "f", "v");
        var info = await c.Cmd("XINFO", "STREAM", "s");
        Assert.StartsWith("*20\r\n", info, StringComparison.Ordinal);
        Assert.DoesNotContain("idmp", info, StringComparison.Ordinal);
    }

    // xidmprecord page: the internal command that replays IDMP state; OK when the pair maps to the same id.
    [Fact]
    public async Task XIdmpRecord_RecordsAndRejectsConflicts()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        Assert.Equal("-ERR no such key\r\n", await c.Cmd("XIDMPRECORD", "s", "p", "i", "1-0"));
        // An iid is remembered from its entry's time (the ms part of the id), so these entries are recent ones.
        var first = IdOf(await c.Cmd("XADD", "s", "*", "f", "v"));
        var second = IdOf(await c.Cmd("XADD", "s", "*", "f", "v"));
        Assert.Equal("+OK\r\n", await c.Cmd("XIDMPRECORD", "s", "p", "i", first));
        Assert.Equal("+OK\r\n", await c.Cmd("XIDMPRECORD", "s", "p", "i", first));
        Assert.Equal("-ERR the producer ID and idempotent ID already map to a different stream ID\r\n", await c.Cmd("XIDMPRECORD", "s", "p", "i", second));
        Assert.Equal("-ERR the stream ID does not refer to an entry of the stream\r\n", await c.Cmd("XIDMPRECORD", "s", "p", "j", "99999999999999-0"));
        Assert.Equal(first, IdOf(await c.Cmd("XADD", "s", "IDMP", "p", "i", "*", "f", "v")));
        Assert.Equal("-ERR producer ID must not be empty\r\n", await c.Cmd("XIDMPRECORD", "s", "", "j", "1-0"));
        Assert.Equal("-ERR Invalid stream ID specified as stream command argument\r\n", await c.Cmd("XIDMPRECORD", "s", "p", "j", "x"));
    }

    private const int Messages = 10;

    /// <summary>Sends the producer's batch: message k with IDMP pid msg-k; the replies are the ids.</summary>
    private static async Task<List<string>> SendBatch(Conformance.RespConnection c, string stream)
    {
        var ids = new List<string>();
        for (var k = 0; k < Messages; k++)
            ids.Add(IdOf(await c.Cmd("XADD", stream, "IDMP", "producer-A", "msg-" + k.ToString(CultureInfo.InvariantCulture), "*", "n", k.ToString(CultureInfo.InvariantCulture))));
        return ids;
    }

    // Acceptance: a producer retrying the same batch 1,000 times (each time as if every reply had timed out) leaves
    // exactly one entry per message, and a restart from the AOF (plain and after BGREWRITEAOF) keeps that guarantee.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RetriedBatch_LeavesOneEntryPerMessage_AcrossAofRestart(bool rewrite)
    {
        var dir = NewTempDir();
        List<string> original;
        await using (var server = await EmbeddedServer.StartAsync(Options(dir, "everysec")))
        {
            await using var c = await Connect(server.Port);
            await c.Cmd("XADD", "orders", "*", "init", "1");
            Assert.Equal("+OK\r\n", await c.Cmd("XCFGSET", "orders", "IDMP-DURATION", "86400", "IDMP-MAXSIZE", "10000"));
            original = await SendBatch(c, "orders");
            for (var attempt = 0; attempt < 1000; attempt++)
            {
                // The whole batch pipelined, its replies read only afterwards: the producer never learned whether any
                // XADD landed and sends them all again.
                var batch = new List<byte>();
                for (var k = 0; k < Messages; k++)
                {
                    batch.AddRange(Conformance.RespConnection.Encode(new[] { "XADD", "orders", "IDMP", "producer-A", "msg-" + k.ToString(CultureInfo.InvariantCulture), "*", "n", k.ToString(CultureInfo.InvariantCulture) }
                        .Select(System.Text.Encoding.UTF8.GetBytes).ToArray()));
                }
                await c.SendRawAsync(batch.ToArray(), CancellationToken.None);
                for (var k = 0; k < Messages; k++) await c.ReadReplyAsync(CancellationToken.None);
            }
            Assert.Equal(original, await SendBatch(c, "orders"));
            Assert.Equal($":{Messages + 1}\r\n", await c.Cmd("XLEN", "orders"));
            if (rewrite) await BgRewriteAof(server.Port);
        }
        var aof = string.Concat(Directory.GetFiles(Path.Combine(dir, "appendonlydir"), "*.aof").Select(File.ReadAllText));
        Assert.Contains("XIDMPRECORD", aof, StringComparison.Ordinal);
        Assert.DoesNotContain("IDMP\r\n", aof, StringComparison.Ordinal); // replay never runs XADD IDMP with an explicit id
        await using (var server = await EmbeddedServer.StartAsync(Options(dir, "everysec")))
        {
            await using var c = await Connect(server.Port);
            for (var attempt = 0; attempt < 3; attempt++) Assert.Equal(original, await SendBatch(c, "orders"));
            Assert.Equal($":{Messages + 1}\r\n", await c.Cmd("XLEN", "orders"));
            Assert.Contains(IdmpFields(86400, 10000, 1, Messages, Messages, 3 * Messages), await c.Cmd("XINFO", "STREAM", "orders"), StringComparison.Ordinal);
        }
        Directory.Delete(dir, true);
    }
}
