using StreamServer.Embedded;
using StreamServer.IntegrationTests.Sets;

namespace StreamServer.IntegrationTests.Hashes;

public sealed class HashTests
{
    [Fact]
    public async Task HScan_LargeHash_CursorVisitsEveryFieldOnceWithItsValue()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await RawClient.ConnectAsync(server);
        var args = new List<string> { "HSET", "h:big" };
        for (var i = 0; i < 200; i++) args.AddRange(["f" + i, "v" + i]);
        Assert.Equal(":200\r\n", await c.CallAsync([.. args]));

        var seen = new Dictionary<string, string>();
        var cursor = "0";
        do
        {
            var reply = await c.CallAsync("HSCAN", "h:big", cursor, "COUNT", "30");
            var m = SetScanTests.ScanReply().Match(reply);
            Assert.True(m.Success, reply);
            cursor = m.Groups["cursor"].Value;
            var items = SetScanTests.BulkItems().Matches(m.Groups["items"].Value).Select(x => x.Groups[1].Value).ToArray();
            for (var i = 0; i < items.Length; i += 2) seen.Add(items[i], items[i + 1]);
        }
        while (cursor != "0");
        Assert.Equal(200, seen.Count);
        Assert.All(seen, pair => Assert.Equal("v" + pair.Key[1..], pair.Value));
    }

    [Fact]
    public async Task HStrLen_HRandField_ReplyShapes()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await RawClient.ConnectAsync(server);
        Assert.Equal(":1\r\n", await c.CallAsync("HSET", "h:one", "f", "value"));
        Assert.Equal(":5\r\n", await c.CallAsync("HSTRLEN", "h:one", "f"));
        Assert.Equal(":0\r\n", await c.CallAsync("HSTRLEN", "h:one", "nope"));
        Assert.Equal("$1\r\nf\r\n", await c.CallAsync("HRANDFIELD", "h:one"));
        Assert.Equal("*2\r\n$1\r\nf\r\n$5\r\nvalue\r\n", await c.CallAsync("HRANDFIELD", "h:one", "5", "WITHVALUES"));
        Assert.Equal("*2\r\n$1\r\nf\r\n$1\r\nf\r\n", await c.CallAsync("HRANDFIELD", "h:one", "-2"));
        Assert.Equal("*0\r\n", await c.CallAsync("HRANDFIELD", "h:missing", "3"));
        Assert.Equal("-ERR syntax error\r\n", await c.CallAsync("HRANDFIELD", "h:one", "1", "BAD"));
        Assert.StartsWith("%7\r\n", await c.CallAsync("HELLO", "3"));
        Assert.Equal("*1\r\n*2\r\n$1\r\nf\r\n$5\r\nvalue\r\n", await c.CallAsync("HRANDFIELD", "h:one", "1", "WITHVALUES"));
        Assert.Equal("_\r\n", await c.CallAsync("HRANDFIELD", "h:missing"));
    }

    [Fact]
    public async Task HIncrByFloat_PlainDecimals_MatchRedisLongDoubleOutput()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await RawClient.ConnectAsync(server);
        // Redis 7.0 (long double, %.17Lf trimmed): 0.1 + 0.2 is "0.3", not double's 0.30000000000000004.
        Assert.Equal("$3\r\n0.1\r\n", await c.CallAsync("HINCRBYFLOAT", "h:f", "x", "0.1"));
        Assert.Equal("$3\r\n0.3\r\n", await c.CallAsync("HINCRBYFLOAT", "h:f", "x", "0.2"));
        Assert.Equal("$21\r\n100000000000000000000\r\n", await c.CallAsync("HINCRBYFLOAT", "h:f", "y", "1e20"));
        Assert.Equal("$4\r\n5000\r\n", await c.CallAsync("HINCRBYFLOAT", "h:f", "z", "5.0e3"));
        Assert.Equal("$1\r\n0\r\n", await c.CallAsync("HINCRBYFLOAT", "h:f", "w", "1e-20"));
    }
}
