using System.Collections;
using System.Runtime.CompilerServices;

namespace StreamServer.Storage.Streams;

/// <summary>
/// An ordered map from <see cref="StreamId"/> (as its 16-byte big-endian key) to <typeparamref name="TValue"/>:
/// the stream index (id of a node's first entry → packed node) and the pending entries lists.
/// Iteration is by seeking (ceiling / floor), which stays valid across modifications.
/// </summary>
/// <remarks>
/// An adaptive radix tree with path compression (see <see cref="Node"/>). Values live inline in their node's
/// value array, so there is no object per key; lookups and seeks walk down at most 16 nodes without
/// allocating or recursing, and inserts allocate only nodes — spare ones first (see <see cref="Spares"/>), so a
/// tree that empties and fills again, as a pending entries list does, stops allocating. Not thread-safe: the
/// dispatcher owns it.
/// </remarks>
public sealed partial class RadixTree<TValue> : IEnumerable<KeyValuePair<StreamId, TValue>>
{
    private Node? _root;
    private int _count;
    private long _bytes;

    public int Count => _count;

    /// <summary>
    /// Approximate memory held by the tree's own nodes and arrays, spares for reuse included (not by the values
    /// they point to).
    /// </summary>
    public long EstimatedBytes => _bytes + SpareBytes;

    public bool TryGetValue(StreamId key, out TValue value)
    {
        ref var stored = ref GetValueRefOrNullRef(key);
        if (Unsafe.IsNullRef(ref stored))
        {
            value = default!;
            return false;
        }
        value = stored;
        return true;
    }

    /// <summary>
    /// A reference to the value stored under <paramref name="key"/>, for updating struct values in place, or a null
    /// reference (<see cref="Unsafe.IsNullRef{T}(ref readonly T)"/>) when the key is absent. Valid until the next
    /// insert or remove on this tree.
    /// </summary>
    public ref TValue GetValueRefOrNullRef(StreamId key)
    {
        var k = RadixKey.From(key);
        var node = _root;
        while (node is not null)
        {
            var depth = node.Depth;
            var diff = k ^ node.Template;
            if ((diff & RadixKey.PrefixMask(depth)) != 0) break;
            var slot = node.Find(RadixKey.ByteAt(k, depth));
            if (slot < 0) break;
            if (node.Children?[slot] is { } child)
            {
                node = child;
                continue;
            }
            if ((diff & RadixKey.SuffixMask(depth)) != 0) break;
            return ref node.Values![slot];
        }
        return ref Unsafe.NullRef<TValue>();
    }

    /// <summary>Adds the key; false (and no change) when it is already present.</summary>
    public bool TryAdd(StreamId key, TValue value) => Insert(RadixKey.From(key), value, replace: false);

    /// <summary>Inserts or replaces.</summary>
    public void Set(StreamId key, TValue value) => Insert(RadixKey.From(key), value, replace: true);

    public bool Remove(StreamId key, out TValue value)
    {
        var k = RadixKey.From(key);
        Node? grandparent = null, parent = null;
        int grandparentSlot = -1, parentSlot = -1;
        var node = _root;
        while (node is not null)
        {
            var depth = node.Depth;
            var diff = k ^ node.Template;
            if ((diff & RadixKey.PrefixMask(depth)) != 0) break;
            var slot = node.Find(RadixKey.ByteAt(k, depth));
            if (slot < 0) break;
            if (node.Children?[slot] is { } child)
            {
                (grandparent, grandparentSlot) = (parent, parentSlot);
                (parent, parentSlot) = (node, slot);
                node = child;
                continue;
            }
            if ((diff & RadixKey.SuffixMask(depth)) != 0) break;

            value = node.Values![slot];
            _spares ??= new Spares();
            CloseSlot(node, slot);
            _count--;
            if (node.Count > 0)
            {
                Collapse(parent, parentSlot, node);
            }
            else
            {
                Discard(node);
                if (parent is null)
                {
                    _root = null;
                }
                else
                {
                    CloseSlot(parent, parentSlot);
                    Collapse(grandparent, grandparentSlot, parent);
                }
            }
            return true;
        }
        value = default!;
        return false;
    }

    /// <summary>Empties the tree and lets go of its spares too.</summary>
    public void Clear()
    {
        _root = null;
        _count = 0;
        _bytes = 0;
        _spares = null;
    }

