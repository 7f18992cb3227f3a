namespace StreamServer.Storage.Streams;

/// <summary>
/// A stream (Redis's stream, t_stream.c): packed nodes in a radix tree keyed by each node's master id, plus
/// length, last id, first id, max deleted id and entries added. Storage only: ids are validated and errors
/// worded by the command layer, from the <see cref="StreamAddStatus"/> values returned here.
/// </summary>
public sealed class Stream : RedisObject
{
    /// <summary>Redis's STREAM_LISTPACK_MAX_SIZE: the node byte limit when stream-node-max-bytes is 0 or larger.</summary>
    public const int ListpackMaxSize = 1 << 30;

    /// <summary>What one node costs in the index beyond its array (key, value reference, tree node share).</summary>
    internal const int IndexBytesPerNode = 64;

    /// <summary>A byte[]'s object header and length on 64-bit .NET.</summary>
    internal const int ArrayOverhead = 24;

    private readonly RadixTree<byte[]> _nodes = new();

    // The tail node, so an append needs no seek; null when unknown (then the tree is asked).
    private byte[]? _tail;
    private StreamId _tailKey;
    private long _arrayBytes;

    public Stream(int nodeMaxEntries = 100, int nodeMaxBytes = 4096)
    {
        NodeMaxEntries = nodeMaxEntries;
        NodeMaxBytes = nodeMaxBytes;
    }

    public override RedisType Type => RedisType.Stream;

    public override string Encoding => "stream";

    /// <summary>stream-node-max-entries as it is when appending (0: no limit). The keyspace keeps it current.</summary>
    public int NodeMaxEntries { get; set; }

    /// <summary>stream-node-max-bytes as it is when appending (0: no limit but Redis's 1 GiB).</summary>
    public int NodeMaxBytes { get; set; }

    public long Length { get; private set; }

    /// <summary>The last id ever added (or set by XSETID); deletes and trims never move it.</summary>
    public StreamId LastId { get; set; }

    /// <summary>The id of the first live entry; 0-0 when empty.</summary>
    public StreamId FirstId { get; private set; }

    /// <summary>The greatest id removed by XDEL (trims do not move it, as in Redis 7).</summary>
    public StreamId MaxDeletedId { get; set; }

    /// <summary>How many entries were ever added (XADD), as XINFO's entries-added.</summary>
    public long EntriesAdded { get; set; }

    private ConsumerGroups? _groups;

    /// <summary>Consumer groups by name, created on first use; they live and die with the stream (deleting the key drops them).</summary>
    public ConsumerGroups Groups => _groups ??= new ConsumerGroups();

    /// <summary>The IDMP state (XADD IDMP/IDMPAUTO, XCFGSET); null until idempotency is first used on this stream.</summary>
    public IdempotencyMap? Idmp { get; set; }

    /// <summary>
    /// Whether some consumer group still needs the entry (ACKED): a group that has not read it yet, or holds it in
    /// its PEL. A stream without groups references nothing.
    /// </summary>
    public bool IsReferenced(StreamId id)
    {
        if (_groups is null || _groups.Count == 0) return false;
        foreach (var group in _groups.All)
        {
            if (id > group.LastDeliveredId || group.IsPending(id)) return true;
        }
        return false;
    }

    /// <summary>DELREF: removes <paramref name="id"/> from every group's PEL (and its owner's); false when none held it.</summary>
    public bool DropReferences(StreamId id)
    {
        if (_groups is null || _groups.Count == 0) return false;
        var dropped = false;
        foreach (var group in _groups.All) dropped |= group.Acknowledge(id);
        return dropped;
    }

    /// <summary>Whether the live entry <paramref name="id"/> exists (streamEntryExists).</summary>
    public bool Contains(StreamId id)
    {
        var it = Range(id, id, 1);
        return it.MoveNext();
    }

