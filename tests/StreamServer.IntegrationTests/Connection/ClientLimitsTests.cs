using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using StreamServer.Configuration;
using StreamServer.Embedded;
using StreamServer.Networking;

namespace StreamServer.IntegrationTests.Connection;

/// <summary>timeout, tcp-keepalive and client-output-buffer-limit, enforced as Redis does.</summary>
public sealed class ClientLimitsTests
{
    private static ServerOptions Loopback() => new() { Port = 0, Bind = ["127.0.0.1"] };

    [Fact]
    public async Task IdleClient_IsClosedAfterTimeout_ButBlockedClientsAndSubscribersAreNot()
    {
        var options = Loopback();
        options.Timeout = 1;
        await using var server = await EmbeddedServer.StartAsync(options);
        await using var idle = await RawClient.ConnectAsync(server);
        await using var blockedForever = await RawClient.ConnectAsync(server);
        await using var blockedWithTimeout = await RawClient.ConnectAsync(server);
        await using var subscriber = await RawClient.ConnectAsync(server);

        Assert.Equal("+PONG\r\n", await idle.CallAsync("PING"));
        var started = DateTime.UtcNow; // the idle client's last interaction
        await blockedForever.SendAsync("XREAD", "BLOCK", "0", "STREAMS", "s", "$");
        await blockedWithTimeout.SendAsync("XREAD", "BLOCK", "30000", "STREAMS", "s", "$");
        Assert.Equal("*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n", await subscriber.CallAsync("SUBSCRIBE", "ch"));

        // Redis closes a client idle for more than `timeout` whole seconds: here between 1 and 2.1 s.
        await Assert.ThrowsAsync<EndOfStreamException>(() => idle.ReadAsync(TimeSpan.FromSeconds(5)));
        Assert.InRange((DateTime.UtcNow - started).TotalSeconds, 0.9, 4);
        var rest = TimeSpan.FromSeconds(2.5) - (DateTime.UtcNow - started); // past any idle deadline of the others too
        if (rest > TimeSpan.Zero) await Task.Delay(rest);

        await using var writer = await RawClient.ConnectAsync(server);
        Assert.Equal(":1\r\n", await writer.CallAsync("PUBLISH", "ch", "still here"));
        Assert.Equal("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$10\r\nstill here\r\n", await subscriber.ReadAsync());
        Assert.Equal("$3\r\n1-1\r\n", await writer.CallAsync("XADD", "s", "1-1", "f", "v"));
        Assert.Equal("*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n", await blockedForever.ReadAsync());
        Assert.Equal("*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n", await blockedWithTimeout.ReadAsync());
    }

    [Fact]
    public async Task TimeoutAndTcpKeepAlive_ConfigSetAndGet_UseRedisFormats()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var client = await RawClient.ConnectAsync(server);

