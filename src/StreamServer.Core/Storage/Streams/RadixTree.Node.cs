using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace StreamServer.Storage.Streams;

public sealed partial class RadixTree<TValue>
{
    /// <summary>Sorted nodes grow by doubling up to this many slots, then become direct (256 slots).</summary>
    private const int MaxSortedCapacity = 128;

    /// <summary>A direct node with this many entries or fewer goes back to sorted (hysteresis against flapping).</summary>
    private const int DirectShrinkCount = 96;

    /// <summary>Approximate size of a <see cref="Node"/> object: header, method table, fields, padding.</summary>
    private const int NodeObjectBytes = 64;

    /// <summary>
    /// One branch point: all keys below it share bytes [0, Depth) (the prefix, path compression) and are told
    /// apart by byte Depth. A slot is either a child node or a leaf stored inline (the value only). All the
    /// node's leaves also share the bytes after Depth (the suffix in <see cref="Template"/>), so a leaf's key is
    /// the template with byte Depth set to its slot's byte — that is what makes runs of sequential ids
    /// (1-0, 1-1, 1-2 … and 1-0, 2-0, 3-0 …) cost about one value reference per key.
    /// Sorted nodes keep slots ordered by key byte (capacity 1…128); direct nodes index slots by key byte
    /// and keep a 256-bit presence map in <see cref="Keys"/>.
    /// </summary>
    private sealed class Node
    {
        /// <summary>Bytes [0, Depth): prefix; byte Depth: zero; bytes after Depth: the leaves' common suffix.</summary>
        public UInt128 Template;

        /// <summary>Sorted: the key byte of each slot 0…Count-1 (length = capacity). Direct: presence bitmap (32 bytes).</summary>
        public byte[] Keys;

        /// <summary>Leaf values by slot; null while the node has no leaves.</summary>
        public TValue[]? Values;

        /// <summary>Child nodes by slot; null while the node has no children. A present slot with no child is a leaf.</summary>
        public Node?[]? Children;

        // Narrow fields keep the object at 64 bytes (16 of header, 48 of fields): it matters for small nodes.
        private ushort _count;
        private ushort _leafCount;
        public bool IsDirect;

        public Node(int depth, UInt128 template, byte[] keys)
        {
            Depth = (byte)depth;
            Template = template;
            Keys = keys;
        }

        public byte Depth { get; private set; }

        /// <summary>Makes a spare node (no slots, no value or child array) into a new empty sorted node.</summary>
        public void Reset(int depth, UInt128 template, byte[] keys)
        {
            Depth = (byte)depth;
            Template = template;
            Keys = keys;
            Values = null;
            Children = null;
            _count = 0;
            _leafCount = 0;
            IsDirect = false;
        }

        public int Count
        {
            get => _count;
            set => _count = (ushort)value;
        }

        public int LeafCount
        {
            get => _leafCount;
            set => _leafCount = (ushort)value;
        }

        public int Capacity => IsDirect ? 256 : Keys.Length;

        public int ChildCount => Count - LeafCount;

        private Span<ulong> Bits => MemoryMarshal.Cast<byte, ulong>(Keys.AsSpan());

        public byte KeyOf(int slot) => IsDirect ? (byte)slot : Keys[slot];

        public bool IsChild(int slot) => Children is { } children && children[slot] is not null;

        /// <summary>The key of the leaf in the slot whose key byte is <paramref name="b"/>.</summary>
        public UInt128 LeafKey(byte b) => Template | ((UInt128)b << RadixKey.Shift(Depth));

        public int Find(byte b)
        {
            if (IsDirect) return (Bits[b >> 6] & (1UL << (b & 63))) != 0 ? b : -1;
            return Keys.AsSpan(0, Count).IndexOf(b);
        }

