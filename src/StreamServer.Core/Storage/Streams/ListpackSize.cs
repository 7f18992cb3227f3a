namespace StreamServer.Storage.Streams;

/// <summary>
/// The byte size Redis's listpack would give the same node. Our packed nodes are encoded differently, but
/// Redis decides when the tail node is full from its listpack size (streamAppendItem), and where nodes
/// split decides what approximate trimming removes; we keep Redis's figure so both servers split alike.
/// </summary>
internal static class ListpackSize
{
    /// <summary>An empty listpack: total-bytes (4) + element count (2) + the end byte.</summary>
    public const int Empty = 7;

    /// <summary>A whole integer element: encoding (lpEncodeIntegerGetType) + its 1-byte back-length.</summary>
    public static int OfInteger(long value)
    {
        var encoded = value switch
        {
            >= 0 and <= 127 => 1,
            >= -4096 and <= 4095 => 2,
            >= short.MinValue and <= short.MaxValue => 3,
            >= -8388608 and <= 8388607 => 4,
            >= int.MinValue and <= int.MaxValue => 5,
            _ => 9,
        };
        return encoded + 1;
    }

    /// <summary>A whole string element; strings that are canonical int64s are stored as integers (lpEncodeGetType).</summary>
    public static long OfString(ReadOnlySpan<byte> value)
    {
        if (TryParseInt64(value, out var integer)) return OfInteger(integer);
        long length = value.Length;
        var encoded = length < 64 ? 1 + length : length < 4096 ? 2 + length : 5 + length;
        return encoded + BackLength(encoded);
    }

    private static int BackLength(long length)
        => length <= 127 ? 1 : length < 16383 ? 2 : length < 2097151 ? 3 : length < 268435455 ? 4 : 5;

    /// <summary>listpack.c's lpStringToInt64: strict, no leading zeros, no '+', at most 20 characters.</summary>
    internal static bool TryParseInt64(ReadOnlySpan<byte> s, out long value)
    {
        value = 0;
        if (s.Length == 0 || s.Length >= 21) return false;
        if (s.Length == 1 && s[0] == '0') return true;
        var negative = s[0] == '-';
        var p = negative ? 1 : 0;
        if (p == s.Length || s[p] < '1' || s[p] > '9') return false;
        ulong v = 0;
        for (; p < s.Length; p++)
        {
            var d = (uint)(s[p] - '0');
            if (d > 9) return false;
            if (v > ulong.MaxValue / 10) return false;
            v *= 10;
            if (v > ulong.MaxValue - d) return false;
            v += d;
        }
        if (negative)
        {
            if (v > (ulong)long.MaxValue + 1) return false;
            value = (long)(0 - v);
            return true;
        }
        if (v > long.MaxValue) return false;
        value = (long)v;
        return true;
    }
}
