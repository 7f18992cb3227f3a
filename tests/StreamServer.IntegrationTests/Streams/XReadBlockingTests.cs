using System.Diagnostics;
using System.Text.RegularExpressions;
using StreamServer.Embedded;

namespace StreamServer.IntegrationTests.Streams;

/// <summary>XREAD BLOCK end to end: parking, waking in order, timeouts, CLIENT UNBLOCK, disconnects, MULTI.</summary>
public sealed class XReadBlockingTests
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(200);

    private static string Entry(string key, string id, string field, string value)
        => $"*1\r\n*2\r\n${key.Length}\r\n{key}\r\n*1\r\n*2\r\n${id.Length}\r\n{id}\r\n*2\r\n${field.Length}\r\n{field}\r\n${value.Length}\r\n{value}\r\n";

    private static async Task<int> BlockedClientsAsync(RawClient control)
    {
        var info = await control.CallAsync("INFO", "clients");
        return int.Parse(Regex.Match(info, @"blocked_clients:(\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task WaitForBlockedAsync(RawClient control, int expected)
    {
        var deadline = Stopwatch.StartNew();
        while (await BlockedClientsAsync(control) != expected)
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException($"blocked_clients never reached {expected}");
            await Task.Delay(2);
        }
    }

    private static byte[] Command(params string[] args)
    {
        var sb = new System.Text.StringBuilder().Append('*').Append(args.Length).Append("\r\n");
        foreach (var arg in args) sb.Append('$').Append(arg.Length).Append("\r\n").Append(arg).Append("\r\n");
        return System.Text.Encoding.ASCII.GetBytes(sb.ToString());
    }

    private static async Task<string> ReadExactlyAsync(System.Net.Sockets.NetworkStream stream, int length)
    {
        var buffer = new byte[length];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await stream.ReadExactlyAsync(buffer, cts.Token);
        return System.Text.Encoding.ASCII.GetString(buffer);
    }

    [Fact]
    public async Task XReadBlock_ThousandClientsOnOneKey_AllServedByOneXAddInArrivalOrder()
    {
        const int clients = 1000;
        await using var server = await EmbeddedServer.StartAsync();
        await using var control = await RawClient.ConnectAsync(server);
        var readers = new List<System.Net.Sockets.TcpClient>(clients);
        // The INCR pipelined behind each read runs as soon as that read is served, so its value is the serving order.
        var pipeline = Command("XREAD", "BLOCK", "0", "STREAMS", "s", "$").Concat(Command("INCR", "order")).ToArray();
        try
        {
            for (var i = 0; i < clients; i++)
            {
                var reader = new System.Net.Sockets.TcpClient { NoDelay = true };
                readers.Add(reader);
                await reader.ConnectAsync(server.EndPoint);
                await reader.GetStream().WriteAsync(pipeline);
                await WaitForBlockedAsync(control, i + 1);
            }

            Assert.Equal("$3\r\n1-1\r\n", await control.CallAsync("XADD", "s", "1-1", "f", "v"));

            var entry = Entry("s", "1-1", "f", "v");
            for (var i = 0; i < clients; i++)
            {
                var expected = entry + $":{i + 1}\r\n";
                Assert.Equal(expected, await ReadExactlyAsync(readers[i].GetStream(), expected.Length));
            }
            Assert.Equal(0, await BlockedClientsAsync(control));
        }
        finally
        {
            foreach (var r in readers) r.Dispose();
        }
    }

    [Fact]
    public async Task XReadBlock100_NothingArrives_ReturnsNullArrayAfterTimeout()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var client = await RawClient.ConnectAsync(server);

        var watch = Stopwatch.StartNew();
        Assert.Equal("*-1\r\n", await client.CallAsync("XREAD", "BLOCK", "100", "STREAMS", "s", "$"));
        var elapsed = watch.ElapsedMilliseconds;
        Assert.InRange(elapsed, 100, 1000);

        Assert.Equal("+PONG\r\n", await client.CallAsync("PING"));
    }

    [Fact]
    public async Task XReadBlock_Resp3Timeout_RepliesNull()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var client = await RawClient.ConnectAsync(server);
        await client.CallAsync("HELLO", "3");
        Assert.Equal("_\r\n", await client.CallAsync("XREAD", "BLOCK", "50", "STREAMS", "s", "0"));
    }

    [Fact]
    public async Task XReadBlock_Resp3_ServedReplyIsAMap()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var reader = await RawClient.ConnectAsync(server);
        await using var writer = await RawClient.ConnectAsync(server);
        await reader.CallAsync("HELLO", "3");

        await reader.SendAsync("XREAD", "BLOCK", "0", "STREAMS", "s", "$");
        await WaitForBlockedAsync(writer, 1);
        await writer.CallAsync("XADD", "s", "5-1", "f", "v");
        Assert.Equal("%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n5-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n", await reader.ReadAsync());
    }

    [Fact]
    public async Task XReadBlock_Dollar_ReturnsOnlyEntriesAddedAfterTheCall()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var reader = await RawClient.ConnectAsync(server);
        await using var writer = await RawClient.ConnectAsync(server);
        await writer.CallAsync("XADD", "s", "1-1", "old", "1");

        await reader.SendAsync("XREAD", "BLOCK", "0", "STREAMS", "s", "$");
        await WaitForBlockedAsync(writer, 1);

        // A write to another key, or one that adds nothing after the remembered id, does not serve it.
        await writer.CallAsync("XADD", "other", "1-1", "f", "v");
        await writer.CallAsync("XDEL", "s", "1-1");
        Assert.True(await reader.NothingArrivesAsync(Quiet));
        Assert.Equal(1, await BlockedClientsAsync(writer));

        await writer.CallAsync("XADD", "s", "2-1", "new", "2");
        Assert.Equal(Entry("s", "2-1", "new", "2"), await reader.ReadAsync());
    }

    [Fact]
    public async Task XReadBlock_MissingKey_ServedWhenXAddCreatesIt()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var reader = await RawClient.ConnectAsync(server);
        await using var writer = await RawClient.ConnectAsync(server);

        await reader.SendAsync("XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "a", "b", "$", "$");
        await WaitForBlockedAsync(writer, 1);
        await writer.CallAsync("XADD", "b", "3-1", "f", "v");
        Assert.Equal(Entry("b", "3-1", "f", "v"), await reader.ReadAsync());
    }

    [Fact]
    public async Task XReadBlock_PipelinedCommandsWaitBehindTheBlockedRead()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var reader = await RawClient.ConnectAsync(server);
        await using var writer = await RawClient.ConnectAsync(server);

        await reader.SendAsync("XREAD", "BLOCK", "0", "STREAMS", "s", "$");
        await reader.SendAsync("PING");
        await WaitForBlockedAsync(writer, 1);
        Assert.True(await reader.NothingArrivesAsync(Quiet));

        await writer.CallAsync("XADD", "s", "1-1", "f", "v");
        Assert.Equal(Entry("s", "1-1", "f", "v"), await reader.ReadAsync());
        Assert.Equal("+PONG\r\n", await reader.ReadAsync());
    }

    [Fact]
    public async Task ClientUnblock_Timeout_RepliesNullArray_Error_RepliesUnblocked()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var reader = await RawClient.ConnectAsync(server);
        await using var control = await RawClient.ConnectAsync(server);
        var id = (await reader.CallAsync("CLIENT", "ID")).Trim(':', '\r', '\n');

        Assert.Equal(":0\r\n", await control.CallAsync("CLIENT", "UNBLOCK", id));

        await reader.SendAsync("XREAD", "BLOCK", "0", "STREAMS", "s", "$");
        await reader.SendAsync("PING");
        await WaitForBlockedAsync(control, 1);
        Assert.Equal(":1\r\n", await control.CallAsync("CLIENT", "UNBLOCK", id, "TIMEOUT"));
        Assert.Equal("*-1\r\n", await reader.ReadAsync());
        Assert.Equal("+PONG\r\n", await reader.ReadAsync());

        await reader.SendAsync("XREAD", "BLOCK", "0", "STREAMS", "s", "$");
        await WaitForBlockedAsync(control, 1);
        Assert.Equal(":1\r\n", await control.CallAsync("CLIENT", "UNBLOCK", id, "ERROR"));
        Assert.Equal("-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n", await reader.ReadAsync());
        Assert.Equal(0, await BlockedClientsAsync(control));

        // Nothing is left parked: a later XADD serves nobody and the client works normally.
        await control.CallAsync("XADD", "s", "1-1", "f", "v");
        Assert.Equal("+PONG\r\n", await reader.CallAsync("PING"));
    }

    [Fact]
    public async Task XReadBlock_ClientDisconnects_BlockedClientsBackToZero()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var control = await RawClient.ConnectAsync(server);
        var reader = await RawClient.ConnectAsync(server);
        await reader.SendAsync("XREAD", "BLOCK", "0", "STREAMS", "s", "$");
        await WaitForBlockedAsync(control, 1);

        await reader.DisposeAsync();
        await WaitForBlockedAsync(control, 0);

        Assert.Equal("$3\r\n1-1\r\n", await control.CallAsync("XADD", "s", "1-1", "f", "v"));
        var clients = await control.CallAsync("INFO", "clients");
        Assert.Contains("connected_clients:1\r\n", clients, StringComparison.Ordinal);
    }

    [Fact]
    public async Task XReadBlock_ClientKilled_ConnectionClosesAndBlockedClientsBackToZero()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var control = await RawClient.ConnectAsync(server);
        await using var reader = await RawClient.ConnectAsync(server);
        var id = (await reader.CallAsync("CLIENT", "ID")).Trim(':', '\r', '\n');
        await reader.SendAsync("XREAD", "BLOCK", "0", "STREAMS", "s", "$");
        await WaitForBlockedAsync(control, 1);

        Assert.Equal(":1\r\n", await control.CallAsync("CLIENT", "KILL", "ID", id));
        await Assert.ThrowsAsync<EndOfStreamException>(() => reader.ReadAsync());
        await WaitForBlockedAsync(control, 0);
    }

    [Fact]
    public async Task XReadBlock_SeveralKeys_TimeoutLeavesNoWaiters_AndWriteToAnyKeyServes()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var reader = await RawClient.ConnectAsync(server);
        await using var writer = await RawClient.ConnectAsync(server);

        Assert.Equal("*-1\r\n", await reader.CallAsync("XREAD", "BLOCK", "30", "STREAMS", "a", "b", "$", "$"));
        Assert.Equal(0, await BlockedClientsAsync(writer));

        await reader.SendAsync("XREAD", "BLOCK", "5000", "STREAMS", "a", "b", "$", "$");
        await WaitForBlockedAsync(writer, 1);
        await writer.CallAsync("XADD", "b", "1-1", "f", "v");
        Assert.Equal(Entry("b", "1-1", "f", "v"), await reader.ReadAsync());
        Assert.Equal(0, await BlockedClientsAsync(writer));
    }

    [Fact]
    public async Task XReadBlock_InsideMulti_DoesNotBlock()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var client = await RawClient.ConnectAsync(server);
        Assert.Equal("+OK\r\n", await client.CallAsync("MULTI"));
        Assert.Equal("+QUEUED\r\n", await client.CallAsync("XREAD", "BLOCK", "0", "STREAMS", "s", "$"));
        Assert.Equal("+QUEUED\r\n", await client.CallAsync("XADD", "s", "1-1", "f", "v"));
        Assert.Equal("+QUEUED\r\n", await client.CallAsync("XREAD", "BLOCK", "0", "STREAMS", "s", "0"));
        Assert.Equal("*3\r\n*-1\r\n$3\r\n1-1\r\n" + Entry("s", "1-1", "f", "v"), await client.CallAsync("EXEC"));
    }

    [Fact]
    public async Task XReadBlock_ServedByXAddInsideAnotherClientsMulti()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var reader = await RawClient.ConnectAsync(server);
        await using var writer = await RawClient.ConnectAsync(server);

        await reader.SendAsync("XREAD", "BLOCK", "0", "STREAMS", "s", "$");
        await WaitForBlockedAsync(writer, 1);
        await writer.CallAsync("MULTI");
        await writer.CallAsync("XADD", "s", "1-1", "f", "v");
        await writer.CallAsync("XADD", "s", "1-2", "f", "w");
        await writer.CallAsync("EXEC");
        Assert.Equal("*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nf\r\n$1\r\nw\r\n", await reader.ReadAsync());
    }

    [Fact]
    public async Task XRead_Plus_ReturnsTheLastEntry_AndBlocksOnEmptyStreams()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var reader = await RawClient.ConnectAsync(server);
        await using var writer = await RawClient.ConnectAsync(server);
        await writer.CallAsync("XADD", "s", "1-1", "f", "a");
        await writer.CallAsync("XADD", "s", "2-1", "f", "b");

        Assert.Equal(Entry("s", "2-1", "f", "b"), await reader.CallAsync("XREAD", "STREAMS", "s", "+"));
        Assert.Equal(Entry("s", "2-1", "f", "b"), await reader.CallAsync("XREAD", "COUNT", "5", "STREAMS", "s", "+"));
        Assert.Equal("*-1\r\n", await reader.CallAsync("XREAD", "STREAMS", "missing", "+"));

        await reader.SendAsync("XREAD", "BLOCK", "0", "STREAMS", "missing", "+");
        await WaitForBlockedAsync(writer, 1);
        await writer.CallAsync("XADD", "missing", "7-1", "f", "c");
        Assert.Equal(Entry("missing", "7-1", "f", "c"), await reader.ReadAsync());
    }

    [Fact]
    public async Task XReadBlock_KeyTurnsIntoAString_StaysBlocked()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var reader = await RawClient.ConnectAsync(server);
        await using var writer = await RawClient.ConnectAsync(server);

        await reader.SendAsync("XREAD", "BLOCK", "0", "STREAMS", "s", "$");
        await WaitForBlockedAsync(writer, 1);
        await writer.CallAsync("SET", "s", "x");
        Assert.True(await reader.NothingArrivesAsync(Quiet));
        await writer.CallAsync("DEL", "s");
        await writer.CallAsync("XADD", "s", "1-1", "f", "v");
        Assert.Equal(Entry("s", "1-1", "f", "v"), await reader.ReadAsync());
    }
}
