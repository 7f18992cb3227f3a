using StackExchange.Redis;
using StreamServer.Embedded;

namespace StreamServer.IntegrationTests.ConsumerGroups;

/// <summary>The consumer-group walkthroughs: work sharing, fan-out, several streams, recovery, takeover, exactly-once.</summary>
public sealed class ConsumerGroupScenarioTests
{
    private static string Entry(string id, string field, string value)
        => $"*2\r\n${id.Length}\r\n{id}\r\n*2\r\n${field.Length}\r\n{field}\r\n${value.Length}\r\n{value}\r\n";

    private static string Read(string key, params string[] entries)
        => $"*1\r\n*2\r\n${key.Length}\r\n{key}\r\n*{entries.Length}\r\n" + string.Concat(entries);

    [Fact]
    public async Task EmailStream_ThreeServicesSharingAGroup_EachGetsDistinctEntriesAndALateOneGetsNone()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var mux = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
        var db = mux.GetDatabase();

        Assert.True(await db.StreamCreateConsumerGroupAsync("Email", "EmailApplnGroup", StreamPosition.NewMessages, createStream: true));
        for (var i = 1; i <= 5; i++) await db.StreamAddAsync("Email", "to", $"user{i}@example.com", messageId: $"{i}-0");

        var first = await db.StreamReadGroupAsync("Email", "EmailApplnGroup", "emailService1", ">", count: 1);
        var second = await db.StreamReadGroupAsync("Email", "EmailApplnGroup", "emailService2", ">", count: 1);
        var third = await db.StreamReadGroupAsync("Email", "EmailApplnGroup", "emailService3", ">", count: 1);
        Assert.Equal(["1-0"], first.Select(e => (string)e.Id!));
        Assert.Equal(["2-0"], second.Select(e => (string)e.Id!));
        Assert.Equal(["3-0"], third.Select(e => (string)e.Id!));
        Assert.Equal("user1@example.com", (string)first[0]["to"]!);

        var two = await db.StreamReadGroupAsync("Email", "EmailApplnGroup", "emailService1", ">", count: 2);
        Assert.Equal(["4-0", "5-0"], two.Select(e => (string)e.Id!));
        Assert.Empty(await db.StreamReadGroupAsync("Email", "EmailApplnGroup", "emailService4", ">", count: 1));

        var pending = await db.StreamPendingAsync("Email", "EmailApplnGroup");
        Assert.Equal(5, pending.PendingMessageCount);
        Assert.Equal(["emailService1:3", "emailService2:1", "emailService3:1"], pending.Consumers.Select(c => $"{c.Name}:{c.PendingMessageCount}"));
        Assert.Equal(1, await db.StreamAcknowledgeAsync("Email", "EmailApplnGroup", "1-0"));

