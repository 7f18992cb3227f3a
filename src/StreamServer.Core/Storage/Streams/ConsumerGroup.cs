using System.Runtime.CompilerServices;

namespace StreamServer.Storage.Streams;

/// <summary>
/// A consumer group (Redis's streamCG): the last delivered id, the logical count of entries read, the group PEL
/// and the consumers, each holding its own PEL of ids (the <see cref="PendingEntry"/> values are in the group PEL).
/// Storage only: replies and errors belong to the command layer.
/// </summary>
public sealed class ConsumerGroup
{
    /// <summary>Redis's SCG_INVALID_ENTRIES_READ: the entries-read counter is unknown.</summary>
    public const long InvalidEntriesRead = -1;

    private readonly Dictionary<byte[], Consumer> _consumers = new(ByteArrayComparer.Instance);

    public ConsumerGroup(byte[] name, StreamId lastDeliveredId, long entriesRead)
    {
        Name = name;
        LastDeliveredId = lastDeliveredId;
        EntriesRead = entriesRead;
    }

    public byte[] Name { get; }

    public StreamId LastDeliveredId { get; set; }

    /// <summary>Logical number of entries read by the group, or <see cref="InvalidEntriesRead"/>.</summary>
    public long EntriesRead { get; set; }

    /// <summary>Every entry delivered to some consumer and not acknowledged.</summary>
    public RadixTree<PendingEntry> Pending { get; } = new();

    public int ConsumerCount => _consumers.Count;

    public Consumer? FindConsumer(ReadOnlySpan<byte> name)
        => _consumers.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(name, out var c) ? c : null;

    /// <summary>The consumer named <paramref name="name"/>, created (seen now, never active) when missing.</summary>
    public Consumer GetOrCreateConsumer(ReadOnlySpan<byte> name, long nowMs, out bool created)
    {
        var lookup = _consumers.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (lookup.TryGetValue(name, out var existing))
        {
            created = false;
            return existing;
        }
        var consumer = new Consumer(name.ToArray(), nowMs);
        _consumers.Add(consumer.Name, consumer);
        created = true;
        return consumer;
    }

    /// <summary>XGROUP DELCONSUMER: drops the consumer and its pending entries from the group PEL; returns how many it had.</summary>
    public long DeleteConsumer(Consumer consumer)
    {
        long pending = consumer.Pending.Count;
        foreach (var (id, _) in consumer.Pending) Pending.Remove(id, out _);
        consumer.Pending.Clear();
        _consumers.Remove(consumer.Name);
        return pending;
    }

    /// <summary>Consumers in name order (Redis keeps them in a rax: bytewise, a prefix first).</summary>
    public List<Consumer> ConsumersInOrder()
    {
        var list = new List<Consumer>(_consumers.Values);
        list.Sort(static (a, b) => a.Name.AsSpan().SequenceCompareTo(b.Name));
        return list;
    }

    // ---- delivery -----------------------------------------------------------------------------------------

    /// <summary>
    /// Records that <paramref name="id"/> was delivered by <c>XREADGROUP … &gt;</c> (streamReplyWithRange with a group):
    /// advances last-delivered-id and entries-read, and unless <paramref name="noAck"/> puts the entry in both PELs
    /// (taking it from another consumer if XGROUP SETID moved the group back).
    /// </summary>
    public void DeliverNew(Stream stream, StreamId id, Consumer consumer, long nowMs, bool noAck)
    {
        if (id > LastDeliveredId)
        {
            if (EntriesRead != InvalidEntriesRead && !RangeHasTombstones(stream, id, StreamId.Max)) EntriesRead++;
            else if (stream.EntriesAdded != 0) EntriesRead = EstimateDistanceFromFirstEverEntry(stream, id);
            LastDeliveredId = id;
        }
        if (noAck) return;
        ref var entry = ref Pending.GetValueRefOrNullRef(id);
        if (!Unsafe.IsNullRef(ref entry))
        {
            Transfer(id, ref entry, consumer);
            entry.DeliveryTimeMs = nowMs;
            entry.DeliveryCount = 1;
        }
        else
        {
            Pending.TryAdd(id, new PendingEntry(consumer, nowMs, 1));
            consumer.Pending.TryAdd(id, default);
        }
        consumer.ActiveTimeMs = nowMs;
    }

