namespace StreamServer.Storage.Streams;

/// <summary>
/// A stream as it was at one moment, for the AOF rewrite to write on its own thread while the stream goes on
/// changing (what Redis's rewrite gets from fork). Taking one costs the dispatcher O(nodes + pending entries), not
/// O(bytes): the sealed node arrays are shared with the live stream, which copies a shared node before it changes it
/// in place (XDEL, exact trims, an append into a node that became the last again) for as long as a snapshot may
/// still read it; the last node, which appends change in place, is copied at once (see <see cref="Stream.TakeSnapshot"/>).
/// </summary>
public sealed class StreamSnapshot
{
    private readonly SnapshotLease _lease;
    private volatile bool _released;

    internal StreamSnapshot(SnapshotLease lease, KeyValuePair<StreamId, byte[]>[] nodes)
    {
        _lease = lease;
        Nodes = nodes;
    }

    /// <summary>The node arrays in id order, keyed by master id; read-only.</summary>
    internal KeyValuePair<StreamId, byte[]>[] Nodes { get; }

    public long Length { get; init; }

    public StreamId LastId { get; init; }

    public StreamId MaxDeletedId { get; init; }

    public long EntriesAdded { get; init; }

    /// <summary>IDMP-DURATION, IDMP-MAXSIZE and the remembered (pid, iid, id) triples; null when the stream never used IDMP.</summary>
    public (long DurationSeconds, long MaxSize, (byte[] Pid, byte[] Iid, StreamId Id)[] Entries)? Idmp { get; init; }

    /// <summary>The consumer groups in name order.</summary>
    public GroupState[] Groups { get; init; } = [];

    /// <summary>False once the reader is done with it (or its rewrite ended): the stream stops keeping its nodes for it.</summary>
    internal bool IsHeld => !_released && !_lease.Ended;

    /// <summary>The reader is done: the stream may change the shared nodes in place again. Any thread.</summary>
    public void Release() => _released = true;

    /// <summary>A group: last-delivered id, entries-read, consumers in name order, and the entries XNACK released.</summary>
    public sealed record GroupState(byte[] Name, StreamId LastDeliveredId, long EntriesRead, ConsumerState[] Consumers, (StreamId Id, long DeliveryCount)[] Nacked);

    /// <summary>A consumer and its pending entries in id order.</summary>
    public sealed record ConsumerState(byte[] Name, PendingState[] Pending);

    public readonly record struct PendingState(StreamId Id, long DeliveryTimeMs, long DeliveryCount);
}
