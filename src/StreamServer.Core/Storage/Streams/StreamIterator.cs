namespace StreamServer.Storage.Streams;

/// <summary>
/// Walks a stream's live entries between two ids inclusive, forward or reverse, without allocating: ids are
/// decoded on the fly and fields/values are slices of the node arrays. A reply writer reads
/// <see cref="StreamEntry.Id"/> and <see cref="StreamEntry.FieldCount"/> first, then the pairs:
/// <code>
/// var it = stream.Range(start, end, count);
/// while (it.MoveNext())
/// {
///     var entry = it.Current;
///     // write entry.Id, then an array of entry.FieldCount * 2
///     foreach (var pair in entry.Fields) { /* pair.Field, pair.Value */ }
/// }
/// </code>
/// Valid until the stream is next modified.
/// </summary>
public struct StreamIterator
{
    private readonly RadixTree<byte[]>? _nodes;
    private readonly StreamId _start;
    private readonly StreamId _end;
    private readonly bool _reverse;
    private long _remaining;
    private bool _started;
    private bool _done;

    private byte[]? _node;
    private StreamId _nodeKey;
    private int _position; // forward: next entry's start; reverse: the end of the next entry to read
    private int _bound;    // forward: the node's used bytes; reverse: the node's first entry

    private StreamId _id;
    private byte _flags;
    private int _fieldCount;
    private int _payload;

    internal StreamIterator(RadixTree<byte[]> nodes, StreamId start, StreamId end, long count, bool reverse)
    {
        _nodes = nodes;
        _start = start;
        _end = end;
        _reverse = reverse;
        _remaining = count > 0 ? count : long.MaxValue;
        _done = start > end;
    }

    public readonly StreamEntry Current
    {
        get
        {
            if (_node is null) throw new InvalidOperationException("MoveNext has not returned true.");
            return new StreamEntry(_node, _id, _flags, _fieldCount, _payload);
        }
    }

    public readonly StreamIterator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_done || _remaining == 0 || _nodes is null) return Finish();
        if (!_started)
        {
            _started = true;
            if (!LoadFirstNode()) return Finish();
        }
        while (true)
        {
            byte flags;
            StreamId id;
            int fieldCount, payload;
            if (!_reverse)
            {
                if (_position >= _bound)
                {
                    if (!LoadNextNode()) return Finish();
                    continue;
                }
                var start = _position;
                StreamNode.ReadHeader(_node, start, _nodeKey, out flags, out id, out fieldCount, out payload);
                _position = StreamNode.EntryEnd(_node, start, flags, fieldCount, payload);
                if ((flags & StreamNode.FlagDeleted) != 0 || id < _start) continue;
                if (id > _end) return Finish();
            }
            else
            {
                if (_position <= _bound)
                {
                    if (!LoadPreviousNode()) return Finish();
                    continue;
                }
                var start = StreamNode.EntryStartBefore(_node, _position);
                StreamNode.ReadHeader(_node, start, _nodeKey, out flags, out id, out fieldCount, out payload);
                _position = start;
                if ((flags & StreamNode.FlagDeleted) != 0 || id > _end) continue;
                if (id < _start) return Finish();
            }
            _id = id;
            _flags = flags;
            _fieldCount = fieldCount;
            _payload = payload;
            _remaining--;
            return true;
        }
    }

    private bool Finish()
    {
        _done = true;
        return false;
    }

    private bool LoadFirstNode()
    {
        byte[] node;
        StreamId key;
        if (!_reverse)
        {
            // The node holding the start is the last one whose master id is not above it (streamIteratorStart).
            if (!_nodes!.SeekFloor(_start, out key, out node) && !_nodes.SeekCeiling(_start, out key, out node)) return false;
        }
        else if (!_nodes!.SeekFloor(_end, out key, out node))
        {
            return false;
        }
        Enter(key, node);
        return true;
    }

    private bool LoadNextNode()
    {
        if (!_nodeKey.TryIncrement(out var next) || !_nodes!.SeekCeiling(next, out var key, out var node) || key > _end) return false;
        Enter(key, node);
        return true;
    }

    private bool LoadPreviousNode()
    {
        // Everything before this node is below its master id; nothing there can be in range.
        if (_nodeKey <= _start || !_nodeKey.TryDecrement(out var previous) || !_nodes!.SeekFloor(previous, out var key, out var node)) return false;
        Enter(key, node);
        return true;
    }

    private void Enter(StreamId key, byte[] node)
    {
        _node = node;
        _nodeKey = key;
        if (_reverse)
        {
            _position = StreamNode.Used(node);
            _bound = StreamNode.EntriesStart(node);
        }
        else
        {
            _position = StreamNode.EntriesStart(node);
            _bound = StreamNode.Used(node);
        }
    }
}

