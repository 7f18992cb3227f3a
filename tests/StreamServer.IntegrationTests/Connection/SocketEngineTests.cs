using System.Net.Sockets;
using System.Text;
using StreamServer.Configuration;
using StreamServer.Embedded;
using StreamServer.Networking.Linux;

namespace StreamServer.IntegrationTests.Connection;

/// <summary>
/// The two ways client sockets are served: our own epoll loop (Linux, the default) and .NET's socket engine through
/// Pipelines.Sockets.Unofficial (other platforms, or STREAMSERVER_EVENT_LOOP=0). The rest of the suite runs on the
/// default; these run the socket-level cases on both, so the fallback cannot rot unnoticed.
/// </summary>
public class SocketEngineTests
{
    public static TheoryData<bool> Engines => [true, false];

    private static Task<EmbeddedServer> Start(bool eventLoop, Action<ServerOptions>? configure = null)
    {
        var options = new ServerOptions { Port = 0, Bind = ["127.0.0.1"], EventLoop = eventLoop };
        configure?.Invoke(options);
        return EmbeddedServer.StartAsync(options);
    }

    private static string NewAofDir() => Directory.CreateTempSubdirectory("engine-aof-").FullName;

    private static void AppendOnlyEverysec(ServerOptions options, string dir)
    {
        options.Dir = dir;
        options.AppendOnly = true;
        options.AppendFsync = "everysec";
    }

    private static async Task<Socket> Connect(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync("127.0.0.1", port);
        return socket;
    }

    private static byte[] Command(params string[] args)
    {
        var sb = new StringBuilder().Append('*').Append(args.Length).Append("\r\n");
        foreach (var a in args) sb.Append('$').Append(Encoding.UTF8.GetByteCount(a)).Append("\r\n").Append(a).Append("\r\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>Reads exactly <paramref name="length"/> bytes (or fails after 20 s).</summary>
    private static async Task<byte[]> ReadExactly(Socket socket, int length)
    {
        var buffer = new byte[length];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var read = 0;
        while (read < length)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cts.Token);
            Assert.True(n > 0, $"connection closed after {read} of {length} bytes");
            read += n;
        }
        return buffer;
    }

