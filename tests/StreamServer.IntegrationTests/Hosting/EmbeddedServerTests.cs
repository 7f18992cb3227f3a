using StackExchange.Redis;
using StreamServer.Embedded;

namespace StreamServer.IntegrationTests.Hosting;

/// <summary>
/// The fixture shape docs/operations.md recommends: one embedded server per test class, started and stopped
/// by xUnit through IAsyncLifetime.
/// </summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    public EmbeddedServer Server { get; private set; } = null!;

    public ConnectionMultiplexer Redis { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await EmbeddedServer.StartAsync(); // 127.0.0.1, a free port, no persistence
        Redis = await ConnectionMultiplexer.ConnectAsync(Server.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await Redis.DisposeAsync();
        await Server.DisposeAsync();
    }
}

public sealed class EmbeddedServerTests(RedisServerFixture fixture) : IClassFixture<RedisServerFixture>
{
    [Fact]
    public void EndPoint_IsLoopbackOnAFreePort_AndConnectionStringNamesIt()
    {
        Assert.Equal("127.0.0.1", fixture.Server.EndPoint.Address.ToString());
        Assert.NotEqual(0, fixture.Server.Port);
        Assert.Equal($"127.0.0.1:{fixture.Server.Port}", fixture.Server.ConnectionString);
    }

    [Fact]
    public async Task Client_ConnectedThroughTheFixture_WritesAndReadsBack()
    {
        var db = fixture.Redis.GetDatabase();

        await db.StringSetAsync("embedded:key", "value");

        Assert.Equal("value", (await db.StringGetAsync("embedded:key")).ToString());
    }
}
