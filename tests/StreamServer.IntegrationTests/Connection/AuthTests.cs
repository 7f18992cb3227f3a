using System.Text;
using StreamServer.Configuration;
using StreamServer.Embedded;
using StreamServer.IntegrationTests.Conformance;

namespace StreamServer.IntegrationTests.Connection;

/// <summary>requirepass: what an unauthenticated client may do, as Redis 7 allows it.</summary>
public class AuthTests
{
    private static byte[][] Cmd(params string[] words) => words.Select(Encoding.UTF8.GetBytes).ToArray();

    private static async Task<(EmbeddedServer Server, RespConnection Conn)> StartAsync(CancellationToken ct)
    {
        var server = await EmbeddedServer.StartAsync(new ServerOptions { Port = 0, Bind = ["127.0.0.1"], RequirePass = "s3cret" }, ct);
        var conn = await RespConnection.ConnectAsync("127.0.0.1", server.Port, ct);
        return (server, conn);
    }

    private static async Task<string> Send(RespConnection c, CancellationToken ct, params string[] words)
        => Encoding.Latin1.GetString(await c.RoundTripAsync(Cmd(words), ct));

    [Fact]
    public async Task RequirePass_CommandsBeforeAuth_GetNoAuth_ThenAuthUnlocks()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var (server, c) = await StartAsync(cts.Token);
        await using var _ = server;
        await using var __ = c;
        Assert.Equal("-NOAUTH Authentication required.\r\n", await Send(c, cts.Token, "GET", "k"));
        Assert.Equal("-WRONGPASS invalid username-password pair or user is disabled.\r\n", await Send(c, cts.Token, "AUTH", "nope"));
        Assert.Equal("-WRONGPASS invalid username-password pair or user is disabled.\r\n", await Send(c, cts.Token, "AUTH", "other", "s3cret"));
        Assert.Equal("+OK\r\n", await Send(c, cts.Token, "AUTH", "default", "s3cret"));
        Assert.Equal("$-1\r\n", await Send(c, cts.Token, "GET", "k"));
    }

    [Fact]
    public async Task Hello_WithAuth_AuthenticatesAndSwitchesProtocol()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var (server, c) = await StartAsync(cts.Token);
        await using var _ = server;
        await using var __ = c;
        Assert.StartsWith("-NOAUTH HELLO must be called with the client already authenticated", await Send(c, cts.Token, "HELLO", "3"));
        var hello = await Send(c, cts.Token, "HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "me");
        Assert.StartsWith("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n", hello);
        Assert.Equal("_\r\n", await Send(c, cts.Token, "GET", "k"));
        Assert.Equal("$2\r\nme\r\n", await Send(c, cts.Token, "CLIENT", "GETNAME"));
    }

    [Fact]
    public async Task Unauthenticated_BigMultibulk_IsAProtocolErrorAndCloses()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var (server, c) = await StartAsync(cts.Token);
        await using var _ = server;
        await using var __ = c;
        await c.SendRawAsync(Encoding.ASCII.GetBytes("*11\r\n"), cts.Token);
        Assert.Equal("-ERR Protocol error: unauthenticated multibulk length\r\n", Encoding.Latin1.GetString(await c.ReadReplyAsync(cts.Token)));
        Assert.True(await c.IsClosedByServerAsync(cts.Token));
    }

    [Fact]
    public async Task Unauthenticated_BigBulk_IsAProtocolErrorAndCloses()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var (server, c) = await StartAsync(cts.Token);
        await using var _ = server;
        await using var __ = c;
        await c.SendRawAsync(Encoding.ASCII.GetBytes("*2\r\n$3\r\nGET\r\n$16385\r\n"), cts.Token);
        Assert.Equal("-ERR Protocol error: unauthenticated bulk length\r\n", Encoding.Latin1.GetString(await c.ReadReplyAsync(cts.Token)));
        Assert.True(await c.IsClosedByServerAsync(cts.Token));
    }
}
