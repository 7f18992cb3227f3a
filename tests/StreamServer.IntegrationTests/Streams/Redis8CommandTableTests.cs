using StreamServer.Embedded;
using static StreamServer.IntegrationTests.Persistence.AofTestSupport;

namespace StreamServer.IntegrationTests.Streams;

/// <summary>
/// The Redis 8 stream commands in COMMAND INFO / COMMAND DOCS: arity, flags, key positions and ACL categories as the
/// command pages give them (xdelex, xackdel, xcfgset, xnack, xidmprecord pages' metadata), and "since".
/// </summary>
public sealed class Redis8CommandTableTests
{
    [Theory]
    [InlineData("xdelex", -5, "8.2.0")]
    [InlineData("xackdel", -6, "8.2.0")]
    [InlineData("xcfgset", -2, "8.6.0")]
    [InlineData("xidmprecord", 5, "8.8.0")]
    [InlineData("xnack", -7, "8.8.0")]
    public async Task CommandInfoAndDocs_DescribeTheNewCommands(string name, int arity, string since)
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await Connect(server.Port);
        var info = await c.Cmd("COMMAND", "INFO", name);
        Assert.StartsWith($"*1\r\n*10\r\n${name.Length}\r\n{name}\r\n:{arity}\r\n*2\r\n+write\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@write\r\n+@stream\r\n+@fast\r\n", info, StringComparison.Ordinal);
        var docs = await c.Cmd("COMMAND", "DOCS", name);
        Assert.Contains($"$5\r\nsince\r\n${since.Length}\r\n{since}\r\n", docs, StringComparison.Ordinal);
        Assert.Contains("$5\r\ngroup\r\n$6\r\nstream\r\n", docs, StringComparison.Ordinal);
    }
}
