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
}