/// <summary>One entry as the iterator sees it: id, field count, and its field/value pairs (slices of the node, or digits of an integer item).</summary>
public readonly ref struct StreamEntry
{
    private readonly ReadOnlySpan<byte> _node;
    private readonly byte _flags;
    private readonly int _payload;

    internal StreamEntry(ReadOnlySpan<byte> node, StreamId id, byte flags, int fieldCount, int payload)
    {
        _node = node;
        Id = id;
        _flags = flags;
        FieldCount = fieldCount;
        _payload = payload;
    }

    public StreamId Id { get; }

    /// <summary>Number of field/value pairs (the reply array holds twice as many items).</summary>
    public int FieldCount { get; }

    public StreamFieldEnumerator Fields => new(_node, (_flags & StreamNode.FlagSameFields) != 0, FieldCount, _payload);
}

/// <summary>Enumerates an entry's field/value pairs; with same-fields entries the names come from the master entry.</summary>
public ref struct StreamFieldEnumerator
{
    private readonly ReadOnlySpan<byte> _node;
    private int _masterPosition; // -1 when the entry carries its own field names
    private int _position;
    private int _remaining;

    internal StreamFieldEnumerator(ReadOnlySpan<byte> node, bool sameFields, int fieldCount, int payload)
    {
        _node = node;
        _remaining = fieldCount;
        _position = payload;
        _masterPosition = -1;
        if (sameFields)
        {
            _masterPosition = StreamNode.HeaderSize;
            Varint.Read(node, ref _masterPosition);
        }
    }

    /// <summary>
    /// Where an item stored as an integer is written back as decimal digits (field in the first half, value in the
    /// second): one buffer per thread, because commands (and the AOF rewrite) enumerate on several threads.
    /// </summary>
    [ThreadStatic]
    private static byte[]? t_digits;

    private static byte[] Digits => t_digits ??= new byte[40];

    /// <summary>The field name; for a name stored as an integer, valid until the next <see cref="MoveNext"/> on this thread.</summary>
    public ReadOnlySpan<byte> Field { get; private set; }

    /// <summary>The value; for a value stored as an integer, valid until the next <see cref="MoveNext"/> on this thread.</summary>
    public ReadOnlySpan<byte> Value { get; private set; }

    public readonly StreamFieldEnumerator GetEnumerator() => this;

    /// <summary>The current pair (for foreach); <see cref="Field"/> and <see cref="Value"/> are the same slices.</summary>
    public readonly StreamFieldPair Current => new(Field, Value);

    public bool MoveNext()
    {
        if (_remaining == 0) return false;
        _remaining--;
        if (_masterPosition >= 0)
        {
            var fieldLength = Varint.ReadInt32(_node, ref _masterPosition);
            Field = _node.Slice(_masterPosition, fieldLength);
            _masterPosition += fieldLength;
        }
        else
        {
            Field = StreamNode.ReadItem(_node, ref _position, Digits.AsSpan(0, 20));
        }
        Value = StreamNode.ReadItem(_node, ref _position, Digits.AsSpan(20, 20));
        return true;
    }
}

/// <summary>A field and its value (see <see cref="StreamFieldEnumerator.Value"/> for how long they stay valid).</summary>
public readonly ref struct StreamFieldPair(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
{
    public ReadOnlySpan<byte> Field { get; } = field;

    public ReadOnlySpan<byte> Value { get; } = value;
}
