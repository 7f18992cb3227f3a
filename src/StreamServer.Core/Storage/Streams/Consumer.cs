namespace StreamServer.Storage.Streams;

/// <summary>A consumer of a group (Redis's streamConsumer): its name, its own PEL and when it was last seen / active.</summary>
public sealed class Consumer
{
    public Consumer(byte[] name, long nowMs)
    {
        Name = name;
        SeenTimeMs = nowMs;
        ActiveTimeMs = -1;
    }

    public byte[] Name { get; }

    /// <summary>The ids delivered to this consumer and not yet acknowledged; their <see cref="PendingEntry"/> is in the group PEL.</summary>
    public RadixTree<PendingId> Pending { get; } = new();

    /// <summary>Last attempted interaction (XREADGROUP, XCLAIM, XAUTOCLAIM): XINFO CONSUMERS idle.</summary>
    public long SeenTimeMs { get; set; }

    /// <summary>Last successful interaction (entries read into its PEL or claimed), -1 if never (Redis 7.2's inactive).</summary>
    public long ActiveTimeMs { get; set; }
}
