using System.Text;
using StreamServer.Embedded;
using StreamServer.IntegrationTests.Conformance;

namespace StreamServer.IntegrationTests.Protocol;

public class PipelineTests
{
    [Fact]
    public async Task TenThousandRequestsInOneWrite_AreAnsweredInOrder()
    {
        await using var server = await EmbeddedServer.StartAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var c = await RespConnection.ConnectAsync("127.0.0.1", server.Port, cts.Token);
        var sb = new StringBuilder();
        for (var i = 0; i < 10_000; i++) sb.Append("*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n");
        await c.SendRawAsync(Encoding.ASCII.GetBytes(sb.ToString()), cts.Token);
        for (var i = 1; i <= 10_000; i++)
        {
            Assert.Equal($":{i}\r\n", Encoding.ASCII.GetString(await c.ReadReplyAsync(cts.Token)));
        }
    }

    [Fact]
    public async Task RequestSentOneByteAtATime_IsAnswered()
    {
        await using var server = await EmbeddedServer.StartAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var c = await RespConnection.ConnectAsync("127.0.0.1", server.Port, cts.Token);
        var bytes = Encoding.ASCII.GetBytes("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$11\r\nhello world\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n");
        foreach (var b in bytes)
        {
            await c.SendRawAsync(new[] { b }, cts.Token);
        }
        Assert.Equal("+OK\r\n", Encoding.ASCII.GetString(await c.ReadReplyAsync(cts.Token)));
        Assert.Equal("$11\r\nhello world\r\n", Encoding.ASCII.GetString(await c.ReadReplyAsync(cts.Token)));
        Assert.Equal("+PONG\r\n", Encoding.ASCII.GetString(await c.ReadReplyAsync(cts.Token)));
    }

    [Fact]
    public async Task LargeValue_TenMegabytes_RoundTrips()
    {
        await using var server = await EmbeddedServer.StartAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var c = await RespConnection.ConnectAsync("127.0.0.1", server.Port, cts.Token);
        var value = new byte[10 * 1024 * 1024];
        new Random(1).NextBytes(value);
        Assert.Equal("+OK\r\n", Encoding.ASCII.GetString(await c.RoundTripAsync([Encoding.ASCII.GetBytes("SET"), Encoding.ASCII.GetBytes("big"), value], cts.Token)));
        var reply = await c.RoundTripAsync([Encoding.ASCII.GetBytes("GET"), Encoding.ASCII.GetBytes("big")], cts.Token);
        var header = Encoding.ASCII.GetBytes($"${value.Length}\r\n");
        Assert.Equal(header, reply[..header.Length]);
        Assert.True(reply.AsSpan(header.Length, value.Length).SequenceEqual(value));
    }

    private static byte[] Command(params byte[][] args)
    {
        using var ms = new MemoryStream();
        ms.Write(Encoding.ASCII.GetBytes($"*{args.Length}\r\n"));
        foreach (var a in args)
        {
            ms.Write(Encoding.ASCII.GetBytes($"${a.Length}\r\n"));
            ms.Write(a);
            ms.Write("\r\n"u8);
        }
        return ms.ToArray();
    }

    private static byte[] B(string s) => Encoding.ASCII.GetBytes(s);

    /// <summary>
    /// Values larger than the receive pipe's window (SpillBuffer) between runs of small requests, all in one stream
    /// cut into writes of random sizes: every reply arrives, in order, and the values round-trip.
    /// </summary>
    [Fact]
    public async Task LargeValuesAmongSmallRequests_InRandomWrites_AreAnsweredInOrder()
    {
        await using var server = await EmbeddedServer.StartAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var c = await RespConnection.ConnectAsync("127.0.0.1", server.Port, cts.Token);
        var random = new Random(7);
        var sizes = new[] { 3 * 1024 * 1024, 300 * 1024, 5, 1024 * 1024 + 1, 700 * 1024 };
        var values = sizes.Select(n => { var v = new byte[n]; random.NextBytes(v); return v; }).ToArray();
        using var stream = new MemoryStream();
        var expected = new List<string>();
        var counter = 0;
        for (var i = 0; i < values.Length; i++)
        {
            stream.Write(Command(B("SET"), B($"big:{i}"), values[i]));
            expected.Add("+OK\r\n");
            for (var n = 0; n < 2000; n++)
            {
                stream.Write(Command(B("INCR"), B("counter")));
                expected.Add($":{++counter}\r\n");
            }
            stream.Write(Command(B("STRLEN"), B($"big:{i}")));
            expected.Add($":{values[i].Length}\r\n");
        }
        var bytes = stream.ToArray();
        var sender = Task.Run(async () =>
        {
            for (var offset = 0; offset < bytes.Length;)
            {
                var n = Math.Min(bytes.Length - offset, random.Next(1, 96 * 1024));
                await c.SendRawAsync(bytes.AsMemory(offset, n), cts.Token);
                offset += n;
            }
        });
        foreach (var reply in expected) Assert.Equal(reply, Encoding.ASCII.GetString(await c.ReadReplyAsync(cts.Token)));
        await sender;
        for (var i = 0; i < values.Length; i++)
        {
            var got = await c.RoundTripAsync([B("GET"), B($"big:{i}")], cts.Token);
            var header = B($"${values[i].Length}\r\n");
            Assert.Equal(header, got[..header.Length]);
            Assert.True(got.AsSpan(header.Length, values[i].Length).SequenceEqual(values[i]), $"big:{i}");
        }
    }