    /// <summary>The id of the last live entry (streamLastValidID); 0-0 when empty.</summary>
    public StreamId LastLiveId
    {
        get
        {
            var it = ReverseRange(StreamId.Min, StreamId.Max, 1);
            return it.MoveNext() ? it.Current.Id : default;
        }
    }

    /// <summary>Radix tree keys (XINFO STREAM's radix-tree-keys), zombie nodes included.</summary>
    public int NodeCount => _nodes.Count;

    /// <summary>Bytes this stream holds: node arrays (with a tail's spare capacity) and their share of the index.</summary>
    public long EstimatedBytes => _arrayBytes + (long)_nodes.Count * IndexBytesPerNode;

    // ---- ids ---------------------------------------------------------------------------------------------

    /// <summary>The id for <c>XADD key *</c> (streamNextID): now, or the last id plus one when the clock is behind.</summary>
    public StreamAddStatus TryNextId(ulong nowMs, out StreamId id)
    {
        if (LastId == StreamId.Max) { id = default; return StreamAddStatus.IdSpaceExhausted; }
        if (nowMs > LastId.Ms) id = new StreamId(nowMs, 0);
        else LastId.TryIncrement(out id);
        return StreamAddStatus.Ok;
    }

    /// <summary>The id for <c>XADD key ms-*</c>: seq 0 for a new ms, else the last seq plus one.</summary>
    public StreamAddStatus TryAutoSequenceId(ulong ms, out StreamId id)
    {
        id = default;
        if (LastId == StreamId.Max) return StreamAddStatus.IdSpaceExhausted;
        if (ms == LastId.Ms)
        {
            if (LastId.Seq == ulong.MaxValue) return StreamAddStatus.IdNotGreaterThanLast;
            id = new StreamId(ms, LastId.Seq + 1);
            return StreamAddStatus.Ok;
        }
        id = new StreamId(ms, 0);
        return id > LastId ? StreamAddStatus.Ok : StreamAddStatus.IdNotGreaterThanLast;
    }

    /// <summary>Checks an explicit <c>XADD key ms-seq</c> id, in Redis's order: 0-0, exhausted stream, not greater.</summary>
    public StreamAddStatus ValidateExplicitId(StreamId id)
    {
        if (id.IsZero) return StreamAddStatus.IdZero;
        if (LastId == StreamId.Max) return StreamAddStatus.IdSpaceExhausted;
        return id > LastId ? StreamAddStatus.Ok : StreamAddStatus.IdNotGreaterThanLast;
    }

    // ---- append ------------------------------------------------------------------------------------------

    /// <summary>
    /// Appends an entry (streamAppendItem). <paramref name="fieldsAndValues"/> alternates field, value (at least one
    /// pair). The id must come from <see cref="TryNextId(ulong, out StreamId)"/> or have been validated.
    /// </summary>
    public StreamAddStatus Append(StreamId id, ReadOnlySpan<ReadOnlyMemory<byte>> fieldsAndValues)
    {
        if (fieldsAndValues.Length == 0 || (fieldsAndValues.Length & 1) != 0)
            throw new ArgumentException("Fields and values must come in pairs, at least one.", nameof(fieldsAndValues));
        if (id <= LastId) return StreamAddStatus.IdNotGreaterThanLast;
        var rawLength = StreamNode.RawLength(fieldsAndValues);
        if (rawLength > ListpackMaxSize) return StreamAddStatus.ElementsTooLarge;

        if (_tail is null && _nodes.TryGetLast(out var lastKey, out var lastNode))
        {
            Unshare(lastKey, ref lastNode); // a sealed node that is the last again may take this append in place
            _tail = lastNode;
            _tailKey = lastKey;
        }

        byte[]? unreferenced = null;
        if (_tail is not null && IsFull(_tail, rawLength))
        {
            var sealedNode = _tail;
            _arrayBytes += StreamNode.Seal(ref sealedNode);
            if (!ReferenceEquals(sealedNode, _tail))
            {
                _nodes.Set(_tailKey, sealedNode);
                unreferenced = _tail; // the tree holds the exact copy now; the next tail reuses this array
            }
            _tail = null;
        }

        if (_tail is null)
        {
            var expected = NodeMaxEntries > 0 ? NodeMaxEntries : 100;
            _tail = StreamNode.Create(id, fieldsAndValues, expected, unreferenced);
            _tailKey = id;
            _nodes.TryAdd(id, _tail);
            _arrayBytes += _tail.Length + ArrayOverhead;
        }
        else
        {
            var node = _tail;
            var grownBy = StreamNode.Append(ref node, _tailKey, id, fieldsAndValues);
            if (grownBy != 0)
            {
                _arrayBytes += grownBy;
                _tail = node;
                _nodes.Set(_tailKey, node);
            }
        }

        if (Length == 0) FirstId = id;
        Length++;
        LastId = id;
        EntriesAdded++;
        return StreamAddStatus.Ok;
    }

