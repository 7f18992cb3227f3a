namespace StreamServer.Storage.Streams;

/// <summary>
/// LEB128 unsigned varints (7 bits a byte, low group first), and the "back-length" form of a length that is
/// read from its last byte backwards, as listpack's backlen is, so a node can be walked in reverse.
/// </summary>
internal static class Varint
{
    public static int Size(ulong value)
    {
        var n = 1;
        while (value >= 0x80) { value >>= 7; n++; }
        return n;
    }

    public static int Write(Span<byte> destination, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        destination[i++] = (byte)value;
        return i;
    }

    public static ulong Read(ReadOnlySpan<byte> source, ref int position)
    {
        ulong value = 0;
        var shift = 0;
        byte b;
        do
        {
            b = source[position++];
            value |= (ulong)(b & 0x7F) << shift;
            shift += 7;
        }
        while (b >= 0x80);
        return value;
    }

    public static int ReadInt32(ReadOnlySpan<byte> source, ref int position) => (int)Read(source, ref position);

    /// <summary>Writes <paramref name="length"/> so that <see cref="ReadBack"/> can decode it from its end.</summary>
    public static int WriteBack(Span<byte> destination, int length)
    {
        var n = Size((ulong)length);
        var value = (uint)length;
        for (var i = n - 1; i >= 0; i--)
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            if (i > 0) b |= 0x80;
            destination[i] = b;
        }
        return n;
    }

    /// <summary>Decodes the back-length that ends just before <paramref name="end"/>; <paramref name="size"/> is its byte count.</summary>
    public static int ReadBack(ReadOnlySpan<byte> source, int end, out int size)
    {
        var p = end - 1;
        var value = 0;
        var shift = 0;
        while (true)
        {
            var b = source[p];
            value |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) break;
            shift += 7;
            p--;
        }
        size = end - p;
        return value;
    }
}
