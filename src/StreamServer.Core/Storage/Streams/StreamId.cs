using System.Buffers.Binary;
using System.Buffers.Text;

namespace StreamServer.Storage.Streams;

/// <summary>A stream entry id, <c>ms-seq</c>: two unsigned 64-bit numbers, ordered as Redis orders them.</summary>
public readonly record struct StreamId(ulong Ms, ulong Seq) : IComparable<StreamId>
{
    public static readonly StreamId Min = new(0, 0);
    public static readonly StreamId Max = new(ulong.MaxValue, ulong.MaxValue);

    /// <summary>The longest text form: two 20-digit numbers and the dash.</summary>
    public const int MaxFormattedLength = 41;

    public int CompareTo(StreamId other)
        => Ms != other.Ms ? Ms.CompareTo(other.Ms) : Seq.CompareTo(other.Seq);

    public static bool operator <(StreamId a, StreamId b) => a.CompareTo(b) < 0;
    public static bool operator >(StreamId a, StreamId b) => a.CompareTo(b) > 0;
    public static bool operator <=(StreamId a, StreamId b) => a.CompareTo(b) <= 0;
    public static bool operator >=(StreamId a, StreamId b) => a.CompareTo(b) >= 0;

    public bool IsZero => Ms == 0 && Seq == 0;

    /// <summary>The next id in order; false at <see cref="Max"/> (Redis's streamIncrID overflow).</summary>
    public bool TryIncrement(out StreamId next)
    {
        if (Seq != ulong.MaxValue) { next = new StreamId(Ms, Seq + 1); return true; }
        if (Ms != ulong.MaxValue) { next = new StreamId(Ms + 1, 0); return true; }
        next = this;
        return false;
    }

    /// <summary>The previous id in order; false at <see cref="Min"/>.</summary>
    public bool TryDecrement(out StreamId previous)
    {
        if (Seq != 0) { previous = new StreamId(Ms, Seq - 1); return true; }
        if (Ms != 0) { previous = new StreamId(Ms - 1, ulong.MaxValue); return true; }
        previous = this;
        return false;
    }

    /// <summary>The 16-byte big-endian key form, whose byte order is the id order (the radix tree key).</summary>
    public void WriteBigEndian(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, Ms);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], Seq);
    }

    public static StreamId ReadBigEndian(ReadOnlySpan<byte> source)
        => new(BinaryPrimitives.ReadUInt64BigEndian(source), BinaryPrimitives.ReadUInt64BigEndian(source[8..]));

    /// <summary>Writes <c>ms-seq</c>; returns the number of bytes written.</summary>
    public int Format(Span<byte> destination)
    {
        Utf8Formatter.TryFormat(Ms, destination, out var n);
        destination[n++] = (byte)'-';
        Utf8Formatter.TryFormat(Seq, destination[n..], out var m);
        return n + m;
    }

    public override string ToString() => $"{Ms}-{Seq}";

    /// <summary>
    /// Parses <c>ms</c> or <c>ms-seq</c> as Redis's streamParseID does (each part as string2ull reads it).
    /// An id without a sequence takes <paramref name="missingSeq"/> (0 for a start, max for an end).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, ulong missingSeq, out StreamId id)
        => TryParse(text, missingSeq, out id, out _);

    /// <summary>As <see cref="TryParse(ReadOnlySpan{byte}, ulong, out StreamId)"/>, also telling whether the text had a sequence part.</summary>
    public static bool TryParse(ReadOnlySpan<byte> text, ulong missingSeq, out StreamId id, out bool hadSeq)
    {
        id = default;
        hadSeq = false;
        if (text.Length == 0 || text.Length > 127) return false;
        var dash = text.IndexOf((byte)'-');
        if (dash < 0)
        {
            if (!TryParseUInt64(text, out var msOnly)) return false;
            id = new StreamId(msOnly, missingSeq);
            return true;
        }
        if (!TryParseUInt64(text[..dash], out var ms) || !TryParseUInt64(text[(dash + 1)..], out var seq)) return false;
        id = new StreamId(ms, seq);
        hadSeq = true;
        return true;
    }

    /// <summary>
    /// Redis's string2ull: string2ll's strict decimal first (a negative one is refused), and failing that strtoull's
    /// looser form: leading whitespace, a '+' or '-' sign (which negates modulo 2^64, so "-01" is the maximum) and
    /// leading zeros. Nothing may follow the digits, and they must fit in 64 bits.
    /// </summary>
    public static bool TryParseUInt64(ReadOnlySpan<byte> text, out ulong value)
    {
        value = 0;
        var i = 0;
        while (i < text.Length && IsCSpace(text[i])) i++;
        var negative = i < text.Length && text[i] == (byte)'-';
        if (negative || (i < text.Length && text[i] == (byte)'+')) i++;
        if (i == text.Length) return false;
        for (; i < text.Length; i++)
        {
            var d = (uint)(text[i] - '0');
            if (d > 9) return false;
            if (value > (ulong.MaxValue - d) / 10) return false;
            value = value * 10 + d;
        }
        if (!negative) return true;
        // string2ll reads "-" then 1-9 and more digits down to LLONG_MIN: negative, so refused. Anything else with
        // a '-' ("-0", "-01", a magnitude past 2^63, leading spaces) is strtoull's, negated.
        var strict = text[0] == (byte)'-' && text[1] != (byte)'0' && value <= 1UL << 63;
        if (strict) return false;
        value = unchecked(0 - value);
        return true;
    }

    /// <summary>C's isspace in the "C" locale.</summary>
    private static bool IsCSpace(byte b) => b == (byte)' ' || (b >= (byte)'\t' && b <= (byte)'\r');
}
