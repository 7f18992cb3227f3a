using StreamServer.Embedded;

namespace StreamServer.IntegrationTests.PubSub;

public sealed class PubSubTests
{
    [Fact]
    public async Task Publish_Resp2Subscriber_ReceivesMessageArray()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var subscriber = await RawClient.ConnectAsync(server);
        await using var publisher = await RawClient.ConnectAsync(server);

        Assert.Equal("*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n", await subscriber.CallAsync("SUBSCRIBE", "news"));
        Assert.Equal(":1\r\n", await publisher.CallAsync("PUBLISH", "news", "hello"));
        Assert.Equal("*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n", await subscriber.ReadAsync());
    }

    [Fact]
    public async Task Publish_Resp3Subscriber_ReceivesPushMessages()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var subscriber = await RawClient.ConnectAsync(server);
        await using var publisher = await RawClient.ConnectAsync(server);

        Assert.StartsWith("%7\r\n", await subscriber.CallAsync("HELLO", "3"));
        Assert.Equal(">3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n", await subscriber.CallAsync("SUBSCRIBE", "news"));
        Assert.Equal(":1\r\n", await publisher.CallAsync("PUBLISH", "news", "hello"));
        Assert.Equal(">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n", await subscriber.ReadAsync());
        // RESP3 subscribers may run ordinary commands.
        Assert.Equal("+PONG\r\n", await subscriber.CallAsync("PING"));
        Assert.Equal(">3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:0\r\n", await subscriber.CallAsync("UNSUBSCRIBE"));
    }

    [Fact]
    public async Task PSubscribe_MatchingChannel_ReceivesPMessage()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var subscriber = await RawClient.ConnectAsync(server);
        await using var publisher = await RawClient.ConnectAsync(server);

        Assert.Equal("*3\r\n$10\r\npsubscribe\r\n$6\r\nnews.*\r\n:1\r\n", await subscriber.CallAsync("PSUBSCRIBE", "news.*"));
        Assert.Equal(":1\r\n", await publisher.CallAsync("PUBLISH", "news.sport", "goal"));
        Assert.Equal("*4\r\n$8\r\npmessage\r\n$6\r\nnews.*\r\n$10\r\nnews.sport\r\n$4\r\ngoal\r\n", await subscriber.ReadAsync());
        Assert.Equal(":0\r\n", await publisher.CallAsync("PUBLISH", "weather", "rain"));
        Assert.True(await subscriber.NothingArrivesAsync(TimeSpan.FromMilliseconds(200)));
        Assert.Equal(":1\r\n", await publisher.CallAsync("PUBSUB", "NUMPAT"));
    }

    [Fact]
    public async Task Publish_CountsEveryChannelAndPatternDelivery()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var first = await RawClient.ConnectAsync(server);
        await using var second = await RawClient.ConnectAsync(server);
        await using var publisher = await RawClient.ConnectAsync(server);

        await first.CallAsync("SUBSCRIBE", "ch");
        await second.CallAsync("SUBSCRIBE", "ch");
        Assert.Equal("*3\r\n$10\r\npsubscribe\r\n$2\r\nc*\r\n:2\r\n", await second.CallAsync("PSUBSCRIBE", "c*"));

        Assert.Equal(":3\r\n", await publisher.CallAsync("PUBLISH", "ch", "m"));
        Assert.Equal("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n", await first.ReadAsync());
        Assert.Equal("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n", await second.ReadAsync());
        Assert.Equal("*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$1\r\nm\r\n", await second.ReadAsync());
        Assert.Equal(":0\r\n", await publisher.CallAsync("PUBLISH", "other", "m"));
        Assert.Equal("*4\r\n$2\r\nch\r\n:2\r\n$5\r\nother\r\n:0\r\n", await publisher.CallAsync("PUBSUB", "NUMSUB", "ch", "other"));
        Assert.Equal("*1\r\n$2\r\nch\r\n", await publisher.CallAsync("PUBSUB", "CHANNELS"));
        Assert.Equal("*0\r\n", await publisher.CallAsync("PUBSUB", "CHANNELS", "x*"));
    }

    [Fact]
    public async Task SubscriberDisconnect_DropsItsSubscriptions()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var observer = await RawClient.ConnectAsync(server);
        var subscriber = await RawClient.ConnectAsync(server);
        await subscriber.CallAsync("SUBSCRIBE", "ch");
        await subscriber.CallAsync("PSUBSCRIBE", "p*");
        Assert.Equal("*2\r\n$2\r\nch\r\n:1\r\n", await observer.CallAsync("PUBSUB", "NUMSUB", "ch"));

        await subscriber.DisposeAsync();

        var deadline = DateTime.UtcNow.AddSeconds(5);
        string numsub;
        do
        {
            numsub = await observer.CallAsync("PUBSUB", "NUMSUB", "ch");
            if (numsub.EndsWith(":0\r\n", StringComparison.Ordinal)) break;
            await Task.Delay(20);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Equal("*2\r\n$2\r\nch\r\n:0\r\n", numsub);
        Assert.Equal(":0\r\n", await observer.CallAsync("PUBSUB", "NUMPAT"));
        Assert.Equal(":0\r\n", await observer.CallAsync("PUBLISH", "ch", "anyone?"));
    }

    [Fact]
    public async Task Unsubscribe_WhenSubscribedToNothing_RepliesNilChannelAndZero()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var client = await RawClient.ConnectAsync(server);

        Assert.Equal("*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n", await client.CallAsync("UNSUBSCRIBE"));
        Assert.Equal("*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n", await client.CallAsync("PUNSUBSCRIBE"));
        Assert.StartsWith("%7\r\n", await client.CallAsync("HELLO", "3"));
        Assert.Equal(">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n", await client.CallAsync("UNSUBSCRIBE"));
    }

    [Fact]
    public async Task Resp2Subscriber_OtherCommandsRejected_UntilUnsubscribed()
    {
        await using var server = await EmbeddedServer.StartAsync();
        await using var client = await RawClient.ConnectAsync(server);

        await client.SendAsync("SUBSCRIBE", "a", "b");
        Assert.Equal("*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n", await client.ReadAsync());
        Assert.Equal("*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n", await client.ReadAsync());
        Assert.Equal("-ERR Can't execute 'publish': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
            await client.CallAsync("PUBLISH", "a", "x"));
        Assert.Equal("*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n", await client.CallAsync("UNSUBSCRIBE", "a"));
        Assert.Equal("+RESET\r\n", await client.CallAsync("RESET"));
        Assert.Equal(":0\r\n", await client.CallAsync("PUBLISH", "b", "x"));
    }
}
