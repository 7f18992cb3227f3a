using StreamServer.Execution;

namespace StreamServer.Tests.Execution;

/// <summary>
/// Block timeouts follow Redis's checkBlockedClientTimeout: a client times out once the clock has passed its
/// deadline (timeout &lt; now), never at the deadline's own millisecond, so BLOCK n never ends before n ms.
/// </summary>
public sealed class BlockingRegistryTests
{
    private sealed class Transport : IClientTransport
    {
        public void RequestFlush() { }
        public void CloseAfterReply() { }
        public string RemoteEndPoint => "127.0.0.1:1";
        public string LocalEndPoint => "127.0.0.1:2";
    }

    private static ClientSession BlockedUntil(BlockingRegistry registry, long deadlineMs)
    {
        var client = new ClientSession(1, new Transport(), 0);
        var state = new BlockState { DeadlineMs = deadlineMs };
        state.Keys.Add((0, "s"u8.ToArray()));
        registry.Block(client, state);
        return client;
    }

    [Fact]
    public void TimedOut_AtTheDeadlineItself_IsNotYet_OneMillisecondLaterItIs()
    {
        var registry = new BlockingRegistry();
        var client = BlockedUntil(registry, 1_000_100);
        var timedOut = new List<ClientSession>();

        registry.TimedOut(1_000_100, timedOut);
        Assert.Empty(timedOut);

        registry.TimedOut(1_000_101, timedOut);
        Assert.Equal([client], timedOut);
    }

    [Fact]
    public void NextDeadline_IsTheFirstMillisecondAtWhichTheClientTimesOut()
    {
        var registry = new BlockingRegistry();
        BlockedUntil(registry, 1_000_200);
        BlockedUntil(registry, 1_000_100);
        BlockedUntil(registry, 0); // blocks forever: no deadline

        Assert.Equal(1_000_101, registry.NextDeadline());
    }

    [Fact]
    public void NextDeadline_OfADeadlineAtTheEndOfTime_DoesNotOverflow()
    {
        var registry = new BlockingRegistry();
        BlockedUntil(registry, long.MaxValue);

        Assert.Equal(long.MaxValue, registry.NextDeadline());
    }
}
