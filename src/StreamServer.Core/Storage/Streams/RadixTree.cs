namespace StreamServer.Storage.Streams;

/// <summary>
/// An ordered map from <see cref="StreamId"/> (as its 16-byte big-endian key) to <typeparamref name="TValue"/>:
/// the stream index (id of a node's first entry → packed node) and the pending entries lists.
/// Iteration is by seeking (ceiling / floor), which stays valid across modifications.
/// TEMPORARY: backed by SortedSet until the compact radix tree lands; same public contract.
/// </summary>
public sealed class RadixTree<TValue>
{
    private readonly SortedDictionary<StreamId, TValue> _map = new();
    private readonly SortedSet<StreamId> _keys = new();

    public int Count => _map.Count;

    public bool TryGetValue(StreamId key, out TValue value) => _map.TryGetValue(key, out value!);

    /// <summary>Adds the key; false (and no change) when it is already present.</summary>
    public bool TryAdd(StreamId key, TValue value)
    {
        if (!_map.TryAdd(key, value)) return false;
        _keys.Add(key);
        return true;
    }

    /// <summary>Inserts or replaces.</summary>
    public void Set(StreamId key, TValue value)
    {
        _map[key] = value;
        _keys.Add(key);
    }

    public bool Remove(StreamId key, out TValue value)
    {
        if (!_map.Remove(key, out value!)) return false;
        _keys.Remove(key);
        return true;
    }

    public void Clear()
    {
        _map.Clear();
        _keys.Clear();
    }

    /// <summary>The smallest key ≥ <paramref name="key"/>.</summary>
    public bool SeekCeiling(StreamId key, out StreamId found, out TValue value)
    {
        var view = _keys.GetViewBetween(key, StreamId.Max);
        if (view.Count == 0) { found = default; value = default!; return false; }
        found = view.Min;
        value = _map[found];
        return true;
    }

    /// <summary>The largest key ≤ <paramref name="key"/>.</summary>
    public bool SeekFloor(StreamId key, out StreamId found, out TValue value)
    {
        var view = _keys.GetViewBetween(StreamId.Min, key);
        if (view.Count == 0) { found = default; value = default!; return false; }
        found = view.Max;
        value = _map[found];
        return true;
    }

    public bool TryGetFirst(out StreamId key, out TValue value) => SeekCeiling(StreamId.Min, out key, out value);

    public bool TryGetLast(out StreamId key, out TValue value) => SeekFloor(StreamId.Max, out key, out value);
}
