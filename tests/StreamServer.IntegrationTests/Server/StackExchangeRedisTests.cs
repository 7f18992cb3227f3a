using StackExchange.Redis;
using StreamServer.Embedded;

namespace StreamServer.IntegrationTests.Server;

/// <summary>
/// StackExchange.Redis connects with its default handshake (CLIENT SETNAME/SETINFO, CONFIG GET, INFO, ECHO, and
/// GET of its tie-breaker key, so it also needs the strings family) without errors.
/// </summary>
public sealed class StackExchangeRedisTests
{
    [Theory]
    [InlineData(RedisProtocol.Resp2)]
    [InlineData(RedisProtocol.Resp3)]
    public async Task Connect_WithDefaultOptions_HandshakeLogsNoErrorAndInfoParses(RedisProtocol protocol)
    {
        await using var server = await EmbeddedServer.StartAsync();
        var options = ConfigurationOptions.Parse(server.ConnectionString);
        options.Protocol = protocol;
        var log = new StringWriter();

        await using var mux = await ConnectionMultiplexer.ConnectAsync(options, log);

        Assert.True(mux.IsConnected, log.ToString());
        var problems = log.ToString().Split('\n')
            .Where(line => line.Contains("error", StringComparison.OrdinalIgnoreCase)
                || line.Contains("failed", StringComparison.OrdinalIgnoreCase)
                || line.Contains("Exception", StringComparison.Ordinal))
            .ToList();
        Assert.True(problems.Count == 0, "handshake problems:\n" + string.Join('\n', problems) + "\n--- full log ---\n" + log);

        var pong = await mux.GetDatabase().PingAsync();
        Assert.True(pong >= TimeSpan.Zero);
        Assert.Equal("8.10.0", (await mux.GetDatabase().ExecuteAsync("ECHO", "8.10.0")).ToString());

        var defaultServer = mux.GetServer(mux.GetEndPoints()[0]);
        Assert.Equal(new Version(8, 10, 0), defaultServer.Version);
        Assert.Equal(protocol, defaultServer.Protocol);
        Assert.Equal(ServerType.Standalone, defaultServer.ServerType);

        // INFO and CONFIG GET through IServer need admin mode in StackExchange.Redis.
        var adminOptions = options.Clone();
        adminOptions.AllowAdmin = true;
        await using var admin = await ConnectionMultiplexer.ConnectAsync(adminOptions);
        var endpointServer = admin.GetServer(admin.GetEndPoints()[0]);

        var info = await endpointServer.InfoAsync();
        var sections = info.Select(g => g.Key).ToList();
        // StackExchange.Redis lists only sections with fields (Modules and an empty Keyspace have none).
        Assert.Equal(["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Cluster"],
            sections.Where(s => s is not ("Errorstats" or "Keyspace")));
        var serverSection = info.Single(g => g.Key == "Server").ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("8.10.0", serverSection["redis_version"]);
        Assert.Equal("standalone", serverSection["redis_mode"]);
        Assert.Equal(server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), serverSection["tcp_port"]);
        var stats = info.Single(g => g.Key == "Stats").ToDictionary(p => p.Key, p => p.Value);
        Assert.True(long.Parse(stats["total_commands_processed"], System.Globalization.CultureInfo.InvariantCulture) > 0);

        var config = await endpointServer.ConfigGetAsync("maxmemory*");
        Assert.Contains(config, p => p.Key == "maxmemory" && p.Value == "0");
    }
}
