using System.Runtime.CompilerServices;

namespace StreamServer.Storage.Streams;

public sealed partial class RadixTree<TValue>
{
    /// <summary>How many spare objects of each kind (nodes, key, value and child arrays) a tree keeps.</summary>
    private const int SpareSlots = 8;

    /// <summary>At most this many bytes of spare nodes and arrays per tree (the bookkeeping not included).</summary>
    internal const long MaxSpareBytes = 4096;

    /// <summary>What the <see cref="Spares"/> object (header, four references, a long) and its four slot arrays cost.</summary>
    internal const long SparesObjectBytes = 16 + 5 * 8 + 4 * (3 * 8 + SpareSlots * 8);

    /// <summary>
    /// Nodes and arrays a tree has let go of, cleared, kept for its next insert: a pending entries list swings
    /// between empty and a few entries (delivered, then acknowledged), and without these every swing would allocate
    /// its nodes again. A tree has them from its first removal on (one that only grows, like the index of a stream
    /// never trimmed, pays nothing). Bounded by <see cref="SpareSlots"/> per kind and <see cref="MaxSpareBytes"/>;
    /// what does not fit is left to the GC. Counted in <see cref="EstimatedBytes"/>: it is memory the tree holds.
    /// </summary>
    private sealed class Spares
    {
        public readonly Node?[] Nodes = new Node?[SpareSlots];
        public readonly byte[]?[] Keys = new byte[]?[SpareSlots];
        public readonly TValue[]?[] Values = new TValue[]?[SpareSlots];
        public readonly Node?[]?[] Children = new Node?[]?[SpareSlots];

        /// <summary>Bytes of the spare nodes and arrays held (not of this object).</summary>
        public long Bytes;
    }

    private Spares? _spares;

    /// <summary>Bytes held in spare nodes and arrays for reuse, bookkeeping included; part of <see cref="EstimatedBytes"/>.</summary>
    internal long SpareBytes => _spares is null ? 0 : SparesObjectBytes + _spares.Bytes;

    private Node RentNode(int depth, UInt128 template, int capacity)
    {
        var keys = RentKeys(capacity);
        if (_spares is { } spares)
        {
            var slots = spares.Nodes;
            for (var i = 0; i < slots.Length; i++)
            {
                if (slots[i] is not { } node) continue;
                slots[i] = null;
                spares.Bytes -= NodeObjectBytes;
                node.Reset(depth, template, keys);
                return node;
            }
        }
        return new Node(depth, template, keys);
    }

    private byte[] RentKeys(int length) => Rent(_spares?.Keys, length, 1) ?? new byte[length];

    private TValue[] RentValues(int length) => Rent(_spares?.Values, length, Unsafe.SizeOf<TValue>()) ?? new TValue[length];

    private Node?[] RentChildren(int length) => Rent(_spares?.Children, length, IntPtr.Size) ?? new Node?[length];

    private T[]? Rent<T>(T[]?[]? slots, int length, int elementSize)
    {
        if (slots is null) return null;
        for (var i = 0; i < slots.Length; i++)
        {
            if (slots[i] is not { } array || array.Length != length) continue;
            slots[i] = null;
            _spares!.Bytes -= Node.ArrayBytes(length, elementSize);
            return array;
        }
        return null;
    }

    /// <summary>Takes a node the tree no longer links (its bytes already out of the live count) and its arrays as spares.</summary>
    private void ReturnNode(Node node)
    {
        ReturnKeys(node.Keys);
        if (node.Values is { } values) ReturnValues(values);
        if (node.Children is { } children) ReturnChildren(children);
        node.Reset(0, UInt128.Zero, []);
        if (_spares is not { } spares || spares.Bytes + NodeObjectBytes > MaxSpareBytes) return;
        var slots = spares.Nodes;
        for (var i = 0; i < slots.Length; i++)
        {
            if (slots[i] is not null) continue;
            slots[i] = node;
            spares.Bytes += NodeObjectBytes;
            return;
        }
    }

    private void ReturnKeys(byte[] keys)
    {
        if (_spares is { } spares) Return(spares, spares.Keys, keys, 1);
    }

    private void ReturnValues(TValue[] values)
    {
        if (_spares is { } spares) Return(spares, spares.Values, values, Unsafe.SizeOf<TValue>());
    }

    private void ReturnChildren(Node?[] children)
    {
        if (_spares is { } spares) Return(spares, spares.Children, children, IntPtr.Size);
    }

    /// <summary>Keeps <paramref name="array"/>, cleared, when a slot and the byte budget allow; else leaves it to the GC.</summary>
    private static void Return<T>(Spares spares, T[]?[] slots, T[] array, int elementSize)
    {
        var bytes = Node.ArrayBytes(array.Length, elementSize);
        if (array.Length == 0 || spares.Bytes + bytes > MaxSpareBytes) return;
        for (var i = 0; i < slots.Length; i++)
        {
            if (slots[i] is not null) continue;
            Array.Clear(array);
            slots[i] = array;
            spares.Bytes += bytes;
            return;
        }
    }
}