    /// <summary>The smallest key ≥ <paramref name="key"/>.</summary>
    public bool SeekCeiling(StreamId key, out StreamId found, out TValue value)
    {
        var k = RadixKey.From(key);
        var node = _root;
        // The deepest slot after the path taken so far: where the answer is if nothing below the path is ≥ k.
        Node? after = null;
        var afterSlot = -1;
        while (node is not null)
        {
            var depth = node.Depth;
            var mask = RadixKey.PrefixMask(depth);
            var keyPrefix = k & mask;
            var nodePrefix = node.Template & mask;
            if (keyPrefix != nodePrefix)
            {
                if (keyPrefix < nodePrefix) return Min(node, node.First(), out found, out value);
                break;
            }
            var b = RadixKey.ByteAt(k, depth);
            var slot = node.Ceiling(b);
            if (slot < 0) break;
            if (node.KeyOf(slot) == b)
            {
                if (node.Children?[slot] is { } child)
                {
                    var next = node.Next(slot);
                    if (next >= 0) (after, afterSlot) = (node, next);
                    node = child;
                    continue;
                }
                var leafKey = node.LeafKey(b);
                if (leafKey >= k)
                {
                    found = RadixKey.ToId(leafKey);
                    value = node.Values![slot];
                    return true;
                }
                slot = node.Next(slot);
                if (slot < 0) break;
            }
            return Min(node, slot, out found, out value);
        }
        if (after is not null) return Min(after, afterSlot, out found, out value);
        found = default;
        value = default!;
        return false;
    }

    /// <summary>The largest key ≤ <paramref name="key"/>.</summary>
    public bool SeekFloor(StreamId key, out StreamId found, out TValue value)
    {
        var k = RadixKey.From(key);
        var node = _root;
        // The deepest slot before the path taken so far: where the answer is if nothing below the path is ≤ k.
        Node? before = null;
        var beforeSlot = -1;
        while (node is not null)
        {
            var depth = node.Depth;
            var mask = RadixKey.PrefixMask(depth);
            var keyPrefix = k & mask;
            var nodePrefix = node.Template & mask;
            if (keyPrefix != nodePrefix)
            {
                if (keyPrefix > nodePrefix) return Max(node, node.Last(), out found, out value);
                break;
            }
            var b = RadixKey.ByteAt(k, depth);
            var slot = node.Floor(b);
            if (slot < 0) break;
            if (node.KeyOf(slot) == b)
            {
                if (node.Children?[slot] is { } child)
                {
                    var previous = node.Previous(slot);
                    if (previous >= 0) (before, beforeSlot) = (node, previous);
                    node = child;
                    continue;
                }
                var leafKey = node.LeafKey(b);
                if (leafKey <= k)
                {
                    found = RadixKey.ToId(leafKey);
                    value = node.Values![slot];
                    return true;
                }
                slot = node.Previous(slot);
                if (slot < 0) break;
            }
            return Max(node, slot, out found, out value);
        }
        if (before is not null) return Max(before, beforeSlot, out found, out value);
        found = default;
        value = default!;
        return false;
    }

    public bool TryGetFirst(out StreamId key, out TValue value)
    {
        if (_root is { } root) return Min(root, root.First(), out key, out value);
        key = default;
        value = default!;
        return false;
    }

    public bool TryGetLast(out StreamId key, out TValue value)
    {
        if (_root is { } root) return Max(root, root.Last(), out key, out value);
        key = default;
        value = default!;
        return false;
    }

    /// <summary>Ascending order, by seeking from the last key returned: modifying the tree meanwhile is allowed.</summary>
    public Enumerator GetEnumerator() => new(this);

    IEnumerator<KeyValuePair<StreamId, TValue>> IEnumerable<KeyValuePair<StreamId, TValue>>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public struct Enumerator : IEnumerator<KeyValuePair<StreamId, TValue>>
    {
        private readonly RadixTree<TValue> _tree;
        private StreamId _next;
        private bool _done;

        internal Enumerator(RadixTree<TValue> tree)
        {
            _tree = tree;
            _next = StreamId.Min;
            _done = false;
            Current = default;
        }

        public KeyValuePair<StreamId, TValue> Current { get; private set; }

        readonly object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            if (_done || !_tree.SeekCeiling(_next, out var key, out var value))
            {
                _done = true;
                return false;
            }
            Current = new(key, value);
            _done = !key.TryIncrement(out _next);
            return true;
        }