        var groups = await db.StreamGroupInfoAsync("Email");
        var group = Assert.Single(groups);
        Assert.Equal("EmailApplnGroup", group.Name);
        // The late emailService4 read nothing and did not block: Redis 7.0 creates no consumer for it.
        Assert.Equal(3, group.ConsumerCount);
        Assert.Equal(4, group.PendingMessageCount);
        Assert.Equal("5-0", group.LastDeliveredId);
        Assert.Equal(5, group.EntriesRead);
        Assert.Equal(0, group.Lag);
    }

    [Fact]
    public async Task SeveralGroupsAndAPlainXRead_OnTheSameStream_EachSeesEveryEntry()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await RawClient.ConnectAsync(server);

        await c.CallAsync("XGROUP", "CREATE", "orders", "billing", "0", "MKSTREAM");
        await c.CallAsync("XGROUP", "CREATE", "orders", "shipping", "0");
        await c.CallAsync("XADD", "orders", "1-0", "item", "book");
        await c.CallAsync("XADD", "orders", "2-0", "item", "pen");
        var both = Read("orders", Entry("1-0", "item", "book"), Entry("2-0", "item", "pen"));

        Assert.Equal(both, await c.CallAsync("XREADGROUP", "GROUP", "billing", "b1", "STREAMS", "orders", ">"));
        Assert.Equal(both, await c.CallAsync("XREADGROUP", "GROUP", "shipping", "s1", "STREAMS", "orders", ">"));
        Assert.Equal(both, await c.CallAsync("XREAD", "STREAMS", "orders", "0"));
        Assert.Equal("*-1\r\n", await c.CallAsync("XREADGROUP", "GROUP", "billing", "b2", "STREAMS", "orders", ">"));
        // Acknowledging in one group leaves the other's PEL alone.
        Assert.Equal(":2\r\n", await c.CallAsync("XACK", "orders", "billing", "1-0", "2-0"));
        Assert.Equal("*4\r\n:2\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n*1\r\n*2\r\n$2\r\ns1\r\n$1\r\n2\r\n", await c.CallAsync("XPENDING", "orders", "shipping"));
    }

    [Fact]
    public async Task OneConsumer_ReadingTwoStreams_GetsEachStreamsEntriesUnderItsKey()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await RawClient.ConnectAsync(server);

        await c.CallAsync("XGROUP", "CREATE", "a", "g", "0", "MKSTREAM");
        await c.CallAsync("XGROUP", "CREATE", "b", "g", "0", "MKSTREAM");
        await c.CallAsync("XADD", "a", "1-0", "f", "a1");
        await c.CallAsync("XADD", "b", "5-0", "f", "b1");

        Assert.Equal("*2\r\n*2\r\n$1\r\na\r\n*1\r\n" + Entry("1-0", "f", "a1") + "*2\r\n$1\r\nb\r\n*1\r\n" + Entry("5-0", "f", "b1"),
            await c.CallAsync("XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "b", ">", ">"));
        await c.CallAsync("XADD", "b", "6-0", "f", "b2");
        // Only the stream with something new is in the reply.
        Assert.Equal(Read("b", Entry("6-0", "f", "b2")), await c.CallAsync("XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "b", ">", ">"));
        // Mixed: history of a, new entries of b (none): both keys present because history is always served.
        Assert.Equal("*1\r\n*2\r\n$1\r\na\r\n*1\r\n" + Entry("1-0", "f", "a1"), await c.CallAsync("XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "b", "0", ">"));
    }

    [Fact]
    public async Task CrashedConsumer_RereadsItsPendingEntriesWithIdZero_AtLeastOnce()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using (var before = await RawClient.ConnectAsync(server))
        {
            await before.CallAsync("XGROUP", "CREATE", "jobs", "workers", "0", "MKSTREAM");
            await before.CallAsync("XADD", "jobs", "1-0", "job", "resize");
            await before.CallAsync("XADD", "jobs", "2-0", "job", "encode");
            Assert.Equal(Read("jobs", Entry("1-0", "job", "resize"), Entry("2-0", "job", "encode")),
                await before.CallAsync("XREADGROUP", "GROUP", "workers", "w1", "STREAMS", "jobs", ">"));
            Assert.Equal(":1\r\n", await before.CallAsync("XACK", "jobs", "workers", "1-0"));
            // w1 "crashes" here with 2-0 unacknowledged.
        }

        await using var after = await RawClient.ConnectAsync(server);
        Assert.Equal(Read("jobs", Entry("2-0", "job", "encode")), await after.CallAsync("XREADGROUP", "GROUP", "workers", "w1", "STREAMS", "jobs", "0"));
        Assert.Equal(":1\r\n", await after.CallAsync("XACK", "jobs", "workers", "2-0"));
        Assert.Equal(Read("jobs"), await after.CallAsync("XREADGROUP", "GROUP", "workers", "w1", "STREAMS", "jobs", "0"));
        // Delivered twice in total: once new, once from history.
        Assert.Equal("*0\r\n", await after.CallAsync("XPENDING", "jobs", "workers", "-", "+", "10"));
    }

    [Fact]
    public async Task AnotherConsumer_TakesOverPendingEntries_WithXClaimAndXAutoClaim()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await RawClient.ConnectAsync(server);

        await c.CallAsync("XGROUP", "CREATE", "jobs", "workers", "0", "MKSTREAM");
        for (var i = 1; i <= 4; i++) await c.CallAsync("XADD", "jobs", $"{i}-0", "job", $"j{i}");
        await c.CallAsync("XREADGROUP", "GROUP", "workers", "dead", "STREAMS", "jobs", ">");
        await Task.Delay(50);

        // Too recent for a 1 minute threshold; old enough for 20 ms.
        Assert.Equal("*0\r\n", await c.CallAsync("XCLAIM", "jobs", "workers", "alive", "60000", "1-0"));
        Assert.Equal("*1\r\n" + Entry("1-0", "job", "j1"), await c.CallAsync("XCLAIM", "jobs", "workers", "alive", "20", "1-0"));
        Assert.Equal("*3\r\n$3\r\n4-0\r\n*2\r\n$3\r\n2-0\r\n$3\r\n3-0\r\n*0\r\n",
            await c.CallAsync("XAUTOCLAIM", "jobs", "workers", "alive", "20", "(1-0", "COUNT", "2", "JUSTID"));
        Assert.Equal("*3\r\n$3\r\n0-0\r\n*1\r\n" + Entry("4-0", "job", "j4") + "*0\r\n",
            await c.CallAsync("XAUTOCLAIM", "jobs", "workers", "alive", "20", "4-0"));

        Assert.Equal("*4\r\n:4\r\n$3\r\n1-0\r\n$3\r\n4-0\r\n*1\r\n*2\r\n$5\r\nalive\r\n$1\r\n4\r\n", await c.CallAsync("XPENDING", "jobs", "workers"));
        // XCLAIM and XAUTOCLAIM (without JUSTID) count a delivery; JUSTID does not.
        var rows = await c.CallAsync("XPENDING", "jobs", "workers", "-", "+", "10");
        Assert.Matches(@"^\*4\r\n\*4\r\n\$3\r\n1-0\r\n\$5\r\nalive\r\n:\d+\r\n:2\r\n\*4\r\n\$3\r\n2-0\r\n\$5\r\nalive\r\n:\d+\r\n:1\r\n\*4\r\n\$3\r\n3-0\r\n\$5\r\nalive\r\n:\d+\r\n:1\r\n\*4\r\n\$3\r\n4-0\r\n\$5\r\nalive\r\n:\d+\r\n:2\r\n$", rows);
        Assert.Equal(":0\r\n", await c.CallAsync("XGROUP", "DELCONSUMER", "jobs", "workers", "dead"));
    }

    [Fact]
    public async Task ExactlyOnce_ProcessedIdsRecordedWithSAddInsideMultiExec_SkipRedeliveries()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await RawClient.ConnectAsync(server);

        await c.CallAsync("XGROUP", "CREATE", "payments", "ledger", "0", "MKSTREAM");
        await c.CallAsync("XADD", "payments", "1-0", "amount", "10");
        await c.CallAsync("XREADGROUP", "GROUP", "ledger", "p1", "STREAMS", "payments", ">");

        // Process: check, apply, record and acknowledge atomically.
        Assert.Equal(":0\r\n", await c.CallAsync("SISMEMBER", "payments:done", "1-0"));
        Assert.Equal("+OK\r\n", await c.CallAsync("MULTI"));
        Assert.Equal("+QUEUED\r\n", await c.CallAsync("INCRBY", "balance", "10"));
        Assert.Equal("+QUEUED\r\n", await c.CallAsync("SADD", "payments:done", "1-0"));
        Assert.Equal("+QUEUED\r\n", await c.CallAsync("XACK", "payments", "ledger", "1-0"));
        Assert.Equal("*3\r\n:10\r\n:1\r\n:1\r\n", await c.CallAsync("EXEC"));

        // A redelivery of the same id (here forced with XCLAIM) is recognised and only acknowledged.
        Assert.Equal("*1\r\n$3\r\n1-0\r\n", await c.CallAsync("XCLAIM", "payments", "ledger", "p2", "0", "1-0", "FORCE", "JUSTID"));
        Assert.Equal(":1\r\n", await c.CallAsync("SISMEMBER", "payments:done", "1-0"));
        Assert.Equal("+OK\r\n", await c.CallAsync("MULTI"));
        Assert.Equal("+QUEUED\r\n", await c.CallAsync("XACK", "payments", "ledger", "1-0"));
        Assert.Equal("*1\r\n:1\r\n", await c.CallAsync("EXEC"));
        Assert.Equal("$2\r\n10\r\n", await c.CallAsync("GET", "balance"));
        Assert.Equal("*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n", await c.CallAsync("XPENDING", "payments", "ledger"));
    }

    [Fact]
    public async Task XReadGroup_Resp3_RepliesWithAMapOfStreams()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await RawClient.ConnectAsync(server);
        await c.CallAsync("HELLO", "3");
        await c.CallAsync("XGROUP", "CREATE", "s", "g", "0", "MKSTREAM");
        await c.CallAsync("XADD", "s", "1-0", "f", "v");
        Assert.Equal("%1\r\n$1\r\ns\r\n*1\r\n" + Entry("1-0", "f", "v"), await c.CallAsync("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"));
        Assert.Equal("_\r\n", await c.CallAsync("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"));
    }
}
