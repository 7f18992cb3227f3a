using System.Buffers.Binary;

namespace StreamServer.Storage.Streams;

/// <summary>
/// A packed stream node (Redis's listpack node): one byte array holding a master entry and up to
/// stream-node-max-entries entries, with no object per entry. The node's master id is its key in the
/// stream's <see cref="RadixTree{TValue}"/>; entry ids are deltas from it.
/// <code>
/// header   [0..4) used bytes | [4..8) live count | [8..12) deleted count | [12..16) Redis listpack size
/// master   varint field count, then per field: varint length, bytes   (the node's first entry's fields)
/// entry    varint (ms delta &lt;&lt; 2 | flags), flags: 1 deleted, 2 same-fields (the low bits of the first byte, so
///          marking an entry deleted changes that byte in place); an ms delta of <see cref="MaxMsDelta"/> or more
///          (it needs more than 62 bits) is written as MaxMsDelta there, followed by a varint of the whole delta
///          varint seq (delta from the master seq when the ms delta is 0, else the seq)
///          [varint field count]                  (omitted with same-fields)
///          per pair: [item: field]               (omitted with same-fields)
///                    item: value
///          item = varint (length &lt;&lt; 1) then the bytes, or varint (n &lt;&lt; 1 | 1) for a string that is a
///                 canonical non-negative integer n (no leading zeros; as listpack stores integers, "1234" takes
///                 2 bytes instead of 5). Master field names are plain varint length + bytes.
///          back-length: the entry's length so far, readable from its last byte backwards
/// </code>
/// The array may have spare capacity past "used bytes" while the node is the stream's tail.
/// </summary>
internal static class StreamNode
{
    public const int HeaderSize = 16;
    public const byte FlagDeleted = 1;
    public const byte FlagSameFields = 2;

    /// <summary>
    /// The largest ms delta from the master id the first varint holds beside the flags; from it on, the value is an
    /// escape and the delta follows in a varint of its own (ids that far apart share a node, as in Redis's listpack).
    /// </summary>
    public const ulong MaxMsDelta = (1UL << 62) - 1;

    private const int UsedOffset = 0;
    private const int LiveOffset = 4;
    private const int DeletedOffset = 8;
    private const int ListpackBytesOffset = 12;

    public static int Used(ReadOnlySpan<byte> node) => BinaryPrimitives.ReadInt32LittleEndian(node[UsedOffset..]);
    public static int Live(ReadOnlySpan<byte> node) => BinaryPrimitives.ReadInt32LittleEndian(node[LiveOffset..]);
    public static int Deleted(ReadOnlySpan<byte> node) => BinaryPrimitives.ReadInt32LittleEndian(node[DeletedOffset..]);

    /// <summary>What lpBytes() would say of the equivalent Redis listpack (see <see cref="ListpackSize"/>).</summary>
    public static int ListpackBytes(ReadOnlySpan<byte> node) => BinaryPrimitives.ReadInt32LittleEndian(node[ListpackBytesOffset..]);

    private static void SetUsed(Span<byte> node, int value) => BinaryPrimitives.WriteInt32LittleEndian(node[UsedOffset..], value);
    private static void SetListpackBytes(Span<byte> node, long value) => BinaryPrimitives.WriteInt32LittleEndian(node[ListpackBytesOffset..], (int)value);

    /// <summary>Sets the live/deleted counters, keeping the listpack size in step as lpReplaceInteger would.</summary>
    private static void SetCounts(Span<byte> node, int live, int deleted)
    {
        var lp = (long)ListpackBytes(node)
                 + ListpackSize.OfInteger(live) - ListpackSize.OfInteger(Live(node))
                 + ListpackSize.OfInteger(deleted) - ListpackSize.OfInteger(Deleted(node));
        BinaryPrimitives.WriteInt32LittleEndian(node[LiveOffset..], live);
        BinaryPrimitives.WriteInt32LittleEndian(node[DeletedOffset..], deleted);
        SetListpackBytes(node, lp);
    }

    public static int MasterFieldCount(ReadOnlySpan<byte> node)
    {
        var p = HeaderSize;
        return Varint.ReadInt32(node, ref p);
    }

