using StreamServer.Embedded;

namespace StreamServer.IntegrationTests.Transactions;

public sealed class WatchTests
{
    [Fact]
    public async Task Watch_AnotherClientWritesKey_ExecReturnsNullArray()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var a = await RawClient.ConnectAsync(server);
        await using var b = await RawClient.ConnectAsync(server);

        Assert.Equal("+OK\r\n", await a.CallAsync("WATCH", "tx:k"));
        Assert.Equal(":1\r\n", await b.CallAsync("SADD", "tx:k", "from-b"));
        Assert.Equal("+OK\r\n", await a.CallAsync("MULTI"));
        Assert.Equal("+QUEUED\r\n", await a.CallAsync("SADD", "tx:k", "from-a"));
        Assert.Equal("*-1\r\n", await a.CallAsync("EXEC"));
        Assert.Equal("*1\r\n$6\r\nfrom-b\r\n", await b.CallAsync("SMEMBERS", "tx:k"));

        // The failed EXEC forgot the watch: the next transaction runs.
        Assert.Equal("+OK\r\n", await a.CallAsync("MULTI"));
        Assert.Equal("+QUEUED\r\n", await a.CallAsync("SREM", "tx:k", "from-b"));
        Assert.Equal("*1\r\n:1\r\n", await a.CallAsync("EXEC"));
    }

    [Fact]
    public async Task Watch_AnotherClientWritesKey_Resp3ExecReturnsNull()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var a = await RawClient.ConnectAsync(server);
        await using var b = await RawClient.ConnectAsync(server);

        Assert.StartsWith("%7\r\n", await a.CallAsync("HELLO", "3"));
        Assert.Equal("+OK\r\n", await a.CallAsync("WATCH", "tx:h"));
        Assert.Equal(":1\r\n", await b.CallAsync("HSET", "tx:h", "f", "v"));
        Assert.Equal("+OK\r\n", await a.CallAsync("MULTI"));
        Assert.Equal("+QUEUED\r\n", await a.CallAsync("HDEL", "tx:h", "f"));
        Assert.Equal("_\r\n", await a.CallAsync("EXEC"));
    }

    [Fact]
    public async Task Watch_UntouchedKey_ExecRuns_AndUnwatchForgetsWrites()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var a = await RawClient.ConnectAsync(server);
        await using var b = await RawClient.ConnectAsync(server);

        Assert.Equal("+OK\r\n", await a.CallAsync("WATCH", "tx:x"));
        Assert.Equal(":1\r\n", await b.CallAsync("SADD", "tx:other", "m"));
        Assert.Equal("+OK\r\n", await a.CallAsync("MULTI"));
        Assert.Equal("+QUEUED\r\n", await a.CallAsync("SADD", "tx:x", "m"));
        Assert.Equal("*1\r\n:1\r\n", await a.CallAsync("EXEC"));

        Assert.Equal("+OK\r\n", await a.CallAsync("WATCH", "tx:x"));
        Assert.Equal("+OK\r\n", await a.CallAsync("UNWATCH"));
        Assert.Equal(":1\r\n", await b.CallAsync("SADD", "tx:x", "n"));
        Assert.Equal("+OK\r\n", await a.CallAsync("MULTI"));
        Assert.Equal("+QUEUED\r\n", await a.CallAsync("SCARD", "tx:x"));
        Assert.Equal("*1\r\n:2\r\n", await a.CallAsync("EXEC"));
    }

    [Fact]
    public async Task Watch_KeyExpiresBeforeExec_ExecReturnsNullArray()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var a = await RawClient.ConnectAsync(server);

        Assert.Equal(":1\r\n", await a.CallAsync("SADD", "tx:ttl", "m"));
        await SetExpiryAsync(server, "tx:ttl", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 100);
        Assert.Equal("+OK\r\n", await a.CallAsync("WATCH", "tx:ttl"));
        await Task.Delay(250);
        Assert.Equal("+OK\r\n", await a.CallAsync("MULTI"));
        Assert.Equal("+QUEUED\r\n", await a.CallAsync("SADD", "tx:ttl", "n"));
        Assert.Equal("*-1\r\n", await a.CallAsync("EXEC"));
        Assert.Equal(":0\r\n", await a.CallAsync("SCARD", "tx:ttl"));
    }

    [Fact]
    public async Task Watch_KeyAlreadyExpiredAtWatch_ItsDeletionIsNoChange()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var a = await RawClient.ConnectAsync(server);

        Assert.Equal(":1\r\n", await a.CallAsync("SADD", "tx:old", "m"));
        await SetExpiryAsync(server, "tx:old", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 1);
        Assert.Equal("+OK\r\n", await a.CallAsync("WATCH", "tx:old"));
        Assert.Equal("+OK\r\n", await a.CallAsync("MULTI"));
        Assert.Equal("+QUEUED\r\n", await a.CallAsync("SADD", "tx:old", "n"));
        Assert.Equal("*1\r\n:1\r\n", await a.CallAsync("EXEC"));
    }

    [Fact]
    public async Task Exec_WithQueuedErrors_AbortsAndForgetsWatch()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var a = await RawClient.ConnectAsync(server);

        Assert.Equal("+OK\r\n", await a.CallAsync("MULTI"));
        Assert.Equal("-ERR wrong number of arguments for 'sadd' command\r\n", await a.CallAsync("SADD", "tx:k"));
        Assert.Equal("-EXECABORT Transaction discarded because of previous errors.\r\n", await a.CallAsync("EXEC"));
        Assert.Equal("-ERR EXEC without MULTI\r\n", await a.CallAsync("EXEC"));
        Assert.Equal("-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n", await a.CallAsync("EXEC", "x"));
    }

    private static ValueTask<bool> SetExpiryAsync(EmbeddedServer server, string key, long unixMs)
        => server.Runtime.Dispatcher.InvokeAsync(() =>
        {
            server.Runtime.Server.Keyspace[0].SetExpiry(System.Text.Encoding.UTF8.GetBytes(key), unixMs);
            return true;
        });
}
