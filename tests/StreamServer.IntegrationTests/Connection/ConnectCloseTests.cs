using System.Net.Sockets;
using System.Text;
using StreamServer.Embedded;

namespace StreamServer.IntegrationTests.Connection;

/// <summary>
/// Connect and disconnect bookkeeping (Connection's Register and Unregister) runs under the dispatcher's run lock,
/// on the calling thread when the dispatcher is idle and queued behind a run otherwise: the client list and INFO's
/// counts stay exact either way.
/// </summary>
public sealed class ConnectCloseTests
{
    [Fact]
    public async Task ClientThatConnectsAndClosesWhileTheRunLockIsHeld_LeavesTheClientList()
    {
        await using var server = await EmbeddedServer.StartAsync();
        var clients = server.Runtime.Server.Clients;
        await using var control = await RawClient.ConnectAsync(server);
        var controlId = await control.CallAsync("CLIENT", "ID");

        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int countAtEntry = -1, countAtExit = -1;
        var holder = Task.Run(() => server.Runtime.Dispatcher.InvokeAsync(() =>
        {
            countAtEntry = clients.Count;
            entered.Set();
            release.Wait(TimeSpan.FromSeconds(10));
            countAtExit = clients.Count;
            return true;
        }).AsTask());
        Assert.True(entered.Wait(TimeSpan.FromSeconds(10)));

        using (var quick = new TcpClient())
        {
            await quick.ConnectAsync(server.EndPoint);
            await quick.GetStream().WriteAsync("PING\r\n"u8.ToArray());
        }
        await using var stayer = await RawClient.ConnectAsync(server);
        await stayer.SendAsync("PING");
        await Task.Delay(200); // both accepted; their registration waits behind the run
        release.Set();
        Assert.True(await holder);

        Assert.Equal(1, countAtEntry);
        Assert.Equal(1, countAtExit); // nothing touched the client list while another thread held the run lock
        Assert.Equal("+PONG\r\n", await stayer.ReadAsync());
        var stayerId = await stayer.CallAsync("CLIENT", "ID");
        Assert.Equal("connected_clients:2", await WaitForConnectedClientsAsync(control, 2));
        Assert.Equal([Id(controlId), Id(stayerId)], await ClientListIdsAsync(control));
        Assert.Equal("total_connections_received:3", InfoField(await control.CallAsync("INFO", "stats"), "total_connections_received"));
    }

    [Fact]
    public async Task ConnectCloseStorm_LeavesOnlyTheConnectedClient_AndCountsEveryConnection()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var control = await RawClient.ConnectAsync(server);
        var controlId = await control.CallAsync("CLIENT", "ID");
        const int Workers = 4, PerWorker = 60;

        var storm = Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            var buffer = new byte[64];
            for (var i = 0; i < PerWorker; i++)
            {
                using var client = new TcpClient { NoDelay = true };
                await client.ConnectAsync(server.EndPoint);
                var stream = client.GetStream();
                switch (i % 3)
                {
                    case 0: // close at once
                        break;
                    case 1: // a request, then close without reading the reply
                        await stream.WriteAsync("PING\r\n"u8.ToArray());
                        break;
                    default: // a request answered, then QUIT
                        await stream.WriteAsync("PING\r\nQUIT\r\n"u8.ToArray());
                        var got = "";
                        while (!got.EndsWith("+OK\r\n", StringComparison.Ordinal))
                        {
                            var n = await stream.ReadAsync(buffer);
                            if (n == 0) break;
                            got += Encoding.ASCII.GetString(buffer, 0, n);
                        }
                        Assert.Equal("+PONG\r\n+OK\r\n", got);
                        break;
                }
            }
        })).ToArray();
        while (!Task.WhenAll(storm).IsCompleted)
        {
            var connected = int.Parse(InfoField(await control.CallAsync("INFO", "clients"), "connected_clients").Split(':')[1]);
            Assert.InRange(connected, 1, 1 + Workers * PerWorker);
        }
        await Task.WhenAll(storm);

        Assert.Equal("connected_clients:1", await WaitForConnectedClientsAsync(control, 1));
        Assert.Equal([Id(controlId)], await ClientListIdsAsync(control));
        Assert.Equal(1, await server.Runtime.Dispatcher.InvokeAsync(() => server.Runtime.Server.Clients.Count));
        var stats = await control.CallAsync("INFO", "stats");
        Assert.Equal($"total_connections_received:{1 + Workers * PerWorker}", InfoField(stats, "total_connections_received"));
        Assert.Equal("rejected_connections:0", InfoField(stats, "rejected_connections"));
    }

    private static string Id(string reply) => reply[1..^2]; // ":7\r\n" -> "7"

    /// <summary>Disconnects are noticed asynchronously: polls INFO until the count is reached (or 10 s pass), returns the last line.</summary>
    private static async Task<string> WaitForConnectedClientsAsync(RawClient control, int expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var line = InfoField(await control.CallAsync("INFO", "clients"), "connected_clients");
            if (line == $"connected_clients:{expected}" || DateTime.UtcNow > deadline) return line;
            await Task.Delay(10);
        }
    }

    private static async Task<string[]> ClientListIdsAsync(RawClient control)
    {
        var reply = await control.CallAsync("CLIENT", "LIST");
        var body = reply[(reply.IndexOf("\r\n", StringComparison.Ordinal) + 2)..^2];
        return body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]["id=".Length..]).OrderBy(long.Parse).ToArray();
    }

    private static string InfoField(string info, string name)
        => info.Split("\r\n").Single(l => l.StartsWith(name + ":", StringComparison.Ordinal));
}