    /// <summary>
    /// Redis's test for starting a new node: listpack bytes plus the new data, or the entry count (deleted included).
    /// </summary>
    private bool IsFull(byte[] tail, long rawLength)
    {
        long maxBytes = NodeMaxBytes;
        if (maxBytes <= 0 || maxBytes > ListpackMaxSize) maxBytes = ListpackMaxSize;
        if (StreamNode.ListpackBytes(tail) + rawLength >= maxBytes) return true;
        return NodeMaxEntries > 0 && StreamNode.Live(tail) + StreamNode.Deleted(tail) >= NodeMaxEntries;
    }

    // ---- reading -----------------------------------------------------------------------------------------

    /// <summary>Entries with <paramref name="start"/> ≤ id ≤ <paramref name="end"/>, oldest first; at most <paramref name="count"/> when positive.</summary>
    public StreamIterator Range(StreamId start, StreamId end, long count = 0)
        => new(_nodes, start, end, count, reverse: false);

    /// <summary>As <see cref="Range"/>, newest first (XREVRANGE).</summary>
    public StreamIterator ReverseRange(StreamId start, StreamId end, long count = 0)
        => new(_nodes, start, end, count, reverse: true);

    // ---- delete ------------------------------------------------------------------------------------------

    /// <summary>XDEL of one id: false when absent or already deleted. A node whose last live entry goes is freed.</summary>
    public bool Delete(StreamId id)
    {
        if (!_nodes.SeekFloor(id, out var key, out var node)) return false;
        var used = StreamNode.Used(node);
        for (var p = StreamNode.EntriesStart(node); p < used;)
        {
            StreamNode.ReadHeader(node, p, key, out var flags, out var entryId, out var fieldCount, out var payload);
            if (entryId > id) return false;
            if (entryId == id)
            {
                if ((flags & StreamNode.FlagDeleted) != 0) return false;
                if (StreamNode.Live(node) == 1) RemoveNode(key, node);
                else
                {
                    Unshare(key, ref node);
                    StreamNode.MarkDeleted(node, p);
                }
                Length--;
                if (id > MaxDeletedId) MaxDeletedId = id;
                if (Length == 0) FirstId = default;
                else if (id == FirstId) FirstId = FindFirstLiveId();
                return true;
            }
            p = StreamNode.EntryEnd(node, p, flags, fieldCount, payload);
        }
        return false;
    }

    // ---- trim --------------------------------------------------------------------------------------------

    /// <summary>
    /// XTRIM/XADD MAXLEN (streamTrim): removes the oldest entries until at most <paramref name="maxLen"/> remain.
    /// Approximate removes whole nodes only, stopping at the first that cannot go entirely; exact then marks
    /// entries deleted inside that node. <paramref name="limit"/> (0: none) caps the entries removed, whole
    /// nodes at a time. Returns the number of entries removed.
    /// </summary>
    public long TrimByMaxLen(long maxLen, bool approximate, long limit, ReferencePolicy policy = ReferencePolicy.KeepRef)
        => policy == ReferencePolicy.Acked ? TrimAcked(maxLen, default, byMinId: false, approximate, limit)
            : Trim(maxLen, default, byMinId: false, approximate, limit, policy == ReferencePolicy.DelRef);

