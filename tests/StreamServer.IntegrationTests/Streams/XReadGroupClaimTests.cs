using System.Text.RegularExpressions;
using StreamServer.Embedded;
using static StreamServer.IntegrationTests.Persistence.AofTestSupport;

namespace StreamServer.IntegrationTests.Streams;

/// <summary>
/// Redis 8.4 XREADGROUP … CLAIM min-idle-time. Page: https://redis.io/docs/latest/commands/xreadgroup/
/// ("The CLAIM option", "Reply extension for claimed entries", "Ordering guarantees").
/// </summary>
public sealed partial class XReadGroupClaimTests
{
    [GeneratedRegex(@"\*4\r\n\$\d+\r\n(\d+-\d+)\r\n\*2\r\n\$1\r\nf\r\n\$\d+\r\n[^\r]*\r\n:(-?\d+)\r\n:(\d+)\r\n")]
    private static partial Regex ClaimEntry();

    [GeneratedRegex(@"\$\d+\r\n(\d+-\d+)\r\n\*2\r\n")]
    private static partial Regex AnyEntryId();

    /// <summary>(id, idle, deliveries) of every entry of a CLAIM reply, in order.</summary>
    private static List<(string Id, long Idle, long Count)> Entries(string reply)
        => ClaimEntry().Matches(reply).Select(m => (m.Groups[1].Value, long.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture),
            long.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture))).ToList();

    private static async Task Setup(Conformance.RespConnection c, int entries)
    {
        for (var i = 1; i <= entries; i++) await c.Cmd("XADD", "s", i + "-0", "f", "v" + i);
        Assert.Equal("+OK\r\n", await c.Cmd("XGROUP", "CREATE", "s", "g", "0"));
    }

    // Page: idle pending entries first, with idle ms and previous delivery count; then new entries (0, 0 for them).
    [Fact]
    public async Task Claim_ReturnsIdlePendingEntriesFirstThenNewOnes()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await Setup(c, 2);
        await c.Cmd("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">");
        await Task.Delay(120);
        await c.Cmd("XADD", "s", "3-0", "f", "v3");
        var reply = await c.Cmd("XREADGROUP", "GROUP", "g", "c2", "CLAIM", "100", "STREAMS", "s", ">");
        Assert.StartsWith("*1\r\n*2\r\n$1\r\ns\r\n*3\r\n", reply, StringComparison.Ordinal);
        var entries = Entries(reply);
        Assert.Equal(["1-0", "2-0", "3-0"], entries.Select(e => e.Id));
        Assert.All(entries.Take(2), e => Assert.True(e.Idle >= 100 && e.Count == 1, e.ToString()));
        Assert.Equal(("3-0", 0L, 0L), entries[2]);
        // c2 owns all three now; the claimed ones were delivered twice.
        var pending = await c.Cmd("XPENDING", "s", "g", "-", "+", "10");
        Assert.Matches(@"^\*3\r\n(\*4\r\n\$3\r\n\d-0\r\n\$2\r\nc2\r\n:\d+\r\n:2\r\n){2}\*4\r\n\$3\r\n3-0\r\n\$2\r\nc2\r\n:\d+\r\n:1\r\n$", pending);
        // Nothing idle enough and nothing new: a non-blocking read is nil.
        Assert.Equal("*-1\r\n", await c.Cmd("XREADGROUP", "GROUP", "g", "c3", "CLAIM", "100000", "STREAMS", "s", ">"));
    }

    // Page: "COUNT 100 … you would retrieve the 20 idle pending entries + 80 incoming entries"; idle ones ordered by
    // idle time, longest first.
    [Fact]
    public async Task Claim_CountCoversClaimedAndNew_LongestIdleFirst()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await Setup(c, 5);
        await c.Cmd("XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "s", ">");
        await Task.Delay(60);
        // 1-0 delivered again now: 2-0 has been idle longer.
        await c.Cmd("XCLAIM", "s", "g", "c1", "0", "1-0");
        await Task.Delay(60);
        var entries = Entries(await c.Cmd("XREADGROUP", "GROUP", "g", "c2", "COUNT", "3", "CLAIM", "50", "STREAMS", "s", ">"));
        Assert.Equal(["2-0", "1-0", "3-0"], entries.Select(e => e.Id));
        Assert.Equal(2, entries[1].Count); // 1-0 was delivered twice before this read
        Assert.Equal(("3-0", 0L, 0L), entries[2]);
    }

    // Page: "CLAIM min-idle-time is ignored if the specified id is not >"; NOACK does not apply to claimed entries.
    [Fact]
    public async Task Claim_IsIgnoredForHistoryReads_AndClaimedEntriesStayPendingWithNoAck()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await Setup(c, 2);
        await c.Cmd("XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "s", ">");
        Assert.Equal("*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$2\r\nv1\r\n",
            await c.Cmd("XREADGROUP", "GROUP", "g", "c1", "CLAIM", "0", "STREAMS", "s", "0"));
        var entries = Entries(await c.Cmd("XREADGROUP", "GROUP", "g", "c2", "CLAIM", "0", "NOACK", "STREAMS", "s", ">"));
        Assert.Equal(["1-0", "2-0"], entries.Select(e => e.Id));
        // 1-0 (claimed) is pending for c2; 2-0 (new, NOACK) is not pending.
        Assert.StartsWith("*4\r\n:1\r\n$3\r\n1-0\r\n$3\r\n1-0\r\n*1\r\n*2\r\n$2\r\nc2\r\n$1\r\n1\r\n", await c.Cmd("XPENDING", "s", "g"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Claim_BadArguments_GiveErrors()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await Setup(c, 1);
        Assert.Equal("-ERR The CLAIM option is only supported by XREADGROUP. You called XREAD instead.\r\n", await c.Cmd("XREAD", "CLAIM", "10", "STREAMS", "s", "0"));
        Assert.Equal("-ERR Missing GROUP option for XREADGROUP\r\n", await c.Cmd("XREADGROUP", "COUNT", "1", "CLAIM", "10", "STREAMS", "s", ">"));
        Assert.Equal("-ERR Invalid min-idle-time argument for CLAIM\r\n", await c.Cmd("XREADGROUP", "GROUP", "g", "c", "CLAIM", "-1", "STREAMS", "s", ">"));
        Assert.Equal("-ERR Invalid min-idle-time argument for CLAIM\r\n", await c.Cmd("XREADGROUP", "GROUP", "g", "c", "CLAIM", "soon", "STREAMS", "s", ">"));
        Assert.Equal("*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n", await c.Cmd("XPENDING", "s", "g"));
    }

    // Acceptance: a consumer loop using only XREADGROUP … CLAIM (no XAUTOCLAIM) recovers every entry of a consumer
    // that was killed while holding them, and keeps serving new entries; every entry is acknowledged once done.
    [Fact]
    public async Task ClaimLoop_RecoversEveryEntryOfAKilledConsumer()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await Setup(c, 50);
        await using (var doomed = await Connect(server.Port))
        {
            Assert.StartsWith("*1\r\n", await doomed.Cmd("XREADGROUP", "GROUP", "g", "doomed", "COUNT", "30", "STREAMS", "s", ">"), StringComparison.Ordinal);
        } // killed: its 30 entries stay pending, never acknowledged

        var done = new HashSet<string>();
        var added = 0;
        for (var round = 0; round < 200 && done.Count < 55; round++)
        {
            if (round % 3 == 0 && added < 5) await c.Cmd("XADD", "s", (100 + added++) + "-0", "f", "late");
            var reply = await c.Cmd("XREADGROUP", "GROUP", "g", "survivor", "COUNT", "7", "BLOCK", "20", "CLAIM", "50", "STREAMS", "s", ">");
            foreach (Match m in AnyEntryId().Matches(reply))
            {
                var id = m.Groups[1].Value;
                done.Add(id);
                Assert.Equal(":1\r\n", await c.Cmd("XACK", "s", "g", id));
            }
        }
        Assert.Equal(55, done.Count);
        Assert.Equal("*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n", await c.Cmd("XPENDING", "s", "g"));
    }

    // Acceptance, with the xnack page: a poison entry NACKed with FATAL is marked permanently failed and a CLAIM loop
    // does not deliver it again; it stays in the PEL (count LLONG_MAX) for inspection.
    [Fact]
    public async Task FatalNack_PoisonEntryIsNotRedelivered()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await Setup(c, 3);
        await c.Cmd("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">");
        Assert.Equal(":1\r\n", await c.Cmd("XNACK", "s", "g", "FATAL", "IDS", "1", "2-0"));
        Assert.Equal(":1\r\n", await c.Cmd("XNACK", "s", "g", "FAIL", "IDS", "1", "3-0"));
        for (var round = 0; round < 3; round++)
        {
            var entries = Entries(await c.Cmd("XREADGROUP", "GROUP", "g", "c2", "CLAIM", "0", "STREAMS", "s", ">"));
            Assert.DoesNotContain(entries, e => e.Id == "2-0");
            if (round == 0)
            {
                // The released (FAIL) entry comes first, with the -1 idle XPENDING shows for it; then c1's idle one.
                Assert.Equal(("3-0", -1L, 1L), entries[0]);
                Assert.Equal("1-0", entries[1].Id);
            }
            foreach (var e in entries) await c.Cmd("XACK", "s", "g", e.Id);
        }
        Assert.Equal("*1\r\n*4\r\n$3\r\n2-0\r\n$0\r\n\r\n:-1\r\n:9223372036854775807\r\n", await c.Cmd("XPENDING", "s", "g", "-", "+", "10"));
    }

    [GeneratedRegex(@"(\$\d+\r\n\w+\r\n):\d+\r\n(:\d+\r\n)")]
    private static partial Regex OwnerIdleCount();

    // A CLAIM read propagates its effects (an XCLAIM per claimed or delivered entry): after a restart from the AOF,
    // plain or rewritten, the PEL has the same owners and delivery counts.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ClaimedEntries_SurviveAofRestart(bool rewrite)
    {
        var (before, after) = await AcrossRestart(NewTempDir(), rewrite, async c =>
        {
            await Setup(c, 4);
            await c.Cmd("XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "s", ">");
            Assert.Equal(":1\r\n", await c.Cmd("XNACK", "s", "g", "FAIL", "IDS", "1", "2-0"));
            Assert.Equal(4, Entries(await c.Cmd("XREADGROUP", "GROUP", "g", "c2", "COUNT", "4", "CLAIM", "0", "STREAMS", "s", ">")).Count);
        }, async c => OwnerIdleCount().Replace(await c.Cmd("XPENDING", "s", "g", "-", "+", "10"), "$1:_\r\n$2")
            + await c.Cmd("XREADGROUP", "GROUP", "g", "c3", "STREAMS", "s", ">"));
        Assert.Contains("$2\r\nc2\r\n:_\r\n:2\r\n", before, StringComparison.Ordinal);
        Assert.EndsWith("*-1\r\n", before, StringComparison.Ordinal);
        Assert.Equal(before, after);
    }

    // Page: "the CLAIM min-idle-time condition may become true for some pending entries during the BLOCK
    // milliseconds period": a blocked CLAIM read is served when an entry becomes idle enough, with no write.
    [Fact]
    public async Task BlockedClaimRead_IsServedWhenAnEntryBecomesIdleEnough()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        await Setup(c, 1);
        await c.Cmd("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var entries = Entries(await c.Cmd("XREADGROUP", "GROUP", "g", "c2", "BLOCK", "5000", "CLAIM", "300", "STREAMS", "s", ">"));
        clock.Stop();
        Assert.Equal("1-0", Assert.Single(entries).Id);
        Assert.InRange(clock.ElapsedMilliseconds, 200, 4000);
    }
}