        /// <summary>The first slot whose key byte is ≥ <paramref name="b"/>; -1 if none.</summary>
        public int Ceiling(byte b)
        {
            if (IsDirect)
            {
                var bits = Bits;
                var w = b >> 6;
                var word = bits[w] & (ulong.MaxValue << (b & 63));
                while (true)
                {
                    if (word != 0) return (w << 6) + BitOperations.TrailingZeroCount(word);
                    if (++w == 4) return -1;
                    word = bits[w];
                }
            }
            var i = LowerBound(b);
            return i < Count ? i : -1;
        }

        /// <summary>The last slot whose key byte is ≤ <paramref name="b"/>; -1 if none.</summary>
        public int Floor(byte b)
        {
            if (IsDirect)
            {
                var bits = Bits;
                var w = b >> 6;
                var word = bits[w] & (ulong.MaxValue >> (63 - (b & 63)));
                while (true)
                {
                    if (word != 0) return (w << 6) + 63 - BitOperations.LeadingZeroCount(word);
                    if (--w < 0) return -1;
                    word = bits[w];
                }
            }
            var i = LowerBound(b);
            return i < Count && Keys[i] == b ? i : i - 1;
        }

        public int First() => IsDirect ? Ceiling(0) : (Count > 0 ? 0 : -1);

        public int Last() => IsDirect ? Floor(255) : Count - 1;

        public int Next(int slot)
        {
            if (IsDirect) return slot == 255 ? -1 : Ceiling((byte)(slot + 1));
            return slot + 1 < Count ? slot + 1 : -1;
        }

        public int Previous(int slot)
        {
            if (IsDirect) return slot == 0 ? -1 : Floor((byte)(slot - 1));
            return slot - 1;
        }

        /// <summary>Sorted nodes: the index of the first key byte ≥ <paramref name="b"/>, or Count.</summary>
        public int LowerBound(byte b)
        {
            var keys = Keys;
            int lo = 0, hi = Count;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (keys[mid] < b) lo = mid + 1;
                else hi = mid;
            }
            return lo;
        }

        public void SetPresent(int b) => Bits[b >> 6] |= 1UL << (b & 63);

        public void ClearPresent(int b) => Bits[b >> 6] &= ~(1UL << (b & 63));

        public long EstimatedBytes()
        {
            var bytes = NodeObjectBytes + ArrayBytes(Keys.Length, 1);
            if (Values is not null) bytes += ArrayBytes(Values.Length, Unsafe.SizeOf<TValue>());
            if (Children is not null) bytes += ArrayBytes(Children.Length, IntPtr.Size);
            return bytes;
        }

        public static long ArrayBytes(int length, int elementSize)
            => (3 * IntPtr.Size + (long)length * elementSize + 7) & ~7L;
    }
}

/// <summary>The 16-byte big-endian key as a <see cref="UInt128"/>: byte 0 is the most significant, so integer order is id order.</summary>
internal static class RadixKey
{
    public static UInt128 From(StreamId id) => new(id.Ms, id.Seq);

    public static StreamId ToId(UInt128 key) => new((ulong)(key >> 64), (ulong)key);

    /// <summary>How far byte <paramref name="depth"/> is shifted from the low end.</summary>
    public static int Shift(int depth) => 120 - 8 * depth;

    public static byte ByteAt(UInt128 key, int depth) => (byte)(key >> Shift(depth));

    /// <summary>Bytes [0, depth).</summary>
    public static UInt128 PrefixMask(int depth) => depth == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - 8 * depth);

    /// <summary>Bytes after <paramref name="depth"/>.</summary>
    public static UInt128 SuffixMask(int depth) => depth == 15 ? UInt128.Zero : UInt128.MaxValue >> (8 * depth + 8);

    /// <summary>The key with byte <paramref name="depth"/> zeroed.</summary>
    public static UInt128 ClearByte(UInt128 key, int depth) => key & ~((UInt128)0xFF << Shift(depth));

    /// <summary>The first byte at which two different keys differ.</summary>
    public static int FirstDifference(UInt128 a, UInt128 b) => (int)(UInt128.LeadingZeroCount(a ^ b) >> 3);
}