    /// <summary>A client blocked in XREAD keeps its pipelined requests, a large one among them, until it is served.</summary>
    [Fact]
    public async Task BlockedClient_PipelinedLargeValueBehindIt_RunsAfterTheBlockEnds()
    {
        await using var server = await EmbeddedServer.StartAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var blocked = await RespConnection.ConnectAsync("127.0.0.1", server.Port, cts.Token);
        await using var producer = await RespConnection.ConnectAsync("127.0.0.1", server.Port, cts.Token);
        var value = new byte[2 * 1024 * 1024 + 3];
        new Random(3).NextBytes(value);
        using var stream = new MemoryStream();
        stream.Write(Command(B("XREAD"), B("BLOCK"), B("0"), B("STREAMS"), B("s"), B("$")));
        stream.Write(Command(B("SET"), B("big"), value));
        stream.Write(Command(B("STRLEN"), B("big")));
        await blocked.SendRawAsync(stream.ToArray(), cts.Token);
        await Task.Delay(200, cts.Token);
        Assert.Equal(":0\r\n", Encoding.ASCII.GetString(await producer.RoundTripAsync([B("EXISTS"), B("big")], cts.Token)));
        Assert.StartsWith("$", Encoding.ASCII.GetString(await producer.RoundTripAsync([B("XADD"), B("s"), B("1-1"), B("f"), B("v")], cts.Token)), StringComparison.Ordinal);
        Assert.Equal("*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n", Encoding.ASCII.GetString(await blocked.ReadReplyAsync(cts.Token)));
        Assert.Equal("+OK\r\n", Encoding.ASCII.GetString(await blocked.ReadReplyAsync(cts.Token)));
        Assert.Equal($":{value.Length}\r\n", Encoding.ASCII.GetString(await blocked.ReadReplyAsync(cts.Token)));
    }

    /// <summary>
    /// A client that sends a large value and many small requests, then closes its side, gets every reply: what was
    /// sent before the close is answered (Redis answers what it had read when it saw the end of the stream).
    /// </summary>
    [Fact]
    public async Task HalfClosedClient_LargeValueThenSmallRequests_EveryRequestIsAnswered()
    {
        await using var server = await EmbeddedServer.StartAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await socket.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, server.Port), cts.Token);
        using var request = new MemoryStream();
        request.Write(Command(B("SET"), B("big"), new byte[600 * 1024]));
        for (var i = 0; i < 20_000; i++) request.Write(Command(B("INCR"), B("counter")));
        var sending = socket.SendAsync(request.ToArray(), System.Net.Sockets.SocketFlags.None, cts.Token);
        using var replies = new MemoryStream();
        var buffer = new byte[64 * 1024];
        var receiving = Task.Run(async () =>
        {
            int n;
            while ((n = await socket.ReceiveAsync(buffer, System.Net.Sockets.SocketFlags.None, cts.Token)) > 0) replies.Write(buffer, 0, n);
        });
        await sending;
        socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        await receiving;
        var text = Encoding.ASCII.GetString(replies.ToArray());
        Assert.StartsWith("+OK\r\n:1\r\n:2\r\n", text, StringComparison.Ordinal);
        Assert.EndsWith(":19999\r\n:20000\r\n", text, StringComparison.Ordinal);
        Assert.Equal(20_001, text.Split("\r\n").Length - 1);
    }
}