    /// <summary>XTRIM/XADD MINID: removes entries with ids below <paramref name="minId"/>; otherwise as <see cref="TrimByMaxLen"/>.</summary>
    public long TrimByMinId(StreamId minId, bool approximate, long limit, ReferencePolicy policy = ReferencePolicy.KeepRef)
        => policy == ReferencePolicy.Acked ? TrimAcked(0, minId, byMinId: true, approximate, limit)
            : Trim(0, minId, byMinId: true, approximate, limit, policy == ReferencePolicy.DelRef);

    private long Trim(long maxLen, StreamId minId, bool byMinId, bool approximate, long limit, bool dropReferences)
    {
        long removed = 0;
        while (_nodes.TryGetFirst(out var key, out var node))
        {
            if (!byMinId && Length <= maxLen) break;
            long entries = StreamNode.Live(node);
            if (limit > 0 && removed + entries > limit) break;

            var removeNode = byMinId
                ? StreamNode.LastEntryId(node, key) < minId
                : Length - entries >= maxLen;
            if (removeNode)
            {
                if (dropReferences) DropNodeReferences(key, node);
                RemoveNode(key, node);
                Length -= entries;
                removed += entries;
                continue;
            }
            if (approximate) break;

            // Exact: mark entries deleted inside this node, then stop (streamTrim does not go further).
            Unshare(key, ref node);
            var deletedHere = 0;
            var used = StreamNode.Used(node);
            for (var p = StreamNode.EntriesStart(node); p < used;)
            {
                StreamNode.ReadHeader(node, p, key, out var flags, out var id, out var fieldCount, out var payload);
                if (byMinId ? id >= minId : Length <= maxLen) break;
                if ((flags & StreamNode.FlagDeleted) == 0)
                {
                    StreamNode.FlagOnly(node, p);
                    if (dropReferences) DropReferences(id);
                    deletedHere++;
                    Length--;
                }
                p = StreamNode.EntryEnd(node, p, flags, fieldCount, payload);
            }
            // A node can be left with no live entry here (MINID, its last entry already XDELed): Redis keeps it.
            StreamNode.CountDeleted(node, deletedHere);
            removed += deletedHere;
            break;
        }
        FirstId = Length > 0 ? FindFirstLiveId() : default;
        return removed;
    }

    /// <summary>
    /// ACKED trimming: removes, oldest first, only entries no group references (see <see cref="IsReferenced"/>),
    /// passing over the ones still needed. Approximate removes whole nodes only and stops at the first node holding
    /// a referenced entry; exact also deletes single entries (as XDEL does, so max-deleted-entry-id moves).
    /// </summary>
    private long TrimAcked(long maxLen, StreamId minId, bool byMinId, bool approximate, long limit)
    {
        long removed = 0;
        var cursor = StreamId.Min;
        while (_nodes.SeekCeiling(cursor, out var key, out var node))
        {
            if (!byMinId && Length <= maxLen) break;
            long entries = StreamNode.Live(node);
            if (limit > 0 && removed + entries > limit) break;
            var nextCursorOk = key.TryIncrement(out cursor);

            var wholeNode = byMinId ? StreamNode.LastEntryId(node, key) < minId : Length - entries >= maxLen;
            if (wholeNode && !NodeHasReferencedEntry(key, node))
            {
                RemoveNode(key, node);
                Length -= entries;
                removed += entries;
                if (!nextCursorOk) break;
                continue;
            }
            if (approximate) break;

            var reached = false;
            var used = StreamNode.Used(node);
            for (var p = StreamNode.EntriesStart(node); p < used;)
            {
                StreamNode.ReadHeader(node, p, key, out var flags, out var id, out var fieldCount, out var payload);
                if (byMinId ? id >= minId : Length <= maxLen) { reached = true; break; }
                if ((flags & StreamNode.FlagDeleted) == 0 && !IsReferenced(id))
                {
                    if (StreamNode.Live(node) == 1)
                    {
                        RemoveNode(key, node);
                        Length--;
                        removed++;
                        if (id > MaxDeletedId) MaxDeletedId = id;
                        break;
                    }
                    Unshare(key, ref node);
                    StreamNode.MarkDeleted(node, p);
                    Length--;
                    removed++;
                    if (id > MaxDeletedId) MaxDeletedId = id;
                }
                p = StreamNode.EntryEnd(node, p, flags, fieldCount, payload);
            }
            if (reached || !nextCursorOk) break;
        }
        FirstId = Length > 0 ? FindFirstLiveId() : default;
        return removed;
    }