    /// <summary>Whether <paramref name="id"/> is in the group PEL.</summary>
    public bool IsPending(StreamId id) => Pending.TryGetValue(id, out _);

    /// <summary>
    /// The first pending entry at or after <paramref name="from"/>: in the group PEL, or in <paramref name="owner"/>'s
    /// when given (its delivery data read from the group PEL).
    /// </summary>
    public bool SeekPending(Consumer? owner, StreamId from, out StreamId id, out PendingEntry entry)
    {
        if (owner is null) return Pending.SeekCeiling(from, out id, out entry);
        if (owner.Pending.SeekCeiling(from, out id, out _)) return Pending.TryGetValue(id, out entry);
        entry = default;
        return false;
    }

    /// <summary>XACK of one id: removes it from both PELs; false when it was not pending.</summary>
    public bool Acknowledge(StreamId id)
    {
        if (!Pending.Remove(id, out var entry)) return false;
        entry.Consumer?.Pending.Remove(id, out _);
        return true;
    }

    /// <summary>
    /// XNACK of one pending id: released from its consumer (owned by none), delivery time 0 so any min-idle-time
    /// claims it, and the delivery count adjusted: SILENT takes back one delivery, FAIL keeps it, FATAL sets
    /// <see cref="PendingEntry.FatalDeliveryCount"/>; <paramref name="retryCount"/> (≥ 0) sets it instead.
    /// False when the id is not pending.
    /// </summary>
    public bool Nack(StreamId id, NackMode mode, long retryCount)
    {
        ref var entry = ref Pending.GetValueRefOrNullRef(id);
        if (Unsafe.IsNullRef(ref entry)) return false;
        entry.Consumer?.Pending.Remove(id, out _);
        entry.Consumer = null;
        entry.DeliveryTimeMs = 0;
        entry.DeliveryCount = retryCount >= 0 ? retryCount
            : mode == NackMode.Fatal ? PendingEntry.FatalDeliveryCount
            : mode == NackMode.Silent ? Math.Max(0, entry.DeliveryCount - 1)
            : entry.DeliveryCount;
        return true;
    }

    /// <summary>XNACK FORCE of an id not pending: a released entry owned by no consumer (count 0, RETRYCOUNT or FATAL's).</summary>
    public void AddNacked(StreamId id, NackMode mode, long retryCount)
        => Pending.Set(id, new PendingEntry(null, 0,
            retryCount >= 0 ? retryCount : mode == NackMode.Fatal ? PendingEntry.FatalDeliveryCount : 0));

    /// <summary>
    /// When the next pending entry becomes claimable with <paramref name="minIdle"/> (Unix ms; 0 when none will:
    /// the PEL is empty or holds only FATAL entries). A blocked CLAIM read re-runs then.
    /// </summary>
    public long NextClaimableAt(long minIdle)
    {
        var oldest = long.MaxValue;
        foreach (var (_, entry) in Pending)
        {
            if (entry.DeliveryCount != PendingEntry.FatalDeliveryCount && entry.DeliveryTimeMs < oldest) oldest = entry.DeliveryTimeMs;
        }
        return oldest == long.MaxValue ? 0 : Math.Max(1, oldest + minIdle);
    }

