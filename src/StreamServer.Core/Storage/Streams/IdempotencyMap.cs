namespace StreamServer.Storage.Streams;

/// <summary>
/// A stream's IDMP state (Redis 8.6 idempotent production): per producer id (pid), the most recent idempotent ids
/// (iid) with the entry each one added, oldest first. An iid is forgotten <see cref="DurationSeconds"/> after it was
/// added, or when its producer holds more than <see cref="MaxSize"/>. The time an iid was added is the millisecond
/// part of its entry's id (an IDMP entry always has an auto-generated id), so replaying the AOF later rebuilds the
/// same map. Created on first use: a stream that never sees IDMP pays one null reference.
/// </summary>
public sealed class IdempotencyMap
{
    public const long DefaultDurationSeconds = 100;
    public const long DefaultMaxSize = 100;
    public const long MaxDurationSeconds = 86_400;
    public const long MaxMaxSize = 10_000;

    private readonly Dictionary<byte[], Producer> _producers = new(ByteArrayComparer.Instance);

    /// <summary>IDMP-DURATION: seconds an iid is remembered.</summary>
    public long DurationSeconds { get; private set; } = DefaultDurationSeconds;

    /// <summary>IDMP-MAXSIZE: iids remembered per producer.</summary>
    public long MaxSize { get; private set; } = DefaultMaxSize;

    /// <summary>XINFO's iids-added: entries ever added with an iid.</summary>
    public long IidsAdded { get; set; }

    /// <summary>XINFO's iids-duplicates: XADDs ever answered with an existing entry.</summary>
    public long IidsDuplicates { get; set; }

    /// <summary>XCFGSET: new settings; every producer's iids are forgotten.</summary>
    public void Configure(long durationSeconds, long maxSize)
    {
        DurationSeconds = durationSeconds;
        MaxSize = maxSize;
        _producers.Clear();
    }

    /// <summary>The entry that (pid, iid) added, if it is still remembered at <paramref name="nowMs"/>.</summary>
    public bool TryFind(ReadOnlySpan<byte> pid, ReadOnlySpan<byte> iid, long nowMs, out StreamId id)
    {
        id = default;
        var lookup = _producers.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (!lookup.TryGetValue(pid, out var producer)) return false;
        Expire(producer, nowMs);
        if (producer.Order.Count == 0)
        {
            lookup.Remove(pid); // a producer whose iids all expired is forgotten too
            return false;
        }
        return producer.Ids.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(iid, out id);
    }

    /// <summary>Remembers that (pid, iid) added <paramref name="id"/>; evicts the producer's oldest past MAXSIZE.</summary>
    public void Record(ReadOnlySpan<byte> pid, ReadOnlySpan<byte> iid, StreamId id, long nowMs)
    {
        var lookup = _producers.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (!lookup.TryGetValue(pid, out var producer))
        {
            producer = new Producer();
            _producers.Add(pid.ToArray(), producer);
        }
        var key = iid.ToArray();
        if (!producer.Ids.TryAdd(key, id)) return;
        producer.Order.Enqueue((key, id));
        while (producer.Order.Count > MaxSize) producer.Ids.Remove(producer.Order.Dequeue().Iid);
        Expire(producer, nowMs);
    }

    /// <summary>The remembered (pid, iid, entry) triples in the order they were added per producer (AOF rewrite).</summary>
    public IEnumerable<(byte[] Pid, byte[] Iid, StreamId Id)> Entries()
    {
        foreach (var (pid, producer) in _producers)
        {
            foreach (var (iid, id) in producer.Order) yield return (pid, iid, id);
        }
    }

    /// <summary>XINFO's pids-tracked and iids-tracked as they stand at <paramref name="nowMs"/> (expired iids dropped).</summary>
    public (long Pids, long Iids) Tracked(long nowMs)
    {
        long pids = 0, iids = 0;
        foreach (var (pid, producer) in _producers)
        {
            Expire(producer, nowMs);
            if (producer.Order.Count == 0)
            {
                _producers.Remove(pid); // allowed while enumerating a Dictionary
                continue;
            }
            pids++;
            iids += producer.Order.Count;
        }
        return (pids, iids);
    }

    private void Expire(Producer producer, long nowMs)
    {
        var cutoff = nowMs - DurationSeconds * 1000;
        while (producer.Order.TryPeek(out var oldest) && (long)Math.Min(oldest.Id.Ms, long.MaxValue) <= cutoff)
        {
            producer.Order.Dequeue();
            producer.Ids.Remove(oldest.Iid);
        }
    }

    private sealed class Producer
    {
        public readonly Dictionary<byte[], StreamId> Ids = new(ByteArrayComparer.Instance);
        public readonly Queue<(byte[] Iid, StreamId Id)> Order = new();
    }
}