    private bool NodeHasReferencedEntry(StreamId key, byte[] node)
    {
        var used = StreamNode.Used(node);
        for (var p = StreamNode.EntriesStart(node); p < used;)
        {
            StreamNode.ReadHeader(node, p, key, out var flags, out var id, out var fieldCount, out var payload);
            if ((flags & StreamNode.FlagDeleted) == 0 && IsReferenced(id)) return true;
            p = StreamNode.EntryEnd(node, p, flags, fieldCount, payload);
        }
        return false;
    }

    private void DropNodeReferences(StreamId key, byte[] node)
    {
        if (_groups is null || _groups.Count == 0) return;
        var used = StreamNode.Used(node);
        for (var p = StreamNode.EntriesStart(node); p < used;)
        {
            StreamNode.ReadHeader(node, p, key, out var flags, out var id, out var fieldCount, out var payload);
            if ((flags & StreamNode.FlagDeleted) == 0) DropReferences(id);
            p = StreamNode.EntryEnd(node, p, flags, fieldCount, payload);
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------

    private void RemoveNode(StreamId key, byte[] node)
    {
        _nodes.Remove(key, out _);
        _arrayBytes -= node.Length + ArrayOverhead;
        if (ReferenceEquals(node, _tail)) _tail = null;
    }

    // ---- snapshots (AOF rewrite) --------------------------------------------------------------------------

    // Snapshots that may still be read (null: none); the nodes they share with this stream are those with keys below
    // _sharedBelow (the last node's, which a snapshot copies), less the ones copied since the last snapshot.
    private List<StreamSnapshot>? _readers;
    private StreamId _sharedBelow;
    private HashSet<StreamId>? _copiedSince;

    /// <summary>
    /// The stream as it is now, for a reader on another thread (<see cref="StreamSnapshot"/>): O(nodes + pending
    /// entries). Until the reader releases it (or <paramref name="lease"/> ends), a shared node is copied before any
    /// in-place change.
    /// </summary>
    public StreamSnapshot TakeSnapshot(SnapshotLease lease)
    {
        AnyReaderHeld(); // forgets released snapshots (and their sharing) before the new one starts sharing
        var nodes = new KeyValuePair<StreamId, byte[]>[_nodes.Count];
        var n = _nodes.CopyTo(nodes);
        if (n > 0)
        {
            // The last node takes appends in place (the tail, or the node that becomes the tail): the snapshot gets a copy.
            nodes[n - 1] = new(nodes[n - 1].Key, (byte[])nodes[n - 1].Value.Clone());
        }
        var groups = new List<StreamSnapshot.GroupState>(_groups?.Count ?? 0);
        if (_groups is not null)
        {
            foreach (var group in _groups.InOrder())
            {
                var consumers = group.ConsumersInOrder();
                var states = new StreamSnapshot.ConsumerState[consumers.Count];
                for (var i = 0; i < states.Length; i++)
                {
                    var consumer = consumers[i];
                    var pending = new StreamSnapshot.PendingState[consumer.Pending.Count];
                    var j = 0;
                    foreach (var (id, _) in consumer.Pending)
                    {
                        group.Pending.TryGetValue(id, out var entry);
                        pending[j++] = new StreamSnapshot.PendingState(id, entry.DeliveryTimeMs, entry.DeliveryCount);
                    }
                    states[i] = new StreamSnapshot.ConsumerState(consumer.Name, pending);
                }
                var nacked = new List<(StreamId, long)>();
                foreach (var (id, entry) in group.Pending)
                {
                    if (entry.IsNacked) nacked.Add((id, entry.DeliveryCount));
                }
                groups.Add(new StreamSnapshot.GroupState(group.Name, group.LastDeliveredId, group.EntriesRead, states, [.. nacked]));
            }
        }
        var snapshot = new StreamSnapshot(lease, nodes)
        {
            Length = Length,
            LastId = LastId,
            MaxDeletedId = MaxDeletedId,
            EntriesAdded = EntriesAdded,
            Idmp = Idmp is { } idmp ? (idmp.DurationSeconds, idmp.MaxSize, [.. idmp.Entries()]) : null,
            Groups = [.. groups],
        };
        if (n > 1)
        {
            // Every node before the last is shared now, copies made for an earlier snapshot included.
            (_readers ??= []).Add(snapshot);
            _sharedBelow = nodes[n - 1].Key;
            _copiedSince?.Clear();
        }
        return snapshot;
    }

    /// <summary>Tests: nodes copied since the last snapshot, or null when no snapshot may still read this stream.</summary>
    internal int? CopiedSinceSnapshot => _readers is null ? null : _copiedSince?.Count ?? 0;

    /// <summary>Whether a snapshot may still read the shared nodes; forgets the ones released.</summary>
    private bool AnyReaderHeld()
    {
        if (_readers is null) return false;
        _readers.RemoveAll(static r => !r.IsHeld);
        if (_readers.Count > 0) return true;
        _readers = null;
        _copiedSince = null;
        _sharedBelow = default;
        return false;
    }

    /// <summary>Before <paramref name="node"/> changes in place: a copy replaces it when a snapshot still reads it.</summary>
    private void Unshare(StreamId key, ref byte[] node)
    {
        if (_readers is null || key >= _sharedBelow || !AnyReaderHeld() || !(_copiedSince ??= []).Add(key)) return;
        var copy = (byte[])node.Clone();
        _nodes.Set(key, copy);
        if (ReferenceEquals(node, _tail)) _tail = copy;
        node = copy;
    }

    /// <summary>streamGetEdgeID(first, skip tombstones). Call only when Length &gt; 0.</summary>
    private StreamId FindFirstLiveId()
    {
        var cursor = StreamId.Min;
        while (_nodes.SeekCeiling(cursor, out var key, out var node))
        {
            if (StreamNode.Live(node) > 0)
            {
                var used = StreamNode.Used(node);
                for (var p = StreamNode.EntriesStart(node); p < used;)
                {
                    StreamNode.ReadHeader(node, p, key, out var flags, out var id, out var fieldCount, out var payload);
                    if ((flags & StreamNode.FlagDeleted) == 0) return id;
                    p = StreamNode.EntryEnd(node, p, flags, fieldCount, payload);
                }
            }
            if (!key.TryIncrement(out cursor)) break;
        }
        return default;
    }

    /// <summary>Per-node summary for tests and XINFO-style diagnostics.</summary>
    internal IEnumerable<(StreamId Key, int Live, int Deleted, StreamId LastEntryId, int ListpackBytes)> DescribeNodes()
    {
        var cursor = StreamId.Min;
        while (_nodes.SeekCeiling(cursor, out var key, out var node))
        {
            yield return (key, StreamNode.Live(node), StreamNode.Deleted(node), StreamNode.LastEntryId(node, key), StreamNode.ListpackBytes(node));
            if (!key.TryIncrement(out cursor)) break;
        }
    }
}