    /// <summary>
    /// XREADGROUP CLAIM's candidates: pending entries idle for at least <paramref name="minIdle"/> ms, longest idle
    /// first (released ones, delivery time 0, before all), at most <paramref name="count"/> (0: all). FATAL entries are
    /// left where they are: they are not delivered again.
    /// </summary>
    public List<StreamId> IdleForClaim(long minIdle, long count, long nowMs)
    {
        var found = new List<(long Time, StreamId Id)>();
        foreach (var (id, entry) in Pending)
        {
            if (entry.DeliveryCount == PendingEntry.FatalDeliveryCount) continue;
            if (entry.IsNacked || nowMs - entry.DeliveryTimeMs >= minIdle) found.Add((entry.DeliveryTimeMs, id));
        }
        found.Sort(static (a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : a.Id.CompareTo(b.Id));
        var take = count > 0 && count < found.Count ? (int)count : found.Count;
        var ids = new List<StreamId>(take);
        for (var i = 0; i < take; i++) ids.Add(found[i].Id);
        return ids;
    }

    /// <summary>Moves the pending entry <paramref name="id"/> to <paramref name="to"/>'s PEL (a claim); times and counts are the caller's.</summary>
    public static void Transfer(StreamId id, ref PendingEntry entry, Consumer to)
    {
        if (ReferenceEquals(entry.Consumer, to)) return;
        entry.Consumer?.Pending.Remove(id, out _);
        entry.Consumer = to;
        to.Pending.Set(id, default);
    }

    /// <summary>XCLAIM FORCE of an id not pending: a new entry owned by <paramref name="owner"/>, delivered once (streamCreateNACK); a reference to it.</summary>
    public ref PendingEntry AddPending(StreamId id, Consumer owner, long deliveryTimeMs)
    {
        Pending.Set(id, new PendingEntry(owner, deliveryTimeMs, 1));
        owner.Pending.Set(id, default);
        return ref Pending.GetValueRefOrNullRef(id);
    }

    /// <summary>
    /// XCLAIM/XAUTOCLAIM of one pending entry: moves it to <paramref name="to"/> and sets its delivery time; the
    /// delivery is counted unless <paramref name="retryCount"/> (≥ 0) sets the count or JUSTID leaves it.
    /// </summary>
    public static void Claim(StreamId id, ref PendingEntry entry, Consumer to, long deliveryTimeMs, long retryCount, bool countDelivery, long nowMs)
    {
        Transfer(id, ref entry, to);
        entry.DeliveryTimeMs = deliveryTimeMs;
        if (retryCount >= 0) entry.DeliveryCount = retryCount;
        else if (countDelivery && entry.DeliveryCount != long.MaxValue) entry.DeliveryCount++;
        to.SeenTimeMs = nowMs;
        to.ActiveTimeMs = nowMs;
    }

    /// <summary>XAUTOCLAIM examines at most COUNT times this many PEL entries per call.</summary>
    public const long AutoClaimAttemptsFactor = 10;

    /// <summary>
    /// XAUTOCLAIM's walk (Redis 7): from <paramref name="start"/>, claims pending entries idle for at least
    /// <paramref name="minIdle"/> ms for the consumer <paramref name="consumerName"/> (created on the first claim),
    /// and drops those whose entry was deleted from the stream. Both count against <paramref name="count"/>; at most
    /// count × 10 entries are examined. Returns the next cursor: the first pending id not examined, or 0-0 at the end.
    /// <paramref name="consumerCreated"/> tells whether the claim created the consumer (keyspace event).
    /// </summary>
    public StreamId AutoClaim(Stream stream, StreamId start, long count, long minIdle, ReadOnlySpan<byte> consumerName, bool countDelivery, long nowMs,
        List<StreamId> claimed, List<StreamId> deleted, out bool consumerCreated)
    {
        var attempts = count * AutoClaimAttemptsFactor;
        Consumer? consumer = null;
        consumerCreated = false;
        var cursor = start;
        while (attempts-- > 0 && count > 0)
        {
            if (!Pending.SeekCeiling(cursor, out var id, out var seen)) return StreamId.Min;
            var atEnd = !id.TryIncrement(out cursor);
            if (!stream.Contains(id))
            {
                Acknowledge(id);
                deleted.Add(id);
                count--;
            }
            else if (minIdle == 0 || nowMs - seen.DeliveryTimeMs >= minIdle)
            {
                consumer ??= GetOrCreateConsumer(consumerName, nowMs, out consumerCreated);
                Claim(id, ref Pending.GetValueRefOrNullRef(id), consumer, nowMs, -1, countDelivery, nowMs);
                claimed.Add(id);
                count--;
            }
            if (atEnd) return StreamId.Min;
        }
        return Pending.SeekCeiling(cursor, out var next, out _) ? next : StreamId.Min;
    }

    // ---- entries-read and lag (Redis 7) --------------------------------------------------------------------

    /// <summary>The group's lag (entries not yet delivered), or null when fragmentation makes it unknown (streamReplyWithCGLag).</summary>
    public long? Lag(Stream stream)
    {
        if (stream.EntriesAdded == 0) return 0;
        if (EntriesRead != InvalidEntriesRead && !RangeHasTombstones(stream, LastDeliveredId, StreamId.Max))
            return stream.EntriesAdded - EntriesRead;
        var estimate = EstimateDistanceFromFirstEverEntry(stream, LastDeliveredId);
        return estimate != InvalidEntriesRead ? stream.EntriesAdded - estimate : null;
    }

    /// <summary>Redis's streamEstimateDistanceFromFirstEverEntry: the logical read counter of <paramref name="id"/>, or -1 if unknown.</summary>
    public static long EstimateDistanceFromFirstEverEntry(Stream stream, StreamId id)
    {
        if (stream.EntriesAdded == 0) return 0;
        if (stream.Length == 0 && id <= stream.LastId) return stream.EntriesAdded;
        var cmpLast = id.CompareTo(stream.LastId);
        if (cmpLast == 0) return stream.EntriesAdded;
        if (cmpLast > 0) return InvalidEntriesRead;
        if (stream.MaxDeletedId.IsZero || stream.MaxDeletedId < stream.FirstId)
        {
            var cmpFirst = id.CompareTo(stream.FirstId);
            if (cmpFirst < 0) return stream.EntriesAdded - stream.Length;
            if (cmpFirst == 0) return stream.EntriesAdded - stream.Length + 1;
        }
        return InvalidEntriesRead;
    }

    /// <summary>Redis's streamRangeHasTombstones: whether an XDELed id may lie in [start, end].</summary>
    public static bool RangeHasTombstones(Stream stream, StreamId start, StreamId end)
    {
        if (stream.Length == 0 || stream.MaxDeletedId.IsZero) return false;
        if (stream.FirstId > stream.MaxDeletedId) return false; // every tombstone is before the first entry
        return start <= stream.MaxDeletedId && stream.MaxDeletedId <= end;
    }
}

/// <summary>A stream's consumer groups by name (Redis's s->cgroups); the dictionary exists only once a group does.</summary>
public sealed class ConsumerGroups
{
    private Dictionary<byte[], ConsumerGroup>? _byName;