    /// <summary>Offset of the first entry (just past the master fields).</summary>
    public static int EntriesStart(ReadOnlySpan<byte> node)
    {
        var p = HeaderSize;
        var count = Varint.ReadInt32(node, ref p);
        for (var i = 0; i < count; i++)
        {
            var length = Varint.ReadInt32(node, ref p); // not p += Read(ref p): that adds to the old p
            p += length;
        }
        return p;
    }

    /// <summary>Sum of the field and value lengths (Redis's totelelen).</summary>
    public static long RawLength(ReadOnlySpan<ReadOnlyMemory<byte>> fieldsAndValues)
    {
        long total = 0;
        foreach (var item in fieldsAndValues) total += item.Length;
        return total;
    }

    /// <summary>
    /// A new node whose master entry takes the fields of its first entry, <paramref name="id"/>. <paramref name="reuse"/>
    /// (the array of the node just sealed, no longer referenced) is cleared and used when it is large enough, so a
    /// stream that fills node after node does not throw its tail arrays away.
    /// </summary>
    public static byte[] Create(StreamId id, ReadOnlySpan<ReadOnlyMemory<byte>> fieldsAndValues, int expectedEntries, byte[]? reuse = null)
    {
        var pairs = fieldsAndValues.Length / 2;
        var masterSize = Varint.Size((ulong)pairs);
        long listpack = ListpackSize.Empty + ListpackSize.OfInteger(1) + ListpackSize.OfInteger(0)
                        + ListpackSize.OfInteger(pairs) + ListpackSize.OfInteger(0);
        for (var i = 0; i < pairs; i++)
        {
            var field = fieldsAndValues[2 * i].Span;
            masterSize += Varint.Size((ulong)field.Length) + field.Length;
            listpack += ListpackSize.OfString(field);
        }
        var entrySize = EntrySize(id, id, fieldsAndValues, sameFields: true);
        var exact = HeaderSize + masterSize + entrySize;
        // Room for the entries expected to follow, so a filling tail rarely reallocates; sealing trims it.
        var capacity = (int)Math.Min(Math.Max(exact, HeaderSize + masterSize + (long)entrySize * expectedEntries), Math.Max(exact, 4096));
        byte[] node;
        if (reuse is not null && reuse.Length >= exact && reuse.Length <= Math.Max(capacity, 4096))
        {
            Array.Clear(reuse, 0, Math.Min(Used(reuse), reuse.Length));
            node = reuse;
        }
        else
        {
            node = new byte[capacity];
        }

        var p = HeaderSize;
        p += Varint.Write(node.AsSpan(p), (ulong)pairs);
        for (var i = 0; i < pairs; i++)
        {
            var field = fieldsAndValues[2 * i].Span;
            p += Varint.Write(node.AsSpan(p), (ulong)field.Length);
            field.CopyTo(node.AsSpan(p));
            p += field.Length;
        }
        SetUsed(node, p);
        BinaryPrimitives.WriteInt32LittleEndian(node.AsSpan(LiveOffset), 1);
        SetListpackBytes(node, listpack);
        WriteEntry(node, id, id, fieldsAndValues, sameFields: true);
        return node;
    }

    /// <summary>Whether the entry's field names are the master's, in order (then only values are stored).</summary>
    public static bool HasMasterFields(ReadOnlySpan<byte> node, ReadOnlySpan<ReadOnlyMemory<byte>> fieldsAndValues)
    {
        var p = HeaderSize;
        var count = Varint.ReadInt32(node, ref p);
        if (count * 2 != fieldsAndValues.Length) return false;
        for (var i = 0; i < count; i++)
        {
            var length = Varint.ReadInt32(node, ref p);
            if (!node.Slice(p, length).SequenceEqual(fieldsAndValues[2 * i].Span)) return false;
            p += length;
        }
        return true;
    }

    /// <summary>Appends an entry, growing the array when needed; returns the change in the array's length.</summary>
    public static int Append(ref byte[] node, StreamId masterId, StreamId id, ReadOnlySpan<ReadOnlyMemory<byte>> fieldsAndValues)
    {
        var sameFields = HasMasterFields(node, fieldsAndValues);
        var needed = Used(node) + EntrySize(masterId, id, fieldsAndValues, sameFields);
        var grownBy = 0;
        if (needed > node.Length)
        {
            var capacity = (int)Math.Min(Array.MaxLength, Math.Max(needed, (long)node.Length * 3 / 2));
            grownBy = capacity - node.Length;
            Array.Resize(ref node, capacity);
        }
        SetCounts(node, Live(node) + 1, Deleted(node));
        WriteEntry(node, masterId, id, fieldsAndValues, sameFields);
        return grownBy;
    }

