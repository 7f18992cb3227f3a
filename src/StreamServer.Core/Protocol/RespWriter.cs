using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace StreamServer.Protocol;

/// <summary>
/// Writes replies in RESP2 or RESP3 into a buffer of its own that grows as needed (the connection copies it to the
/// socket). Owning the buffer lets a reply whose length is known only at the end (Redis's deferred length) be
/// completed in place. Allocation-free once the buffer has grown to the client's working size.
/// </summary>
public sealed class RespWriter
{
    private byte[] _buffer;
    private int _length;

    // Uninitialized: nothing past Length is ever read, and zeroing 4 KB was a measurable part of a new connection.
    public RespWriter(int initialSize = 4096) => _buffer = GC.AllocateUninitializedArray<byte>(initialSize);

    /// <summary>2 or 3, as chosen by HELLO.</summary>
    public int Protocol { get; set; } = 2;

    public bool IsResp3 => Protocol == 3;

    public int Length => _length;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    public void Clear() => _length = 0;

    /// <summary>Drops everything written after <paramref name="length"/> (a reply abandoned mid-way).</summary>
    public void Truncate(int length) => _length = Math.Min(_length, length);

    /// <summary>Gives the buffer capacity back when one reply made it huge.</summary>
    public void ShrinkIfLarge(int keep = 64 * 1024)
    {
        if (_length == 0 && _buffer.Length > 4 * keep) _buffer = GC.AllocateUninitializedArray<byte>(keep);
    }

    private Span<byte> Reserve(int size)
    {
        if (_buffer.Length - _length < size) Grow(size);
        return _buffer.AsSpan(_length);
    }

    private void Grow(int size)
    {
        var grown = GC.AllocateUninitializedArray<byte>(Math.Max(_buffer.Length * 2, _length + size));
        _buffer.AsSpan(0, _length).CopyTo(grown); // only what is written: the rest is never read
        _buffer = grown;
    }