    [Fact]
    public void EventLoop_IsWhatLinuxRunsByDefault()
    {
        // The rest of the suite tests the loop only if it is really in use here.
        Assert.Equal(OperatingSystem.IsLinux(), LinuxNative.IsSupported);
        Assert.True(new ServerOptions().EventLoop || Environment.GetEnvironmentVariable("STREAMSERVER_EVENT_LOOP") == "0");
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task LargeReply_ToAClientThatReadsLate_ArrivesWhole(bool eventLoop)
    {
        // 8 MB does not fit the kernel's socket buffers: the send waits for the socket to become writable (EPOLLOUT on
        // the loop) and goes out in more than one piece of the reply pipe.
        await using var server = await Start(eventLoop);
        using var socket = await Connect(server.Port);
        var value = new string('v', 8 * 1024 * 1024 - 5) + "12345";
        await socket.SendAsync(Command("SET", "big", value));
        Assert.Equal("+OK\r\n", Encoding.ASCII.GetString(await ReadExactly(socket, 5)));
        await socket.SendAsync(Command("GET", "big"));
        await socket.SendAsync(Command("PING"));
        await Task.Delay(300); // the server fills the socket buffers and waits
        var expected = $"${value.Length}\r\n{value}\r\n+PONG\r\n";
        var reply = Encoding.ASCII.GetString(await ReadExactly(socket, expected.Length));
        Assert.Equal(expected, reply);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task LargeAndSmallReplies_ToAClientThatReadsLate_KeepTheirOrder(bool eventLoop)
    {
        // Replies go straight to the socket while nothing waits in the send pipe, and through the pipe once the
        // kernel's buffer is full: a small reply written after a large one that did not fit must not overtake it.
        await using var server = await Start(eventLoop);
        using var socket = await Connect(server.Port);
        var values = new[] { 'a', 'b', 'c' }.Select(c => new string(c, 3 * 1024 * 1024)).ToArray();
        for (var i = 0; i < values.Length; i++)
        {
            await socket.SendAsync(Command("SET", "big" + i, values[i]));
            Assert.Equal("+OK\r\n", Encoding.ASCII.GetString(await ReadExactly(socket, 5)));
        }
        var expected = new StringBuilder();
        for (var i = 0; i < values.Length; i++)
        {
            // Separate writes, so the server reads them in separate turns and flushes between them.
            await socket.SendAsync(Command("GET", "big" + i));
            await socket.SendAsync(Command("ECHO", "after" + i));
            await Task.Delay(50);
            expected.Append($"${values[i].Length}\r\n{values[i]}\r\n${("after" + i).Length}\r\nafter{i}\r\n");
        }
        var reply = Encoding.ASCII.GetString(await ReadExactly(socket, expected.Length));
        Assert.Equal(expected.ToString(), reply);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task ManyClients_PipelinedWrites_EveryReplyInOrder(bool eventLoop)
    {
        await using var server = await Start(eventLoop);
        var clients = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Connect(server.Port)));
        const int perClient = 300;
        var batches = clients.Select((_, c) =>
        {
            var bytes = new List<byte>();
            for (var i = 0; i < perClient; i++) bytes.AddRange(Command("INCR", "counter:" + c));
            return bytes.ToArray();
        }).ToArray();
        await Task.WhenAll(clients.Select((s, c) => s.SendAsync(batches[c])));
        var replies = await Task.WhenAll(clients.Select(async s =>
        {
            var expected = string.Concat(Enumerable.Range(1, perClient).Select(i => $":{i}\r\n"));
            return (expected, Encoding.ASCII.GetString(await ReadExactly(s, expected.Length)));
        }));
        foreach (var (expected, actual) in replies) Assert.Equal(expected, actual);
        foreach (var s in clients) s.Dispose();
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task AppendOnly_PipelinedXAddsFromManyClients_AllAnsweredAndAllLoadedAfterRestart(bool eventLoop)
    {
        // On the loop, batches read in one turn share one AOF write at the turn's end, and their replies wait for it:
        // every client must still get every reply, and the file must hold every entry with the id it was told.
        var dir = NewAofDir();
        void Aof(ServerOptions o) => AppendOnlyEverysec(o, dir);
        const int clients = 16, perClient = 200;
        var told = new List<string>();
        await using (var server = await Start(eventLoop, Aof))
        {
            var sockets = await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Connect(server.Port)));
            await Task.WhenAll(sockets.Select((s, c) =>
            {
                var bytes = new List<byte>();
                for (var i = 0; i < perClient; i++) bytes.AddRange(Command("XADD", "s", "*", "client", c.ToString(System.Globalization.CultureInfo.InvariantCulture), "n", i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                return s.SendAsync(bytes.ToArray());
            }));
            foreach (var s in sockets)
            {
                var stream = new NetworkStream(s, ownsSocket: true);
                using var reader = new StreamReader(stream, Encoding.ASCII);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                for (var i = 0; i < perClient; i++)
                {
                    var header = await reader.ReadLineAsync(cts.Token);
                    Assert.StartsWith("$", header);
                    told.Add((await reader.ReadLineAsync(cts.Token))!);
                }
            }
        }
        await using (var server = await Start(eventLoop, Aof))
        {
            using var socket = await Connect(server.Port);
            var stream = new NetworkStream(socket);
            using var reader = new StreamReader(stream, Encoding.ASCII);
            await socket.SendAsync(Command("XRANGE", "s", "-", "+"));
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            Assert.Equal($"*{clients * perClient}", await reader.ReadLineAsync(cts.Token));
            var loaded = new List<string>();
            for (var i = 0; i < clients * perClient; i++)
            {
                Assert.Equal("*2", await reader.ReadLineAsync(cts.Token));
                await reader.ReadLineAsync(cts.Token); // $len
                loaded.Add((await reader.ReadLineAsync(cts.Token))!);
                for (var line = 0; line < 9; line++) await reader.ReadLineAsync(cts.Token); // the 4 fields and values
            }
            Assert.Equal(told.Order(StringComparer.Ordinal), loaded.Order(StringComparer.Ordinal));
        }
        Directory.Delete(dir, true);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task AppendOnly_AWriteIsAnsweredAtTheEndOfItsTurn_NotAtTheNextCronTick(bool eventLoop)
    {
        // A batch that waits for the AOF write is completed by whoever ends the run: on the loop, the end of the turn.
        // Were that missing, the dispatcher's cron (every 100 ms) would still complete it, so each round trip would
        // take up to 100 ms: 100 of them would need about 10 s instead of well under one. The bound is generous on
        // purpose; it tells a missing end of turn from a slow machine, not fast from slow.
        var dir = NewAofDir();
        await using (var server = await Start(eventLoop, o => AppendOnlyEverysec(o, dir)))
        {
            using var socket = await Connect(server.Port);
            var stopwatch = System.Diagnostics.Stopwatch.StartNew();
            for (var i = 1; i <= 100; i++)
            {
                await socket.SendAsync(Command("INCR", "n"));
                var expected = $":{i}\r\n";
                Assert.Equal(expected, Encoding.ASCII.GetString(await ReadExactly(socket, expected.Length)));
            }
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"100 round trips took {stopwatch.Elapsed}");
        }
        Directory.Delete(dir, true);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task ClosedClients_LeaveTheClientList(bool eventLoop)
    {
        await using var server = await Start(eventLoop);
        var sockets = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Connect(server.Port)));
        foreach (var s in sockets)
        {
            await s.SendAsync(Command("PING"));
            Assert.Equal("+PONG\r\n", Encoding.ASCII.GetString(await ReadExactly(s, 7)));
        }
        // Half of them vanish with a reset (linger 0), half with a FIN.
        for (var i = 0; i < sockets.Length; i++)
        {
            if (i % 2 == 0) sockets[i].LingerState = new LingerOption(true, 0);
            sockets[i].Dispose();
        }
        using var probe = await Connect(server.Port);
        var connected = "";
        for (var tries = 0; tries < 100; tries++)
        {
            await probe.SendAsync(Command("INFO", "clients"));
            var header = Encoding.ASCII.GetString(await ReadExactly(probe, 1));
            Assert.Equal("$", header);
            var length = new StringBuilder();
            while (true)
            {
                var ch = (char)(await ReadExactly(probe, 1))[0];
                if (ch == '\r') break;
                length.Append(ch);
            }
            await ReadExactly(probe, 1); // \n
            var body = Encoding.ASCII.GetString(await ReadExactly(probe, int.Parse(length.ToString(), System.Globalization.CultureInfo.InvariantCulture) + 2));
            connected = body.Split("\r\n").First(l => l.StartsWith("connected_clients:", StringComparison.Ordinal));
            if (connected == "connected_clients:1") break;
            await Task.Delay(50);
        }
        Assert.Equal("connected_clients:1", connected);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Quit_RepliesThenCloses(bool eventLoop)
    {
        await using var server = await Start(eventLoop);
        using var socket = await Connect(server.Port);
        await socket.SendAsync(Command("QUIT"));
        Assert.Equal("+OK\r\n", Encoding.ASCII.GetString(await ReadExactly(socket, 5)));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Equal(0, await socket.ReceiveAsync(new byte[16], SocketFlags.None, cts.Token));
    }
}