    /// <summary>
    /// Drops spare capacity once the node stops being the tail: <paramref name="node"/> becomes an exact copy (the
    /// caller may reuse the old array, see <see cref="Create"/>); returns the change in the array's length.
    /// </summary>
    public static int Seal(ref byte[] node)
    {
        var used = Used(node);
        if (node.Length - used <= 8) return 0;
        var before = node.Length;
        var exact = new byte[used];
        node.AsSpan(0, used).CopyTo(exact);
        node = exact;
        return used - before;
    }

    private static int EntrySize(StreamId masterId, StreamId id, ReadOnlySpan<ReadOnlyMemory<byte>> fieldsAndValues, bool sameFields)
    {
        var body = IdSize(masterId, id);
        if (!sameFields) body += Varint.Size((ulong)(fieldsAndValues.Length / 2));
        for (var i = 0; i < fieldsAndValues.Length; i++)
        {
            if (sameFields && (i & 1) == 0) continue;
            body += ItemSize(fieldsAndValues[i].Span);
        }
        return body + Varint.Size((ulong)body);
    }

    private static int IdSize(StreamId masterId, StreamId id)
    {
        var msDelta = id.Ms - masterId.Ms;
        var escape = msDelta >= MaxMsDelta ? Varint.Size(msDelta) : 0;
        return Varint.Size(Math.Min(msDelta, MaxMsDelta) << 2 | 3) + escape + Varint.Size(msDelta == 0 ? id.Seq - masterId.Seq : id.Seq);
    }

    private static void WriteEntry(byte[] node, StreamId masterId, StreamId id, ReadOnlySpan<ReadOnlyMemory<byte>> fieldsAndValues, bool sameFields)
    {
        var start = Used(node);
        var p = start;
        var pairs = fieldsAndValues.Length / 2;
        var msDelta = id.Ms - masterId.Ms;
        p += Varint.Write(node.AsSpan(p), Math.Min(msDelta, MaxMsDelta) << 2 | (sameFields ? FlagSameFields : 0u));
        if (msDelta >= MaxMsDelta) p += Varint.Write(node.AsSpan(p), msDelta);
        p += Varint.Write(node.AsSpan(p), msDelta == 0 ? id.Seq - masterId.Seq : id.Seq);

        // Redis's listpack for the same entry: flags, ms-diff, seq-diff, [num-fields, fields], values, lp-count.
        long listpack = ListpackSize.OfInteger(sameFields ? FlagSameFields : 0)
                        + ListpackSize.OfInteger(unchecked((long)msDelta))
                        + ListpackSize.OfInteger(unchecked((long)(id.Seq - masterId.Seq)))
                        + ListpackSize.OfInteger(pairs + 3 + (sameFields ? 0 : pairs + 1));
        if (!sameFields)
        {
            p += Varint.Write(node.AsSpan(p), (ulong)pairs);
            listpack += ListpackSize.OfInteger(pairs);
        }
        for (var i = 0; i < fieldsAndValues.Length; i++)
        {
            if (sameFields && (i & 1) == 0) continue;
            var item = fieldsAndValues[i].Span;
            p += WriteItem(node.AsSpan(p), item);
            listpack += ListpackSize.OfString(item);
        }
        p += Varint.WriteBack(node.AsSpan(p), p - start);
        SetUsed(node, p);
        SetListpackBytes(node, ListpackBytes(node) + listpack);
    }

    /// <summary>Decodes an entry's flags, id and field count; <paramref name="payload"/> is where its fields/values begin.</summary>
    public static void ReadHeader(ReadOnlySpan<byte> node, int start, StreamId masterId, out byte flags, out StreamId id, out int fieldCount, out int payload)
    {
        var p = start;
        var first = Varint.Read(node, ref p);
        flags = (byte)(first & 3);
        var msDelta = first >> 2;
        if (msDelta == MaxMsDelta) msDelta = Varint.Read(node, ref p);
        var seq = Varint.Read(node, ref p);
        id = msDelta == 0 ? new StreamId(masterId.Ms, masterId.Seq + seq) : new StreamId(masterId.Ms + msDelta, seq);
        fieldCount = (flags & FlagSameFields) != 0 ? MasterFieldCount(node) : Varint.ReadInt32(node, ref p);
        payload = p;
    }