    public void Raw(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Reserve(bytes.Length));
        _length += bytes.Length;
    }

    private void Header(byte prefix, long value)
    {
        var span = Reserve(24);
        span[0] = prefix;
        Utf8Formatter.TryFormat(value, span[1..], out var n);
        span[n + 1] = (byte)'\r';
        span[n + 2] = (byte)'\n';
        _length += n + 3;
    }

    public void Ok() => Raw("+OK\r\n"u8);

    public void Queued() => Raw("+QUEUED\r\n"u8);

    public void SimpleString(ReadOnlySpan<byte> text)
    {
        var span = Reserve(text.Length + 3);
        span[0] = (byte)'+';
        text.CopyTo(span[1..]);
        span[text.Length + 1] = (byte)'\r';
        span[text.Length + 2] = (byte)'\n';
        _length += text.Length + 3;
    }

    public void SimpleString(string text) => SimpleOrError((byte)'+', text);

    /// <summary>An error reply; <paramref name="message"/> starts with its code ("ERR …", "WRONGTYPE …").</summary>
    public void Error(string message)
    {
        ErrorCount++;
        LastErrorCode = message;
        SimpleOrError((byte)'-', message);
    }

    /// <summary>Errors written so far (the dispatcher's INFO errorstats and failed_calls read it).</summary>
    public long ErrorCount { get; private set; }

    /// <summary>The last error written (its first word is the code errorstats counts).</summary>
    public string LastErrorCode { get; private set; } = "";

    private void SimpleOrError(byte prefix, string text)
    {
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        var span = Reserve(max + 3);
        span[0] = prefix;
        var n = Encoding.UTF8.GetBytes(text, span[1..]);
        // As Redis's addReplyErrorLength: a newline inside would break the protocol.
        for (var i = 1; i <= n; i++)
        {
            if (span[i] is (byte)'\r' or (byte)'\n') span[i] = (byte)' ';
        }
        span[n + 1] = (byte)'\r';
        span[n + 2] = (byte)'\n';
        _length += n + 3;
    }

    public void Integer(long value) => Header((byte)':', value);

    public void Bulk(ReadOnlySpan<byte> value)
    {
        var span = Reserve(value.Length + 16);
        span[0] = (byte)'$';
        Utf8Formatter.TryFormat(value.Length, span[1..], out var n);
        span[n + 1] = (byte)'\r';
        span[n + 2] = (byte)'\n';
        value.CopyTo(span[(n + 3)..]);
        var end = n + 3 + value.Length;
        span[end] = (byte)'\r';
        span[end + 1] = (byte)'\n';
        _length += end + 2;
    }

    public void Bulk(string value)
    {
        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (max <= 256)
        {
            Span<byte> tmp = stackalloc byte[256];
            var n = Encoding.UTF8.GetBytes(value, tmp);
            Bulk(tmp[..n]);
        }
        else
        {
            Bulk(Encoding.UTF8.GetBytes(value));
        }
    }

    /// <summary>An integer as a bulk string ("$3\r\n123\r\n"), as Redis's addReplyBulkLongLong.</summary>
    public void BulkInteger(long value)
    {
        Span<byte> tmp = stackalloc byte[24];
        Utf8Formatter.TryFormat(value, tmp, out var n);
        Bulk(tmp[..n]);
    }

    /// <summary>The null bulk string: <c>$-1</c> in RESP2, <c>_</c> in RESP3.</summary>
    public void Null() => Raw(IsResp3 ? "_\r\n"u8 : "$-1\r\n"u8);

    /// <summary>The null array: <c>*-1</c> in RESP2, <c>_</c> in RESP3.</summary>
    public void NullArray() => Raw(IsResp3 ? "_\r\n"u8 : "*-1\r\n"u8);

    public void Array(int count) => Header((byte)'*', count);

    public void EmptyArray() => Raw("*0\r\n"u8);

    /// <summary>A map of <paramref name="pairs"/> pairs: <c>%n</c> in RESP3, a flat array of 2n in RESP2.</summary>
    public void Map(int pairs)
    {
        if (IsResp3) Header((byte)'%', pairs);
        else Header((byte)'*', 2L * pairs);
    }

    /// <summary>A set: <c>~n</c> in RESP3, an array in RESP2.</summary>
    public void Set(int count) => Header(IsResp3 ? (byte)'~' : (byte)'*', count);

    /// <summary>An out-of-band message: <c>&gt;n</c> in RESP3, an array in RESP2.</summary>
    public void Push(int count) => Header(IsResp3 ? (byte)'>' : (byte)'*', count);

    public void Boolean(bool value)
    {
        if (IsResp3) Raw(value ? "#t\r\n"u8 : "#f\r\n"u8);
        else Raw(value ? ":1\r\n"u8 : ":0\r\n"u8);
    }

    /// <summary>A double as Redis's addReplyDouble: %.17g text, a bulk string in RESP2, <c>,</c> in RESP3.</summary>
    public void Double(double value)
    {
        Span<byte> tmp = stackalloc byte[40];
        var n = FormatDouble(value, tmp);
        if (IsResp3)
        {
            var span = Reserve(n + 3);
            span[0] = (byte)',';
            tmp[..n].CopyTo(span[1..]);
            span[n + 1] = (byte)'\r';
            span[n + 2] = (byte)'\n';
            _length += n + 3;
        }
        else
        {
            Bulk(tmp[..n]);
        }
    }

    /// <summary>Text in RESP3's verbatim form (<c>=len\r\ntxt:…</c>), a bulk string in RESP2.</summary>
    public void Verbatim(ReadOnlySpan<byte> text)
    {
        if (!IsResp3) { Bulk(text); return; }
        Header((byte)'=', text.Length + 4);
        Raw("txt:"u8);
        Raw(text);
        Raw("\r\n"u8);
    }

    /// <summary>C's printf("%.17g"), which Redis uses for doubles (inf, -inf and nan as Redis writes them).</summary>
    public static int FormatDouble(double value, Span<byte> destination)
    {
        if (double.IsPositiveInfinity(value)) return Copy("inf"u8, destination);
        if (double.IsNegativeInfinity(value)) return Copy("-inf"u8, destination);
        if (double.IsNaN(value)) return Copy("nan"u8, destination);
        Span<char> chars = stackalloc char[40];
        value.TryFormat(chars, out var written, "G17", CultureInfo.InvariantCulture);
        // .NET writes "1E+20" and "1E-05"; C writes "1e+20" and "1e-05".
        var n = 0;
        for (var i = 0; i < written; i++) destination[n++] = (byte)(chars[i] == 'E' ? 'e' : chars[i]);
        return n;
    }

    private static int Copy(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        source.CopyTo(destination);
        return source.Length;
    }

    /// <summary>Starts an aggregate whose count is known only at the end (Redis's addReplyDeferredLen).</summary>
    public int BeginDeferred() => _length;

    /// <summary>Inserts the header of a deferred aggregate at <paramref name="position"/>.</summary>
    public void EndDeferredArray(int position, int count) => InsertHeader(position, (byte)'*', count);

    public void EndDeferredMap(int position, int pairs)
    {
        if (IsResp3) InsertHeader(position, (byte)'%', pairs);
        else InsertHeader(position, (byte)'*', 2L * pairs);
    }

    public void EndDeferredSet(int position, int count) => InsertHeader(position, IsResp3 ? (byte)'~' : (byte)'*', count);

    private void InsertHeader(int position, byte prefix, long count)
    {
        Span<byte> header = stackalloc byte[24];
        header[0] = prefix;
        Utf8Formatter.TryFormat(count, header[1..], out var n);
        header[n + 1] = (byte)'\r';
        header[n + 2] = (byte)'\n';
        var headerLength = n + 3;
        Reserve(headerLength);
        var tail = _length - position;
        _buffer.AsSpan(position, tail).CopyTo(_buffer.AsSpan(position + headerLength));
        header[..headerLength].CopyTo(_buffer.AsSpan(position));
        _length += headerLength;
    }
}