        public void Reset()
        {
            _next = StreamId.Min;
            _done = false;
        }

        public readonly void Dispose() { }
    }

    /// <summary>
    /// Every entry in key order into <paramref name="destination"/> (at least <see cref="Count"/> long) by one walk of
    /// the tree: O(n), where enumerating seeks from the root for each key. Returns the number copied.
    /// </summary>
    public int CopyTo(Span<KeyValuePair<StreamId, TValue>> destination)
    {
        var n = 0;
        if (_root is not null) CopyTo(_root, destination, ref n);
        return n;
    }

    private static void CopyTo(Node node, Span<KeyValuePair<StreamId, TValue>> destination, ref int n)
    {
        for (var slot = node.First(); slot >= 0; slot = node.Next(slot))
        {
            if (node.Children?[slot] is { } child) CopyTo(child, destination, ref n); // at most 16 deep
            else destination[n++] = new(RadixKey.ToId(node.LeafKey(node.KeyOf(slot))), node.Values![slot]);
        }
    }

    /// <summary>The smallest key under <paramref name="slot"/> of <paramref name="node"/>.</summary>
    private static bool Min(Node node, int slot, out StreamId found, out TValue value)
    {
        while (node.Children?[slot] is { } child)
        {
            node = child;
            slot = node.First();
        }
        found = RadixKey.ToId(node.LeafKey(node.KeyOf(slot)));
        value = node.Values![slot];
        return true;
    }

    /// <summary>The largest key under <paramref name="slot"/> of <paramref name="node"/>.</summary>
    private static bool Max(Node node, int slot, out StreamId found, out TValue value)
    {
        while (node.Children?[slot] is { } child)
        {
            node = child;
            slot = node.Last();
        }
        found = RadixKey.ToId(node.LeafKey(node.KeyOf(slot)));
        value = node.Values![slot];
        return true;
    }

    private bool Insert(UInt128 k, TValue value, bool replace)
    {
        Node? parent = null;
        var parentSlot = -1;
        var node = _root;
        if (node is null)
        {
            _root = NewSingle(k, value);
            _count++;
            return true;
        }
        while (true)
        {
            var depth = node.Depth;
            var diff = k ^ node.Template;
            if ((diff & RadixKey.PrefixMask(depth)) != 0)
            {
                // The key leaves the node's compressed path: branch where they part, above the node.
                var at = RadixKey.FirstDifference(k, node.Template);
                var branch = NewNode(at, RadixKey.ClearByte(k, at), capacity: 2);
                var childSlot = OpenSlot(branch, RadixKey.ByteAt(node.Template, at), leaf: false);
                branch.Children![childSlot] = node;
                var leafSlot = OpenSlot(branch, RadixKey.ByteAt(k, at), leaf: true);
                branch.Values![leafSlot] = value;
                Link(parent, parentSlot, branch);
                _count++;
                return true;
            }

            var b = RadixKey.ByteAt(k, depth);
            var slot = node.Find(b);
            if (slot < 0)
            {
                var suffixMask = RadixKey.SuffixMask(depth);
                if (node.LeafCount == 0 || (diff & suffixMask) == 0)
                {
                    if (node.LeafCount == 0) node.Template = (node.Template & ~suffixMask) | (k & suffixMask);
                    slot = OpenSlot(node, b, leaf: true);
                    node.Values![slot] = value;
                }
                else
                {
                    // Same prefix, another suffix than this node's leaves: a node of its own.
                    var single = NewSingle(k, value);
                    slot = OpenSlot(node, b, leaf: false);
                    node.Children![slot] = single;
                }
                _count++;
                return true;
            }

            if (node.Children?[slot] is { } child)
            {
                (parent, parentSlot) = (node, slot);
                node = child;
                continue;
            }

            if ((diff & RadixKey.SuffixMask(depth)) == 0)
            {
                if (replace) node.Values![slot] = value;
                return false;
            }

            // A leaf whose key shares the path up to here: both go into a node branching where they part.
            var leafKey = node.LeafKey(b);
            var split = RadixKey.FirstDifference(k, leafKey);
            var pair = NewNode(split, RadixKey.ClearByte(leafKey, split), capacity: 2);
            var oldSlot = OpenSlot(pair, RadixKey.ByteAt(leafKey, split), leaf: true);
            pair.Values![oldSlot] = node.Values![slot];
            if (((k ^ leafKey) & RadixKey.SuffixMask(split)) == 0)
            {
                var newSlot = OpenSlot(pair, RadixKey.ByteAt(k, split), leaf: true);
                pair.Values![newSlot] = value;
            }
            else
            {
                var single = NewSingle(k, value);
                var newSlot = OpenSlot(pair, RadixKey.ByteAt(k, split), leaf: false);
                pair.Children![newSlot] = single;
            }
            if (node.Count == 1)
            {
                // A node left with one leaf by removals: the pair replaces it rather than hang below it.
                Link(parent, parentSlot, pair);
                Discard(node);
            }
            else
            {
                LeafToChild(node, slot, pair);
            }
            _count++;
            return true;
        }
    }

    /// <summary>After a removal left <paramref name="node"/> with one entry: fold it into its parent.</summary>
    private void Collapse(Node? parent, int parentSlot, Node node)
    {
        if (node.Count != 1) return;
        var slot = node.First();
        if (node.Children?[slot] is { } child)
        {
            Link(parent, parentSlot, child);
            Discard(node);
            return;
        }
        if (parent is null) return;
        var leafKey = node.LeafKey(node.KeyOf(slot));
        var suffixMask = RadixKey.SuffixMask(parent.Depth);
        if (parent.LeafCount != 0 && ((leafKey ^ parent.Template) & suffixMask) != 0) return;

        _bytes -= parent.EstimatedBytes();
        if (parent.LeafCount == 0) parent.Template = (parent.Template & ~suffixMask) | (leafKey & suffixMask);
        parent.Values ??= RentValues(parent.Capacity);
        parent.Values[parentSlot] = node.Values![slot];
        parent.Children![parentSlot] = null;
        parent.LeafCount++;
        if (parent.ChildCount == 0)
        {
            ReturnChildren(parent.Children);
            parent.Children = null;
        }
        _bytes += parent.EstimatedBytes();
        Discard(node);
    }

    private Node NewNode(int depth, UInt128 template, int capacity)
    {
        var node = RentNode(depth, template, capacity);
        _bytes += node.EstimatedBytes();
        return node;
    }

    /// <summary>A node holding one key, branching on the last byte so that the key's neighbours can join it.</summary>
    private Node NewSingle(UInt128 k, TValue value)
    {
        var node = NewNode(15, RadixKey.ClearByte(k, 15), capacity: 1);
        var slot = OpenSlot(node, RadixKey.ByteAt(k, 15), leaf: true);
        node.Values![slot] = value;
        return node;
    }

    /// <summary>A node no longer linked: out of the live bytes, into the spares.</summary>
    private void Discard(Node node)
    {
        _bytes -= node.EstimatedBytes();
        ReturnNode(node);
    }

    private void Link(Node? parent, int parentSlot, Node node)
    {
        if (parent is null) _root = node;
        else parent.Children![parentSlot] = node;
    }

    private void LeafToChild(Node node, int slot, Node child)
    {
        _bytes -= node.EstimatedBytes();
        node.Values![slot] = default!;
        node.LeafCount--;
        if (node.LeafCount == 0)
        {
            ReturnValues(node.Values);
            node.Values = null;
        }
        node.Children ??= RentChildren(node.Capacity);
        node.Children[slot] = child;
        _bytes += node.EstimatedBytes();
    }

    /// <summary>Makes room for key byte <paramref name="b"/> (not present) and returns its slot, growing the node if full.</summary>
    private int OpenSlot(Node node, byte b, bool leaf)
    {
        _bytes -= node.EstimatedBytes();
        if (!node.IsDirect && node.Count == node.Keys.Length)
        {
            if (node.Keys.Length == MaxSortedCapacity) ToDirect(node);
            else ResizeSorted(node, node.Keys.Length * 2);
        }

        int slot;
        if (node.IsDirect)
        {
            slot = b;
            node.SetPresent(b);
        }
        else
        {
            slot = node.LowerBound(b);
            var tail = node.Count - slot;
            if (tail > 0)
            {
                Array.Copy(node.Keys, slot, node.Keys, slot + 1, tail);
                if (node.Values is { } values)
                {
                    Array.Copy(values, slot, values, slot + 1, tail);
                    values[slot] = default!;
                }
                if (node.Children is { } children)
                {
                    Array.Copy(children, slot, children, slot + 1, tail);
                    children[slot] = null;
                }
            }
            node.Keys[slot] = b;
        }

        if (leaf)
        {
            node.Values ??= RentValues(node.Capacity);
            node.LeafCount++;
        }
        else
        {
            node.Children ??= RentChildren(node.Capacity);
        }
        node.Count++;
        _bytes += node.EstimatedBytes();
        return slot;
    }

    /// <summary>Removes a slot, shrinking the node when it has become sparse (not when empty: the caller discards it).</summary>
    private void CloseSlot(Node node, int slot)
    {
        _bytes -= node.EstimatedBytes();
        if (!node.IsChild(slot)) node.LeafCount--;
        if (node.IsDirect)
        {
            node.ClearPresent(slot);
            if (node.Values is { } values) values[slot] = default!;
            if (node.Children is { } children) children[slot] = null;
        }
        else
        {
            var last = node.Count - 1;
            var tail = last - slot;
            Array.Copy(node.Keys, slot + 1, node.Keys, slot, tail);
            if (node.Values is { } values)
            {
                Array.Copy(values, slot + 1, values, slot, tail);
                values[last] = default!;
            }
            if (node.Children is { } children)
            {
                Array.Copy(children, slot + 1, children, slot, tail);
                children[last] = null;
            }
        }
        node.Count--;
        if (node.LeafCount == 0 && node.Values is { } emptied)
        {
            ReturnValues(emptied);
            node.Values = null;
        }
        if (node.ChildCount == 0 && node.Children is { } orphaned)
        {
            ReturnChildren(orphaned);
            node.Children = null;
        }

        if (node.IsDirect)
        {
            if (node.Count <= DirectShrinkCount) ToSorted(node, MaxSortedCapacity);
        }
        else if (node.Count > 0 && node.Keys.Length > 1 && node.Count <= node.Keys.Length / 4)
        {
            ResizeSorted(node, node.Keys.Length / 2);
        }
        _bytes += node.EstimatedBytes();
    }

    private void ResizeSorted(Node node, int capacity)
    {
        var count = node.Count;
        var keys = RentKeys(capacity);
        Array.Copy(node.Keys, keys, count);
        ReturnKeys(node.Keys);
        node.Keys = keys;
        if (node.Values is { } values)
        {
            var resized = RentValues(capacity);
            Array.Copy(values, resized, count);
            ReturnValues(values);
            node.Values = resized;
        }
        if (node.Children is { } children)
        {
            var resized = RentChildren(capacity);
            Array.Copy(children, resized, count);
            ReturnChildren(children);
            node.Children = resized;
        }
    }

    private void ToDirect(Node node)
    {
        var keys = node.Keys;
        var values = node.Values;
        var children = node.Children;
        node.Keys = RentKeys(32);
        node.IsDirect = true;
        node.Values = values is null ? null : RentValues(256);
        node.Children = children is null ? null : RentChildren(256);
        for (var i = 0; i < node.Count; i++)
        {
            var b = keys[i];
            node.SetPresent(b);
            if (values is not null) node.Values![b] = values[i];
            if (children is not null) node.Children![b] = children[i];
        }
        ReturnKeys(keys);
        if (values is not null) ReturnValues(values);
        if (children is not null) ReturnChildren(children);
    }

    private void ToSorted(Node node, int capacity)
    {
        var bitmap = node.Keys;
        var values = node.Values;
        var children = node.Children;
        var keys = RentKeys(capacity);
        var sortedValues = values is null ? null : RentValues(capacity);
        var sortedChildren = children is null ? null : RentChildren(capacity);
        var i = 0;
        for (var slot = node.First(); slot >= 0; slot = node.Next(slot), i++)
        {
            keys[i] = (byte)slot;
            if (values is not null) sortedValues![i] = values[slot];
            if (children is not null) sortedChildren![i] = children[slot];
        }
        node.IsDirect = false;
        node.Keys = keys;
        node.Values = sortedValues;
        node.Children = sortedChildren;
        ReturnKeys(bitmap);
        if (values is not null) ReturnValues(values);
        if (children is not null) ReturnChildren(children);
    }

    /// <summary>Test hook: checks every structural invariant and the byte accounting; throws on the first violation.</summary>
    internal void CheckInvariants()
    {
        var spares = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var spareBytes = CheckSpares(spares);
        long bytes = 0;
        var count = 0;
        if (_root is not null) Check(_root, spares, ref bytes, ref count);
        if (count != _count) throw new InvalidOperationException($"count {_count}, found {count}");
        if (bytes != _bytes) throw new InvalidOperationException($"bytes {_bytes}, recomputed {bytes}");
        if (spareBytes != SpareBytes) throw new InvalidOperationException($"spare bytes {SpareBytes}, recomputed {spareBytes}");
    }

    /// <summary>Spares are cleared, within budget, and listed in <paramref name="seen"/> (a live node must not use one).</summary>
    private long CheckSpares(HashSet<object> seen)
    {
        if (_spares is not { } spares) return 0;
        long bytes = 0;
        for (var i = 0; i < spares.Nodes.Length; i++)
        {
            var node = spares.Nodes[i];
            if ((node is null) != (i >= spares.NodeCount)) throw new InvalidOperationException("spare node count wrong");
            if (node is null) continue;
            if (node.Count != 0 || node.Keys.Length != 0 || node.Values is not null || node.Children is not null)
                throw new InvalidOperationException("spare node not reset");
            if (!seen.Add(node)) throw new InvalidOperationException("spare node listed twice");
            bytes += NodeObjectBytes;
        }
        bytes += CheckSpareArrays(spares.Keys, 1, seen) + CheckSpareArrays(spares.Values, Unsafe.SizeOf<TValue>(), seen)
            + CheckSpareArrays(spares.Children, IntPtr.Size, seen);
        if (bytes > MaxSpareBytes) throw new InvalidOperationException($"spares hold {bytes} bytes");
        return SparesObjectBytes + bytes;
    }

    private static long CheckSpareArrays<T>(T[]?[] slots, int elementSize, HashSet<object> seen)
    {
        long bytes = 0;
        for (var slot = 0; slot < slots.Length; slot++)
        {
            var array = slots[slot];
            if (array is null) continue;
            if (array.Length != 1 << (slot / 2)) throw new InvalidOperationException("spare array in the wrong slot");
            foreach (var item in array)
            {
                if (!EqualityComparer<T>.Default.Equals(item, default!)) throw new InvalidOperationException("spare array not cleared");
            }
            if (!seen.Add(array)) throw new InvalidOperationException("spare array listed twice");
            bytes += Node.ArrayBytes(array.Length, elementSize);
        }
        return bytes;
    }

    private static void Check(Node node, HashSet<object> spares, ref long bytes, ref int count)
    {
        if (spares.Contains(node) || spares.Contains(node.Keys) || (node.Values is { } v && spares.Contains(v))
            || (node.Children is { } c && spares.Contains(c)))
            throw new InvalidOperationException("live node uses a spare");
        bytes += node.EstimatedBytes();
        if (node.Count < 1) throw new InvalidOperationException("empty node");
        if (RadixKey.ByteAt(node.Template, node.Depth) != 0) throw new InvalidOperationException("template branch byte set");
        var leaves = 0;
        var seen = 0;
        var previous = -1;
        for (var slot = node.First(); slot >= 0; slot = node.Next(slot))
        {
            var b = node.KeyOf(slot);
            if (b <= previous) throw new InvalidOperationException("slots out of order");
            previous = b;
            seen++;
            if (node.Children?[slot] is { } child)
            {
                if (child.Depth <= node.Depth) throw new InvalidOperationException("child not deeper");
                var expected = node.LeafKey(b) & RadixKey.PrefixMask(node.Depth + 1);
                if ((child.Template & RadixKey.PrefixMask(node.Depth + 1)) != expected)
                    throw new InvalidOperationException("child prefix differs");
                if (node.Values is not null && !EqualityComparer<TValue>.Default.Equals(node.Values[slot], default!))
                    throw new InvalidOperationException("stale value in child slot");
                Check(child, spares, ref bytes, ref count);
            }
            else
            {
                leaves++;
                count++;
            }
        }
        if (seen != node.Count || leaves != node.LeafCount) throw new InvalidOperationException("counts wrong");
        if ((node.Values is null) != (leaves == 0)) throw new InvalidOperationException("values array state");
        if ((node.Children is null) != (leaves == node.Count)) throw new InvalidOperationException("children array state");
        if (node.Count == 1 && leaves == 0) throw new InvalidOperationException("uncollapsed single-child node");
        if (node.IsDirect && node.Count <= DirectShrinkCount) throw new InvalidOperationException("sparse direct node");
    }
}
