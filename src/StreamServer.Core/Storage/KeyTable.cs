using System.Runtime.CompilerServices;

namespace StreamServer.Storage;

/// <summary>
/// A database's key table: key bytes → value, separate chaining over an entries array (as the BCL Dictionary), with
/// lookups by span that allocate nothing.
/// <para>Hand-written rather than a <see cref="Dictionary{TKey, TValue}"/> for one property the BCL type does not
/// offer: stable positional access. An entry keeps its slot (its index in the entries array) from insertion until it
/// is removed; growth copies the entries in slot order; <see cref="GetAt"/> reads a slot. So a cursor over slots
/// survives inserts and removals: the AOF rewrite takes its point-in-time snapshot in chunks between batches
/// (docs/design-notes.md, note 8), and SCAN's cursor is a slot index (every key present for the whole scan is
/// returned once, O(COUNT) per call).</para>
/// </summary>
internal sealed class KeyTable
{
    private struct Entry
    {
        /// <summary>Null in a free slot.</summary>
        public byte[]? Key;
        public RedisObject? Value;
        public int HashCode;

        /// <summary>Next slot in the bucket's chain, or in the free list; -1 ends either.</summary>
        public int Next;
    }

    private const int MinCapacity = 8;

    private int[] _buckets; // slot + 1 of the chain's first entry; 0 = empty bucket
    private Entry[] _entries;
    private int _slotCount;  // slots ever used: [0, _slotCount) are occupied or on the free list
    private int _count;
    private int _freeList = -1;

    public KeyTable()
    {
        _buckets = new int[MinCapacity];
        _entries = new Entry[MinCapacity];
    }

    public int Count => _count;

    /// <summary>One past the highest slot in use or free; slots at and above it are empty. Only a new table resets it.</summary>
    public int SlotCount => _slotCount;

    /// <summary>The slot holding <paramref name="key"/>, or -1.</summary>
    public int Find(ReadOnlySpan<byte> key)
    {
        var hash = Hash(key);
        var entries = _entries;
        for (var i = _buckets[hash & (_buckets.Length - 1)] - 1; (uint)i < (uint)entries.Length; i = entries[i].Next)
        {
            ref var e = ref entries[i];
            if (e.HashCode == hash && key.SequenceEqual(e.Key)) return i;
        }
        return -1;
    }

    /// <summary>The key and value in <paramref name="slot"/> (which must be occupied).</summary>
    public byte[] KeyAt(int slot) => _entries[slot].Key!;

    public RedisObject ValueAt(int slot) => _entries[slot].Value!;

    public void SetValueAt(int slot, RedisObject value) => _entries[slot].Value = value;

    /// <summary>The entry in <paramref name="slot"/>; false when the slot is free or beyond <see cref="SlotCount"/>.</summary>
    public bool GetAt(int slot, out byte[] key, out RedisObject value)
    {
        if ((uint)slot < (uint)_slotCount && _entries[slot].Key is { } k)
        {
            key = k;
            value = _entries[slot].Value!;
            return true;
        }
        key = null!;
        value = null!;
        return false;
    }

    /// <summary>Adds a key known to be absent; returns its slot (a freed one first, as Dictionary does).</summary>
    public int Add(byte[] key, RedisObject value)
    {
        int slot;
        if (_freeList >= 0)
        {
            slot = _freeList;
            _freeList = _entries[slot].Next;
        }
        else
        {
            if (_slotCount == _entries.Length) Grow();
            slot = _slotCount++;
        }
        var hash = Hash(key);
        ref var bucket = ref _buckets[hash & (_buckets.Length - 1)];
        ref var e = ref _entries[slot];
        e.Key = key;
        e.Value = value;
        e.HashCode = hash;
        e.Next = bucket - 1;
        bucket = slot + 1;
        _count++;
        return slot;
    }

    /// <summary>Removes the entry in <paramref name="slot"/> (which must be occupied); the slot joins the free list.</summary>
    public void RemoveAt(int slot)
    {
        var entries = _entries;
        ref var bucket = ref _buckets[entries[slot].HashCode & (_buckets.Length - 1)];
        if (bucket - 1 == slot)
        {
            bucket = entries[slot].Next + 1;
        }
        else
        {
            var i = bucket - 1;
            while (entries[i].Next != slot) i = entries[i].Next;
            entries[i].Next = entries[slot].Next;
        }
        entries[slot] = new Entry { Next = _freeList };
        _freeList = slot;
        _count--;
    }

    /// <summary>Doubles the arrays: entries are copied in slot order (slots do not move), buckets rebuilt.</summary>
    private void Grow()
    {
        var size = _entries.Length * 2;
        var entries = new Entry[size];
        Array.Copy(_entries, entries, _slotCount);
        var buckets = new int[size];
        var mask = size - 1;
        for (var i = 0; i < _slotCount; i++)
        {
            if (entries[i].Key is null) continue; // a free slot keeps its free-list link
            ref var bucket = ref buckets[entries[i].HashCode & mask];
            entries[i].Next = bucket - 1;
            bucket = i + 1;
        }
        _entries = entries;
        _buckets = buckets;
    }

    /// <summary>The live entries in slot order (KEYS, Clear's events). The table must not change meanwhile.</summary>
    public IEnumerable<KeyValuePair<byte[], RedisObject>> Entries()
    {
        for (var i = 0; i < _slotCount; i++)
        {
            if (_entries[i].Key is { } key) yield return new(key, _entries[i].Value!);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Hash(ReadOnlySpan<byte> key) => ByteArrayComparer.Instance.GetHashCode(key);
}