        Assert.Equal("*2\r\n$7\r\ntimeout\r\n$1\r\n0\r\n", await client.CallAsync("CONFIG", "GET", "timeout"));
        Assert.Equal("*2\r\n$13\r\ntcp-keepalive\r\n$3\r\n300\r\n", await client.CallAsync("CONFIG", "GET", "tcp-keepalive"));
        Assert.Equal("+OK\r\n", await client.CallAsync("CONFIG", "SET", "timeout", "30", "tcp-keepalive", "60"));
        Assert.Equal("*4\r\n$7\r\ntimeout\r\n$2\r\n30\r\n$13\r\ntcp-keepalive\r\n$2\r\n60\r\n", await client.CallAsync("CONFIG", "GET", "timeout", "tcp-keepalive"));
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive\r\n",
            await client.CallAsync("CONFIG", "SET", "timeout", "-1"));
    }

    [Fact]
    public async Task ClientOutputBufferLimit_ConfigSet_MergesPerClass_AndGetReportsBytes()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var client = await RawClient.ConnectAsync(server);
        const string defaults = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60";

        Assert.Equal($"*2\r\n$26\r\nclient-output-buffer-limit\r\n${defaults.Length}\r\n{defaults}\r\n", await client.CallAsync("CONFIG", "GET", "client-output-buffer-limit"));
        Assert.Equal("+OK\r\n", await client.CallAsync("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 512kb 10 normal 100 0 0"));
        const string merged = "normal 100 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 10";
        Assert.Equal($"*2\r\n$26\r\nclient-output-buffer-limit\r\n${merged.Length}\r\n{merged}\r\n", await client.CallAsync("CONFIG", "GET", "client-output-buffer-limit"));

        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration.\r\n",
            await client.CallAsync("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 0"));
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Invalid client class specified in buffer limit configuration.\r\n",
            await client.CallAsync("CONFIG", "SET", "client-output-buffer-limit", "master 1mb 0 0"));
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Error in hard, soft or soft_seconds setting in buffer limit configuration.\r\n",
            await client.CallAsync("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0 pubsub x 0 0"));
        // A refused value changes nothing, not even its valid groups.
        Assert.Equal($"*2\r\n$26\r\nclient-output-buffer-limit\r\n${merged.Length}\r\n{merged}\r\n", await client.CallAsync("CONFIG", "GET", "client-output-buffer-limit"));
    }

    [Fact]
    public async Task SubscriberThatDoesNotRead_IsClosedAtTheHardLimit_WhileOthersAreServed()
    {
        var logs = new LogCollector();
        await using var server = await EmbeddedServer.StartAsync(Loopback(), logs);
        await using var publisher = await RawClient.ConnectAsync(server);
        Assert.Equal("+OK\r\n", await publisher.CallAsync("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 0 0"));

        // A subscriber with a small receive buffer that never reads after subscribing.
        using var subscriber = new TcpClient { ReceiveBufferSize = 4096 };
        await subscriber.ConnectAsync(server.EndPoint);
        var stream = subscriber.GetStream();
        await stream.WriteAsync("*2\r\n$9\r\nSUBSCRIBE\r\n$4\r\nfeed\r\n"u8.ToArray());
        Assert.Equal(":1\r\n", await WaitForSubscribersAsync(publisher, 1));

        var payload = new string('x', 64 * 1024);
        var published = 0;
        while (await SubscriberCountAsync(publisher) > 0)
        {
            Assert.True(published < 2000, "the subscriber was not disconnected after 128 MB");
            Assert.Equal(":1\r\n", await publisher.CallAsync("PUBLISH", "feed", payload));
            published++;
        }

        // The others are served as before, and the subscriber's connection ends (after what its kernel buffers held).
        Assert.Equal("+PONG\r\n", await publisher.CallAsync("PING"));
        Assert.Equal(":0\r\n", await publisher.CallAsync("PUBLISH", "feed", "gone"));
        Assert.True(await ReadsToEndAsync(stream, TimeSpan.FromSeconds(10)), "the subscriber's connection was not closed");
        Assert.Contains(logs.Messages, m => m.Contains("addr=", StringComparison.Ordinal) && m.Contains("sub=1", StringComparison.Ordinal) && !m.Contains(" omem=0 ", StringComparison.Ordinal)
            && m.EndsWith("scheduled to be closed ASAP for overcoming of output buffer limits.", StringComparison.Ordinal));
    }

    [Fact]
    public void TcpKeepAlive_SetsKeepAliveWithRedisIdleIntervalAndProbeCount()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        TcpKeepAlive.Apply(socket, 300);

        Assert.Equal(1, (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive)!);
        Assert.Equal(300, (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime)!);
        Assert.Equal(100, (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval)!);
        Assert.Equal(3, (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount)!);
    }

    private static async Task<int> SubscriberCountAsync(RawClient client)
    {
        var reply = await client.CallAsync("PUBSUB", "NUMSUB", "feed"); // *2 $4 feed :n
        return int.Parse(reply[(reply.LastIndexOf(':') + 1)..].TrimEnd(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<string> WaitForSubscribersAsync(RawClient client, int count)
    {
        for (var i = 0; i < 100 && await SubscriberCountAsync(client) != count; i++) await Task.Delay(20);
        return $":{await SubscriberCountAsync(client)}\r\n";
    }

    private static async Task<bool> ReadsToEndAsync(NetworkStream stream, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[256 * 1024];
        try
        {
            while (await stream.ReadAsync(buffer, cts.Token) > 0) { }
            return true;
        }
        catch (IOException)
        {
            return true; // reset: closed with unread data
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Collects formatted log messages (the server's ILoggerFactory).</summary>
    private sealed class LogCollector : ILoggerFactory, ILogger
    {
        private readonly List<string> _messages = [];

        public List<string> Messages
        {
            get
            {
                lock (_messages) return [.. _messages];
            }
        }

        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider) { }

        public void Dispose() { }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_messages) _messages.Add(formatter(state, exception));
        }
    }
}