    public int Count => _byName?.Count ?? 0;

    public ConsumerGroup? Find(ReadOnlySpan<byte> name)
        => _byName is not null && _byName.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(name, out var g) ? g : null;

    /// <summary>Creates a group; null when one of that name exists (BUSYGROUP).</summary>
    public ConsumerGroup? TryCreate(ReadOnlySpan<byte> name, StreamId lastDeliveredId, long entriesRead)
    {
        _byName ??= new Dictionary<byte[], ConsumerGroup>(ByteArrayComparer.Instance);
        if (_byName.GetAlternateLookup<ReadOnlySpan<byte>>().ContainsKey(name)) return null;
        var group = new ConsumerGroup(name.ToArray(), lastDeliveredId, entriesRead);
        _byName.Add(group.Name, group);
        return group;
    }

    public bool Remove(ReadOnlySpan<byte> name)
        => _byName is not null && _byName.GetAlternateLookup<ReadOnlySpan<byte>>().Remove(name);

    /// <summary>Every group, in no particular order.</summary>
    public IEnumerable<ConsumerGroup> All => _byName is null ? [] : _byName.Values;

    /// <summary>Groups in name order, as XINFO lists them.</summary>
    public List<ConsumerGroup> InOrder()
    {
        var list = _byName is null ? [] : new List<ConsumerGroup>(_byName.Values);
        list.Sort(static (a, b) => a.Name.AsSpan().SequenceCompareTo(b.Name));
        return list;
    }
}
