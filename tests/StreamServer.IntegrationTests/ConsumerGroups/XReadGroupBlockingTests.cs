using StreamServer.Embedded;

namespace StreamServer.IntegrationTests.ConsumerGroups;

/// <summary>XREADGROUP BLOCK over real connections: woken by XADD, by deletion, retyping, group destruction, or timeout.</summary>
public sealed class XReadGroupBlockingTests
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(200);

    private static async Task<(EmbeddedServer Server, RawClient Reader, RawClient Writer)> StartWithGroupAsync()
    {
        var server = await EmbeddedServer.StartAsync();
        var reader = await RawClient.ConnectAsync(server);
        var writer = await RawClient.ConnectAsync(server);
        Assert.Equal("+OK\r\n", await writer.CallAsync("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"));
        return (server, reader, writer);
    }

    [Fact]
    public async Task XReadGroup_BlockedOnNewEntries_IsServedByXAddAndPendsTheEntry()
    {
        var (server, reader, writer) = await StartWithGroupAsync();
        await using var _ = server;
        await using var r = reader;
        await using var w = writer;

        await reader.SendAsync("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">");
        Assert.True(await reader.NothingArrivesAsync(Quiet));
        Assert.Equal("$3\r\n1-0\r\n", await writer.CallAsync("XADD", "s", "1-0", "f", "v"));
        Assert.Equal("*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n", await reader.ReadAsync());
        Assert.Equal("*4\r\n:1\r\n$3\r\n1-0\r\n$3\r\n1-0\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n1\r\n", await writer.CallAsync("XPENDING", "s", "g"));
    }

    [Fact]
    public async Task XReadGroup_TwoBlockedConsumers_EachGetsADifferentEntryInArrivalOrder()
    {
        var (server, first, writer) = await StartWithGroupAsync();
        await using var _ = server;
        await using var f = first;
        await using var w = writer;
        await using var second = await RawClient.ConnectAsync(server);

        await first.SendAsync("XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", ">");
        Assert.True(await first.NothingArrivesAsync(Quiet));
        await second.SendAsync("XREADGROUP", "GROUP", "g", "c2", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", ">");
        Assert.True(await second.NothingArrivesAsync(Quiet));

        await writer.CallAsync("XADD", "s", "1-0", "f", "a");
        Assert.Equal("*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\na\r\n", await first.ReadAsync());
        Assert.True(await second.NothingArrivesAsync(Quiet));
        await writer.CallAsync("XADD", "s", "2-0", "f", "b");
        Assert.Equal("*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\nb\r\n", await second.ReadAsync());
    }

    [Fact]
    public async Task XReadGroup_BlockedWhenKeyDeleted_GetsUnblockedError()
    {
        var (server, reader, writer) = await StartWithGroupAsync();
        await using var _ = server;
        await using var r = reader;
        await using var w = writer;

        await reader.SendAsync("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">");
        Assert.True(await reader.NothingArrivesAsync(Quiet));
        Assert.Equal(":1\r\n", await writer.CallAsync("DEL", "s"));
        Assert.Equal("-UNBLOCKED the stream key no longer exists\r\n", await reader.ReadAsync());
        Assert.Equal("+PONG\r\n", await reader.CallAsync("PING"));
    }

    [Fact]
    public async Task XReadGroup_BlockedWhenKeyChangesType_GetsUnblockedError()
    {
        var (server, reader, writer) = await StartWithGroupAsync();
        await using var _ = server;
        await using var r = reader;
        await using var w = writer;

        await reader.SendAsync("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">");
        Assert.True(await reader.NothingArrivesAsync(Quiet));
        Assert.Equal("+OK\r\n", await writer.CallAsync("SET", "s", "x"));
        Assert.Equal("-UNBLOCKED the stream key no longer exists\r\n", await reader.ReadAsync());
    }

    [Fact]
    public async Task XReadGroup_BlockedWhenGroupDestroyed_GetsNoGroupError()
    {
        var (server, reader, writer) = await StartWithGroupAsync();
        await using var _ = server;
        await using var r = reader;
        await using var w = writer;

        await reader.SendAsync("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">");
        Assert.True(await reader.NothingArrivesAsync(Quiet));
        Assert.Equal(":1\r\n", await writer.CallAsync("XGROUP", "DESTROY", "s", "g"));
        Assert.Equal("-NOGROUP the consumer group this client was blocked on no longer exists\r\n", await reader.ReadAsync());
    }

    [Fact]
    public async Task XReadGroup_BlockedWhenAnotherGroupIsDestroyed_KeepsWaiting()
    {
        var (server, reader, writer) = await StartWithGroupAsync();
        await using var _ = server;
        await using var r = reader;
        await using var w = writer;
        Assert.Equal("+OK\r\n", await writer.CallAsync("XGROUP", "CREATE", "s", "other", "$"));

        await reader.SendAsync("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">");
        Assert.True(await reader.NothingArrivesAsync(Quiet));
        Assert.Equal(":1\r\n", await writer.CallAsync("XGROUP", "DESTROY", "s", "other"));
        Assert.True(await reader.NothingArrivesAsync(Quiet));
        await writer.CallAsync("XADD", "s", "1-0", "f", "v");
        Assert.StartsWith("*1\r\n*2\r\n$1\r\ns\r\n*1\r\n", await reader.ReadAsync());
    }

    [Fact]
    public async Task XReadGroup_BlockTimeout_RepliesNullArray()
    {
        var (server, reader, writer) = await StartWithGroupAsync();
        await using var _ = server;
        await using var r = reader;
        await using var w = writer;

        Assert.Equal("*-1\r\n", await reader.CallAsync("XREADGROUP", "GROUP", "g", "c", "BLOCK", "100", "STREAMS", "s", ">"));
        // Nothing was read, so no consumer was created (redis.io XGROUP CREATECONSUMER: XREADGROUP creates one "only
        // when there is data in the stream"; redis-server 7.0 agrees).
        Assert.Equal("*0\r\n", await writer.CallAsync("XINFO", "CONSUMERS", "s", "g"));
    }

    [Fact]
    public async Task XReadGroup_Blocked_CreatesItsConsumerOnlyWhenServed()
    {
        var (server, reader, writer) = await StartWithGroupAsync();
        await using var _ = server;
        await using var r = reader;
        await using var w = writer;

        await reader.SendAsync("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">");
        Assert.True(await reader.NothingArrivesAsync(Quiet));
        Assert.Equal("*0\r\n", await writer.CallAsync("XINFO", "CONSUMERS", "s", "g"));
        Assert.Equal("$3\r\n1-0\r\n", await writer.CallAsync("XADD", "s", "1-0", "f", "v"));
        Assert.Equal("*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n", await reader.ReadAsync());
        Assert.Equal(":0\r\n", await writer.CallAsync("XGROUP", "CREATECONSUMER", "s", "g", "c"));
    }

    [Fact]
    public async Task XReadGroup_BlockWithHistoryId_RepliesAtOnceWithoutBlocking()
    {
        var (server, reader, writer) = await StartWithGroupAsync();
        await using var _ = server;
        await using var r = reader;
        await using var w = writer;

        Assert.Equal("*1\r\n*2\r\n$1\r\ns\r\n*0\r\n", await reader.CallAsync("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", "0"));
    }

    [Fact]
    public async Task XReadGroup_BlockedWithNoAck_IsServedWithoutPending()
    {
        var (server, reader, writer) = await StartWithGroupAsync();
        await using var _ = server;
        await using var r = reader;
        await using var w = writer;

        await reader.SendAsync("XREADGROUP", "GROUP", "g", "c", "NOACK", "BLOCK", "0", "STREAMS", "s", ">");
        Assert.True(await reader.NothingArrivesAsync(Quiet));
        await writer.CallAsync("XADD", "s", "1-0", "f", "v");
        Assert.StartsWith("*1\r\n*2\r\n$1\r\ns\r\n*1\r\n", await reader.ReadAsync());
        Assert.Equal("*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n", await writer.CallAsync("XPENDING", "s", "g"));
    }

    [Fact]
    public async Task GroupCommands_DoNotInvalidateWatch_AsInRedis()
    {
        var (server, watcher, other) = await StartWithGroupAsync();
        await using var _ = server;
        await using var w = watcher;
        await using var o = other;
        await other.CallAsync("XADD", "s", "1-0", "f", "v");
        await other.CallAsync("XGROUP", "CREATE", "s", "g2", "0");

        Assert.Equal("+OK\r\n", await watcher.CallAsync("WATCH", "s"));
        Assert.StartsWith("*1\r\n", await other.CallAsync("XREADGROUP", "GROUP", "g2", "c", "STREAMS", "s", ">"));
        Assert.Equal(":1\r\n", await other.CallAsync("XACK", "s", "g2", "1-0"));
        Assert.Equal("+OK\r\n", await other.CallAsync("XGROUP", "SETID", "s", "g2", "0"));
        Assert.Equal(":1\r\n", await other.CallAsync("XGROUP", "DESTROY", "s", "g2"));
        Assert.Equal("+OK\r\n", await watcher.CallAsync("MULTI"));
        Assert.Equal("+QUEUED\r\n", await watcher.CallAsync("PING"));
        Assert.Equal("*1\r\n+PONG\r\n", await watcher.CallAsync("EXEC"));
    }
}
