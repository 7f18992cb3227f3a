using System.Numerics;
using System.Runtime.CompilerServices;

namespace StreamServer.Storage.Streams;

public sealed partial class RadixTree<TValue>
{
    /// <summary>Array lengths are powers of two, 1…256: two spare slots per length (at 2 log2 and the next), per kind of array.</summary>
    private const int SpareArraySlots = 2 * 9;

    /// <summary>How many spare nodes a tree keeps.</summary>
    private const int SpareNodeSlots = 8;

    /// <summary>At most this many bytes of spare nodes and arrays per tree (the bookkeeping not included).</summary>
    internal const long MaxSpareBytes = 4096;

    /// <summary>
    /// What the <see cref="Spares"/> object (header, four references, a long, an int padded to 8) and its four slot
    /// arrays cost: 656 bytes.
    /// </summary>
    internal const long SparesObjectBytes = 16 + 4 * 8 + 8 + 8 + 3 * (3 * 8 + SpareArraySlots * 8) + (3 * 8 + SpareNodeSlots * 8);

    /// <summary>
    /// Nodes and arrays a tree has let go of, cleared, kept for its next insert: a pending entries list swings
    /// between empty and a few entries (delivered, then acknowledged), and without these every swing would allocate
    /// its nodes again. A tree has them from its first removal on (one that only grows, like the index of a stream
    /// never trimmed, pays nothing). At most two arrays per kind and length, <see cref="SpareNodeSlots"/> nodes and
    /// <see cref="MaxSpareBytes"/> in all; what does not fit is left to the GC. Counted in
    /// <see cref="EstimatedBytes"/>: it is memory the tree holds.
    /// </summary>
    private sealed class Spares
    {
        public readonly Node?[] Nodes = new Node?[SpareNodeSlots];
        public readonly byte[]?[] Keys = new byte[]?[SpareArraySlots];
        public readonly TValue[]?[] Values = new TValue[]?[SpareArraySlots];
        public readonly Node?[]?[] Children = new Node?[]?[SpareArraySlots];

        /// <summary>Spare nodes: <see cref="Nodes"/>[0, NodeCount).</summary>
        public int NodeCount;

        /// <summary>Bytes of the spare nodes and arrays held (not of this object).</summary>
        public long Bytes;
    }

    private Spares? _spares;

    /// <summary>Bytes held in spare nodes and arrays for reuse, bookkeeping included; part of <see cref="EstimatedBytes"/>.</summary>
    internal long SpareBytes => _spares is null ? 0 : SparesObjectBytes + _spares.Bytes;

    private Node RentNode(int depth, UInt128 template, int capacity)
    {
        var keys = RentKeys(capacity);
        if (_spares is { NodeCount: > 0 } spares)
        {
            var node = spares.Nodes[--spares.NodeCount]!;
            spares.Nodes[spares.NodeCount] = null;
            spares.Bytes -= NodeObjectBytes;
            node.Reset(depth, template, keys);
            return node;
        }
        return new Node(depth, template, keys);
    }

    private byte[] RentKeys(int length) => Rent(_spares?.Keys, length, 1) ?? new byte[length];

    private TValue[] RentValues(int length) => Rent(_spares?.Values, length, Unsafe.SizeOf<TValue>()) ?? new TValue[length];

    private Node?[] RentChildren(int length) => Rent(_spares?.Children, length, IntPtr.Size) ?? new Node?[length];

    private T[]? Rent<T>(T[]?[]? slots, int length, int elementSize)
    {
        if (slots is null || !BitOperations.IsPow2(length)) return null;
        var slot = 2 * BitOperations.Log2((uint)length);
        if (slots[slot] is null) slot++;
        if (slots[slot] is not { } array) return null;
        slots[slot] = null;
        _spares!.Bytes -= Node.ArrayBytes(length, elementSize);
        return array;
    }

    /// <summary>Takes a node the tree no longer links (its bytes already out of the live count) and its arrays as spares.</summary>
    private void ReturnNode(Node node)
    {
        if (_spares is not { } spares) return;
        Return(spares, spares.Keys, node.Keys, 1);
        if (node.Values is { } values) Return(spares, spares.Values, values, Unsafe.SizeOf<TValue>());
        if (node.Children is { } children) Return(spares, spares.Children, children, IntPtr.Size);
        if (spares.NodeCount == SpareNodeSlots || spares.Bytes + NodeObjectBytes > MaxSpareBytes) return;
        node.Reset(0, UInt128.Zero, []);
        spares.Nodes[spares.NodeCount++] = node;
        spares.Bytes += NodeObjectBytes;
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

    /// <summary>Keeps <paramref name="array"/>, cleared, when its slot is free and the byte budget allows; else leaves it to the GC.</summary>
    private static void Return<T>(Spares spares, T[]?[] slots, T[] array, int elementSize)
    {
        if (!BitOperations.IsPow2(array.Length)) return;
        var slot = 2 * BitOperations.Log2((uint)array.Length);
        if (slots[slot] is not null) slot++;
        var bytes = Node.ArrayBytes(array.Length, elementSize);
        if (slots[slot] is not null || spares.Bytes + bytes > MaxSpareBytes) return;
        Array.Clear(array);
        slots[slot] = array;
        spares.Bytes += bytes;
    }
}
