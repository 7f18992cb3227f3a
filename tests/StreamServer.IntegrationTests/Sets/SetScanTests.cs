using System.Text.RegularExpressions;
using StreamServer.Embedded;

namespace StreamServer.IntegrationTests.Sets;

public sealed partial class SetScanTests
{
    [Fact]
    public async Task SScan_LargeSet_CursorVisitsEveryMemberOnce()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await RawClient.ConnectAsync(server);
        var members = Enumerable.Range(0, 300).Select(i => "member-" + i).ToArray();
        Assert.Equal(":300\r\n", await c.CallAsync(["SADD", "s:big", .. members]));

        var seen = new List<string>();
        var cursor = "0";
        var steps = 0;
        do
        {
            var reply = await c.CallAsync("SSCAN", "s:big", cursor, "COUNT", "50");
            var m = ScanReply().Match(reply);
            Assert.True(m.Success, reply);
            cursor = m.Groups["cursor"].Value;
            seen.AddRange(BulkItems().Matches(m.Groups["items"].Value).Select(x => x.Groups[1].Value));
            steps++;
        }
        while (cursor != "0");
        Assert.True(steps > 1);
        Assert.Equal(members.Order(), seen.Order());
    }

    [Fact]
    public async Task SPop_WithCount_RemovesExactlyThoseMembers_Resp3Set()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var c = await RawClient.ConnectAsync(server);
        Assert.Equal(":5\r\n", await c.CallAsync("SADD", "s:p", "a", "b", "c", "d", "e"));
        Assert.StartsWith("%7\r\n", await c.CallAsync("HELLO", "3"));

        var popped = await c.CallAsync("SPOP", "s:p", "3");
        Assert.StartsWith("~3\r\n", popped);
        var names = BulkItems().Matches(popped).Select(x => x.Groups[1].Value).ToArray();
        Assert.Equal(3, names.Distinct().Count());
        Assert.Equal(":2\r\n", await c.CallAsync("SCARD", "s:p"));
        foreach (var name in names) Assert.Equal(":0\r\n", await c.CallAsync("SISMEMBER", "s:p", name));
        Assert.StartsWith("~2\r\n", await c.CallAsync("SPOP", "s:p", "10"));
        Assert.Equal(":0\r\n", await c.CallAsync("SCARD", "s:p"));
    }

    [GeneratedRegex(@"^\*2\r\n\$\d+\r\n(?<cursor>\d+)\r\n\*\d+\r\n(?<items>.*)$", RegexOptions.Singleline)]
    internal static partial Regex ScanReply();

    [GeneratedRegex(@"\$\d+\r\n([^\r]*)\r\n")]
    internal static partial Regex BulkItems();
}
