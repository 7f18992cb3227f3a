using StackExchange.Redis;
using StreamServer.Embedded;

namespace StreamServer.IntegrationTests.Streams;

/// <summary>
/// StackExchange.Redis 3.4 drives the Redis 8 stream API against us: it sees redis_version 8.10.0, so its version-gated
/// commands (CLAIM from 8.4, IDMP from 8.6, XNACK from 8.8, XDELEX/XACKDEL/trim modes from 8.2, MAXCOUNT from 8.10)
/// go out and their replies parse. Pages as in the per-feature test classes.
/// </summary>
public sealed class Redis8StackExchangeRedisTests
{
    private static async Task<(ConnectionMultiplexer Mux, IDatabase Db)> ConnectAsync(EmbeddedServer server, RedisProtocol protocol)
    {
        var options = ConfigurationOptions.Parse(server.ConnectionString);
        options.Protocol = protocol;
        var mux = await ConnectionMultiplexer.ConnectAsync(options);
        Assert.Equal(new Version(8, 10, 0), mux.GetServer(mux.GetEndPoints()[0]).Version);
        return (mux, mux.GetDatabase());
    }

    [Theory]
    [InlineData(RedisProtocol.Resp2)]
    [InlineData(RedisProtocol.Resp3)]
    public async Task IdempotentAdd_AndStreamConfiguration(RedisProtocol protocol)
    {
        await using var server = await EmbeddedServer.StartAsync();
        var (mux, db) = await ConnectAsync(server, protocol);
        await using var _ = mux;
        var producer = new StreamIdempotentId("producer-1", "order-17");
        var first = await db.StreamAddAsync("orders", "amount", "10", producer);
        for (var retry = 0; retry < 5; retry++) Assert.Equal(first, await db.StreamAddAsync("orders", "amount", "10", producer));
        var auto = new StreamIdempotentId("producer-2");
        var byContent = await db.StreamAddAsync("orders", "amount", "11", auto);
        Assert.Equal(byContent, await db.StreamAddAsync("orders", "amount", "11", auto));
        Assert.Equal(2, await db.StreamLengthAsync("orders"));

        await db.StreamConfigureAsync("orders", new StreamConfiguration { IdmpDuration = 300, IdmpMaxSize = 1000 });
        var info = await db.StreamInfoAsync("orders");
        Assert.Equal(300, info.IdmpDuration);
        Assert.Equal(1000, info.IdmpMaxSize);
        Assert.Equal(0, info.PidsTracked);
        Assert.Equal(0, info.IidsTracked);
        Assert.Equal(2, info.IidsAdded);
        Assert.Equal(6, info.IidsDuplicates);
    }

    [Theory]
    [InlineData(RedisProtocol.Resp2)]
    [InlineData(RedisProtocol.Resp3)]
    public async Task ReadGroupClaim_AndNegativeAcknowledge(RedisProtocol protocol)
    {
        await using var server = await EmbeddedServer.StartAsync();
        var (mux, db) = await ConnectAsync(server, protocol);
        await using var _ = mux;
        for (var i = 1; i <= 3; i++) await db.StreamAddAsync("jobs", "n", i, $"{i}-0");
        await db.StreamCreateConsumerGroupAsync("jobs", "workers", "0-0");
        var taken = await db.StreamReadGroupAsync("jobs", "workers", "crashed", ">", 2);
        Assert.Equal(2, taken.Length);

        // XNACK FAIL: released to no consumer, claimable at once.
        Assert.Equal(1, await db.StreamNegativeAcknowledgeAsync("jobs", "workers", StreamNackMode.Fail, "1-0"));
        await Task.Delay(60);
        var claimed = await db.StreamReadGroupAsync("jobs", "workers", "healthy", ">", 10, false, TimeSpan.FromMilliseconds(50));
        Assert.Equal(["1-0", "2-0", "3-0"], claimed.Select(e => e.Id.ToString()));
        Assert.Equal(1, claimed[0].DeliveryCount);
        Assert.Equal(1, claimed[1].DeliveryCount);
        Assert.True(claimed[1].IdleTime >= TimeSpan.FromMilliseconds(50), claimed[1].IdleTime.ToString());
        Assert.Equal(0, claimed[2].DeliveryCount);

        // XNACK FATAL: not delivered again by CLAIM.
        Assert.Equal(1, await db.StreamNegativeAcknowledgeAsync("jobs", "workers", StreamNackMode.Fatal, "2-0"));
        var again = await db.StreamReadGroupAsync("jobs", "workers", "healthy", ">", 10, false, TimeSpan.Zero);
        Assert.DoesNotContain(again, e => e.Id == "2-0");
        // StreamPendingMessageInfo.DeliveryCount is an int, too small for LLONG_MAX: read the row as it is.
        var rows = (RedisResult[])(await db.ExecuteAsync("XPENDING", "jobs", "workers", "2-0", "2-0", "1"))!;
        Assert.Equal(long.MaxValue, (long)((RedisResult[])rows.Single()!)[3]);
    }

    [Fact]
    public async Task DeleteModes_AcknowledgeAndDelete_TrimModes_AndMaxCount()
    {
        await using var server = await EmbeddedServer.StartAsync();
        var (mux, db) = await ConnectAsync(server, RedisProtocol.Resp2);
        await using var _ = mux;
        for (var i = 1; i <= 6; i++) await db.StreamAddAsync("s", "n", i, $"{i}-0");
        await db.StreamCreateConsumerGroupAsync("s", "g", "0-0");
        await db.StreamReadGroupAsync("s", "g", "c", ">", 3);

        var deleted = await db.StreamDeleteAsync("s", ["1-0", "9-0"], StreamTrimMode.DeleteReferences);
        Assert.Equal([StreamTrimResult.Deleted, StreamTrimResult.NotFound], deleted);
        var ackDel = await db.StreamAcknowledgeAndDeleteAsync("s", "g", StreamTrimMode.Acknowledged, ["2-0", "4-0"]);
        Assert.Equal([StreamTrimResult.Deleted, StreamTrimResult.NotDeleted], ackDel);
        // 3-0 is pending, 4-0 to 6-0 unread: ACKED trims nothing; DELREF trims and cleans the PEL.
        Assert.Equal(0, await db.StreamTrimAsync("s", 0, false, null, StreamTrimMode.Acknowledged));
        Assert.Equal(4, await db.StreamLengthAsync("s"));
        Assert.Equal(2, await db.StreamTrimAsync("s", 2, false, null, StreamTrimMode.DeleteReferences));
        Assert.Equal(0, (await db.StreamPendingAsync("s", "g")).PendingMessageCount);

        await db.StreamAddAsync("t", "n", 1, "1-0");
        var read = await db.StreamReadAsync([new StreamPosition("s", "0-0"), new StreamPosition("t", "0-0")], null, 2, null);
        Assert.Equal(2, read.Sum(r => r.Entries.Length));
    }
}