    /// <summary>The offset just past the entry (after its back-length), given its start and decoded header.</summary>
    public static int EntryEnd(ReadOnlySpan<byte> node, int start, byte flags, int fieldCount, int payload)
    {
        var p = payload;
        var items = (flags & FlagSameFields) != 0 ? fieldCount : fieldCount * 2;
        for (var i = 0; i < items; i++) SkipItem(node, ref p);
        return p + Varint.Size((ulong)(p - start));
    }

    /// <summary>The start of the entry that ends (back-length included) at <paramref name="end"/>.</summary>
    public static int EntryStartBefore(ReadOnlySpan<byte> node, int end)
    {
        var length = Varint.ReadBack(node, end, out var size);
        return end - size - length;
    }

    /// <summary>The id of the node's last entry, deleted or not (lpGetEdgeStreamID).</summary>
    public static StreamId LastEntryId(ReadOnlySpan<byte> node, StreamId masterId)
    {
        ReadHeader(node, EntryStartBefore(node, Used(node)), masterId, out _, out var id, out _, out _);
        return id;
    }

    /// <summary>Flags the entry deleted and moves it from the live to the deleted count (streamIteratorRemoveEntry).</summary>
    public static void MarkDeleted(Span<byte> node, int start)
    {
        node[start] |= FlagDeleted;
        SetCounts(node, Live(node) - 1, Deleted(node) + 1);
    }

    /// <summary>Flags the entry deleted without touching the counters (streamTrim adjusts them once per node).</summary>
    public static void FlagOnly(Span<byte> node, int start) => node[start] |= FlagDeleted;

    /// <summary>Moves <paramref name="count"/> entries from the live to the deleted count.</summary>
    public static void CountDeleted(Span<byte> node, int count) => SetCounts(node, Live(node) - count, Deleted(node) + count);

    // ---- items: a field or value inside an entry ------------------------------------------------------------

    /// <summary>The bytes <see cref="WriteItem"/> takes for <paramref name="item"/>.</summary>
    public static int ItemSize(ReadOnlySpan<byte> item)
        => TryParseCanonical(item, out var n) ? Varint.Size(n << 1 | 1) : Varint.Size((ulong)item.Length << 1) + item.Length;

    public static int WriteItem(Span<byte> destination, ReadOnlySpan<byte> item)
    {
        if (TryParseCanonical(item, out var n)) return Varint.Write(destination, n << 1 | 1);
        var p = Varint.Write(destination, (ulong)item.Length << 1);
        item.CopyTo(destination[p..]);
        return p + item.Length;
    }

    public static void SkipItem(ReadOnlySpan<byte> node, ref int position)
    {
        var header = Varint.Read(node, ref position);
        if ((header & 1) == 0) position += (int)(header >> 1);
    }

    /// <summary>
    /// Reads the item at <paramref name="position"/>: a slice of the node, or for an integer its decimal digits
    /// written into <paramref name="digits"/> (20 bytes at least), which the returned span then points into.
    /// </summary>
    public static ReadOnlySpan<byte> ReadItem(ReadOnlySpan<byte> node, scoped ref int position, Span<byte> digits)
    {
        var header = Varint.Read(node, ref position);
        if ((header & 1) != 0)
        {
            System.Buffers.Text.Utf8Formatter.TryFormat(header >> 1, digits, out var written);
            return digits[..written];
        }
        var length = (int)(header >> 1);
        var item = node.Slice(position, length);
        position += length;
        return item;
    }

    /// <summary>
    /// A string stored as a number: an integer as listpack reads one (<see cref="ListpackSize.TryParseInt64"/>: no
    /// leading zeros, no sign but '-', so formatting it gives back the same bytes), and not negative, so that its
    /// header (n &lt;&lt; 1 | 1) fits in 64 bits.
    /// </summary>
    private static bool TryParseCanonical(ReadOnlySpan<byte> s, out ulong value)
    {
        var ok = ListpackSize.TryParseInt64(s, out var n) && n >= 0;
        value = ok ? (ulong)n : 0;
        return ok;
    }
}
