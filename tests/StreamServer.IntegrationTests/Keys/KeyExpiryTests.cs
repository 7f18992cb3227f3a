using System.Text;
using StreamServer.Embedded;
using StreamServer.IntegrationTests.Conformance;

namespace StreamServer.IntegrationTests.Keys;

/// <summary>Expiry and keyspace behaviour over real connections, where timing or a second client matters.</summary>
public sealed class KeyExpiryTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private static async Task<string> Send(RespConnection connection, params string[] args)
    {
        using var cts = new CancellationTokenSource(Timeout);
        var reply = await connection.RoundTripAsync(args.Select(Encoding.UTF8.GetBytes).ToArray(), cts.Token);
        return Encoding.UTF8.GetString(reply);
    }

    private static async Task<RespConnection> Connect(EmbeddedServer server)
    {
        using var cts = new CancellationTokenSource(Timeout);
        return await RespConnection.ConnectAsync("127.0.0.1", server.Port, cts.Token);
    }

    /// <summary>Keys in db 0 as the dispatcher sees them (DBSIZE without going through the command).</summary>
    private static ValueTask<int> KeyCount(EmbeddedServer server, int db = 0)
        => server.Runtime.Dispatcher.InvokeAsync(() => server.Runtime.Server.Keyspace[db].Count);

    [Fact]
    public async Task ActiveExpiry_RemovesAKeyNobodyReads_WithinASecond()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var client = await Connect(server);
        Assert.Equal("+OK\r\n", await Send(client, "SET", "keys:soon", "v", "PX", "50"));
        Assert.Equal("+OK\r\n", await Send(client, "SET", "keys:stays", "v"));
        Assert.Equal(2, await KeyCount(server));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(1.5);
        while (await KeyCount(server) != 1 && DateTime.UtcNow < deadline) await Task.Delay(20);

        Assert.Equal(1, await KeyCount(server));
        Assert.Equal(1, await server.Runtime.Dispatcher.InvokeAsync(() => server.Runtime.Server.Keyspace[0].ExpiredKeys));
    }

    [Fact]
    public async Task ExpiredKey_ReadsAsMissing_ForEveryClient()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var writer = await Connect(server);
        await using var reader = await Connect(server);
        // A window wide enough for a loaded 2-core CI machine to read the key before it expires.
        Assert.Equal("+OK\r\n", await Send(writer, "SET", "keys:short", "v", "PX", "1500"));
        Assert.Equal("$1\r\nv\r\n", await Send(reader, "GET", "keys:short"));
        await Task.Delay(1700);
        Assert.Equal("$-1\r\n", await Send(reader, "GET", "keys:short"));
        Assert.Equal(":-2\r\n", await Send(writer, "TTL", "keys:short"));
        Assert.Equal(":0\r\n", await Send(writer, "EXISTS", "keys:short"));
    }

    [Fact]
    public async Task Pttl_CountsDownBetweenCommands()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var client = await Connect(server);
        await Send(client, "SET", "keys:ttl", "v", "PX", "10000");
        await Task.Delay(120);
        var pttl = long.Parse((await Send(client, "PTTL", "keys:ttl"))[1..].TrimEnd(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(pttl, 1, 9890);
        Assert.Equal(":10\r\n", await Send(client, "TTL", "keys:ttl"));
    }

    [Fact]
    public async Task Rename_SeenFromAnotherClient_CarriesTheValueAndTtl()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var a = await Connect(server);
        await using var b = await Connect(server);
        await Send(a, "SET", "keys:from", "v", "EX", "100");
        Assert.Equal("+OK\r\n", await Send(a, "RENAME", "keys:from", "keys:to"));
        Assert.Equal("$1\r\nv\r\n", await Send(b, "GET", "keys:to"));
        Assert.Equal(":100\r\n", await Send(b, "TTL", "keys:to"));
        Assert.Equal(":-2\r\n", await Send(b, "TTL", "keys:from"));
    }

    [Fact]
    public async Task Databases_AreSeparate_ForKeysAndExpiry()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var db0 = await Connect(server);
        await using var db1 = await Connect(server);
        Assert.Equal("+OK\r\n", await Send(db1, "SELECT", "1"));
        await Send(db1, "SET", "keys:k", "one", "EX", "100");
        await Send(db0, "SET", "keys:k", "zero");
        Assert.Equal("$4\r\nzero\r\n", await Send(db0, "GET", "keys:k"));
        Assert.Equal(":-1\r\n", await Send(db0, "TTL", "keys:k"));
        Assert.Equal("$3\r\none\r\n", await Send(db1, "GET", "keys:k"));
        Assert.Equal(":100\r\n", await Send(db1, "TTL", "keys:k"));
        Assert.Equal("*1\r\n$6\r\nkeys:k\r\n", await Send(db1, "KEYS", "*"));
    }

    [Fact]
    public async Task Scan_FullIteration_ReturnsEveryKeyExactlyOnce()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var client = await Connect(server);
        for (var i = 0; i < 500; i++) await Send(client, "SET", $"keys:{i}", "v");

        var seen = new List<string>();
        var cursor = "0";
        var calls = 0;
        do
        {
            var reply = await Send(client, "SCAN", cursor, "COUNT", "37");
            var lines = reply.Split("\r\n");
            // *2, $n, cursor, *m, then $len/key pairs
            cursor = lines[2];
            var count = int.Parse(lines[3][1..], System.Globalization.CultureInfo.InvariantCulture);
            for (var k = 0; k < count; k++) seen.Add(lines[5 + 2 * k]);
            calls++;
        }
        while (cursor != "0" && calls < 1000);

        Assert.Equal(500, seen.Count);
        Assert.Equal(500, seen.Distinct().Count());
        Assert.True(calls > 1);
    }
}
