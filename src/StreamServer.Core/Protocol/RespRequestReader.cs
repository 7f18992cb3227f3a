using System.Buffers;

namespace StreamServer.Protocol;

/// <summary>Why a read stopped with a protocol error (Redis's texts; the connection is closed after the reply).</summary>
public enum ProtocolError : byte
{
    None,
    InvalidMultibulkLength,
    InvalidBulkLength,
    ExpectedDollar,
    TooBigMultibulkCount,
    TooBigBulkCount,
    TooBigInlineRequest,
    UnbalancedQuotes,
    UnauthenticatedMultibulkLength,
    UnauthenticatedBulkLength,
}

/// <summary>Redis's request limits that apply while parsing.</summary>
public readonly record struct ParserLimits(long ProtoMaxBulkLen, bool AuthRequired)
{
    /// <summary>PROTO_INLINE_MAX_SIZE: an inline line, or a multibulk header line, longer than this is refused.</summary>
    public const int InlineMaxSize = 64 * 1024;

    /// <summary>
    /// A batch stops at the first request that ends past this many bytes; the rest is parsed as the next batch,
    /// without waiting for a read. Redis reads a client's requests 16 KB at a time (PROTO_IOBUF_LEN) and answers
    /// them before reading on; taking a whole mass insertion (redis-cli --pipe) as one batch instead held tens of MB
    /// of requests and sent their replies in one burst, which redis-cli then parsed in quadratic time.
    /// </summary>
    public const int BatchBytes = 64 * 1024;

    public static ParserLimits Default => new(512L * 1024 * 1024, false);
}

/// <summary>
/// Parses Redis requests (RESP multibulk and inline) from a buffer, as Redis's processMultibulkBuffer and
/// processInlineBuffer do. A pure function over the buffer: every complete request is appended to the
/// <see cref="RequestBuffer"/>, an incomplete tail is left for the next read.
/// </summary>
public static class RespRequestReader
{
    /// <param name="consumed">End of the last complete request (or of the bytes skipped as Redis skips them).</param>
    /// <param name="examined">Where the reader must wait for more data before trying again.</param>
    /// <param name="error">Set when a protocol error stopped parsing; the requests before it are valid.</param>
    /// <param name="offendingByte">For <see cref="ProtocolError.ExpectedDollar"/>, the byte found instead.</param>
    public static void Parse(
        in ReadOnlySequence<byte> buffer,
        RequestBuffer requests,
        ParserLimits limits,
        out SequencePosition consumed,
        out SequencePosition examined,
        out ProtocolError error,
        out byte offendingByte)
    {
        var reader = new SequenceReader<byte>(buffer);
        // The usual read is one segment: arguments are then sliced from its memory by offset, without slicing the sequence.
        var single = buffer.IsSingleSegment ? buffer.First : default;
        error = ProtocolError.None;
        offendingByte = 0;
        consumed = buffer.Start;
        examined = buffer.Start;

        while (!reader.End)
        {
            var requestCount = requests.Count;
            var argumentCount = requests.ArgumentCount;
            var status = reader.UnreadSpan[0] == (byte)'*'
                ? ParseMultibulk(ref reader, buffer, single, requests, limits, out error, out offendingByte)
                : ParseInline(ref reader, requests, out error);

            if (status == Status.Complete)
            {
                consumed = reader.Position;
                examined = consumed;
                if (reader.Consumed >= ParserLimits.BatchBytes) return;
                continue;
            }
            requests.Truncate(requestCount, argumentCount);
            examined = buffer.End;
            return;
        }
        examined = consumed;
    }

    private enum Status : byte { Complete, Incomplete, Error }

    private static Status ParseMultibulk(
        ref SequenceReader<byte> reader,
        in ReadOnlySequence<byte> buffer,
        ReadOnlyMemory<byte> single,
        RequestBuffer requests,
        ParserLimits limits,
        out ProtocolError error,
        out byte offendingByte)
    {
        error = ProtocolError.None;
        offendingByte = 0;
        var start = reader.Position;
        reader.Advance(1); // '*'
        if (!TryReadLine(ref reader, out var headerLine))
        {
            if (reader.Remaining > ParserLimits.InlineMaxSize) { error = ProtocolError.TooBigMultibulkCount; return Status.Error; }
            reader.Rewind(buffer.Slice(start, reader.Position).Length);
            return Status.Incomplete;
        }
        if (!TryParseInt64(headerLine, out var count) || count > int.MaxValue)
        {
            error = ProtocolError.InvalidMultibulkLength;
            return Status.Error;
        }
        if (count > 10 && limits.AuthRequired)
        {
            error = ProtocolError.UnauthenticatedMultibulkLength;
            return Status.Error;
        }
        if (count <= 0) return Status.Complete; // "*0" and "*-1" are no command at all, as in Redis

        var firstArgument = requests.ArgumentCount;
        for (long i = 0; i < count; i++)
        {
            if (reader.End) return Incomplete(ref reader, buffer, start);
            if (!reader.TryPeek(out var marker)) return Incomplete(ref reader, buffer, start);
            if (marker != (byte)'$')
            {
                // Redis looks for the line first; a '$' check only happens on a complete line.
                if (!TryReadLine(ref reader, out _))
                {
                    if (reader.Remaining > ParserLimits.InlineMaxSize) { error = ProtocolError.TooBigBulkCount; return Status.Error; }
                    return Incomplete(ref reader, buffer, start);
                }
                error = ProtocolError.ExpectedDollar;
                offendingByte = marker;
                return Status.Error;
            }
            reader.Advance(1);
            if (!TryReadLine(ref reader, out var lengthLine))
            {
                if (reader.Remaining > ParserLimits.InlineMaxSize) { error = ProtocolError.TooBigBulkCount; return Status.Error; }
                return Incomplete(ref reader, buffer, start);
            }
            if (!TryParseInt64(lengthLine, out var length) || length < 0 || length > limits.ProtoMaxBulkLen)
            {
                error = ProtocolError.InvalidBulkLength;
                return Status.Error;
            }
            if (length > 16384 && limits.AuthRequired)
            {
                error = ProtocolError.UnauthenticatedBulkLength;
                return Status.Error;
            }
            // Redis does not check the two bytes after the payload; it skips them.
            if (reader.Remaining < length + 2) return Incomplete(ref reader, buffer, start);
            if (single.Length != 0)
            {
                requests.AddArgument(single.Slice((int)reader.Consumed, (int)length));
                reader.Advance(length + 2);
                continue;
            }
            requests.AddArgument(Slice(ref reader, (int)length, requests));
            reader.Advance(2);
        }
        requests.CommitRequest(firstArgument);
        return Status.Complete;
    }

    private static Status Incomplete(ref SequenceReader<byte> reader, in ReadOnlySequence<byte> buffer, SequencePosition start)
    {
        reader.Rewind(buffer.Slice(start, reader.Position).Length);
        return Status.Incomplete;
    }

    /// <summary>The next <paramref name="length"/> bytes: a slice of the buffer when they sit in one segment, else a copy.</summary>
    private static ReadOnlyMemory<byte> Slice(ref SequenceReader<byte> reader, int length, RequestBuffer requests)
    {
        if (length == 0) return ReadOnlyMemory<byte>.Empty;
        var segment = reader.Sequence.Slice(reader.Position, length);
        ReadOnlyMemory<byte> result;
        if (segment.IsSingleSegment)
        {
            result = segment.First;
        }
        else
        {
            var copy = requests.Rent(length);
            segment.CopyTo(copy.Span);
            result = copy;
        }
        reader.Advance(length);
        return result;
    }

    /// <summary>Reads up to '\r' and expects '\n' after it, as Redis's strchr('\r') search does.</summary>
    private static bool TryReadLine(ref SequenceReader<byte> reader, out ReadOnlySpan<byte> line)
    {
        var span = reader.UnreadSpan;
        // Most lines are one digit ("*3", "$5"): no search for those.
        var cr = span.Length > 2 && span[1] == (byte)'\r' && span[0] != (byte)'\r' ? 1 : span.IndexOf((byte)'\r');
        if (cr >= 0 && cr + 1 < span.Length)
        {
            line = span[..cr];
            reader.Advance(cr + 2);
            return true;
        }
        // Slow path: the line spans segments.
        if (!reader.TryReadTo(out ReadOnlySequence<byte> seq, (byte)'\r', advancePastDelimiter: true))
        {
            line = default;
            return false;
        }
        if (reader.End)
        {
            reader.Rewind(seq.Length + 1);
            line = default;
            return false;
        }
        reader.Advance(1);
        // Only numbers are read from lines; anything longer than 64 bytes fails to parse as one anyway.
        line = seq.Length <= 64 ? CopySmall(seq) : "x"u8;
        return true;
    }

    [ThreadStatic] private static byte[]? t_lineScratch;

    private static ReadOnlySpan<byte> CopySmall(ReadOnlySequence<byte> seq)
    {
        var scratch = t_lineScratch ??= new byte[64];
        seq.CopyTo(scratch);
        return scratch.AsSpan(0, (int)seq.Length);
    }

    /// <summary>Redis's string2ll: optional '-', digits, no leading zeros, no '+', fits in 64 bits.</summary>
    public static bool TryParseInt64(ReadOnlySpan<byte> s, out long value)
    {
        value = 0;
        if (s.Length == 0 || s.Length > 20) return false;
        if (s.Length == 1 && s[0] == (byte)'0') return true;
        var negative = s[0] == (byte)'-';
        var i = negative ? 1 : 0;
        if (i == s.Length || s[i] < (byte)'1' || s[i] > (byte)'9') return false;
        ulong v = 0;
        if (s.Length - i <= 18)
        {
            // Below 10^18: no overflow to check for, so no division per digit.
            for (; i < s.Length; i++)
            {
                var d = (uint)(s[i] - '0');
                if (d > 9) return false;
                v = v * 10 + d;
            }
        }
        else
        {
            for (; i < s.Length; i++)
            {
                var d = (uint)(s[i] - '0');
                if (d > 9) return false;
                if (v > (ulong.MaxValue - d) / 10) return false;
                v = v * 10 + d;
            }
        }
        if (negative)
        {
            if (v > (ulong)long.MaxValue + 1) return false;
            value = (long)(0 - v);
        }
        else
        {
            if (v > long.MaxValue) return false;
            value = (long)v;
        }
        return true;
    }

    private static Status ParseInline(ref SequenceReader<byte> reader, RequestBuffer requests, out ProtocolError error)
    {
        error = ProtocolError.None;
        var span = reader.UnreadSpan;
        var nl = span.IndexOf((byte)'\n');
        byte[]? rented = null;
        ReadOnlySpan<byte> line;
        int consumedLength;
        if (nl >= 0)
        {
            line = span[..nl];
            consumedLength = nl + 1;
        }
        else if (reader.Sequence.Slice(reader.Position).PositionOf((byte)'\n') is { } pos)
        {
            var seq = reader.Sequence.Slice(reader.Position, pos);
            if (seq.Length > ParserLimits.InlineMaxSize) { error = ProtocolError.TooBigInlineRequest; return Status.Error; }
            rented = ArrayPool<byte>.Shared.Rent((int)seq.Length);
            seq.CopyTo(rented);
            line = rented.AsSpan(0, (int)seq.Length);
            consumedLength = (int)seq.Length + 1;
        }
        else
        {
            if (reader.Remaining > ParserLimits.InlineMaxSize) { error = ProtocolError.TooBigInlineRequest; return Status.Error; }
            return Status.Incomplete;
        }
        try
        {
            if (line.Length > ParserLimits.InlineMaxSize) { error = ProtocolError.TooBigInlineRequest; return Status.Error; }
            if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
            var firstArgument = requests.ArgumentCount;
            if (!InlineSplitter.Split(line, requests))
            {
                error = ProtocolError.UnbalancedQuotes;
                return Status.Error;
            }
            reader.Advance(consumedLength);
            if (requests.ArgumentCount > firstArgument) requests.CommitRequest(firstArgument);
            return Status.Complete;
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Redis's error text for a protocol error (without the leading '-').</summary>
    public static string Describe(ProtocolError error, byte offendingByte) => error switch
    {
        ProtocolError.InvalidMultibulkLength => "ERR Protocol error: invalid multibulk length",
        ProtocolError.InvalidBulkLength => "ERR Protocol error: invalid bulk length",
        ProtocolError.ExpectedDollar => $"ERR Protocol error: expected '$', got '{(char)offendingByte}'",
        ProtocolError.TooBigMultibulkCount => "ERR Protocol error: too big mbulk count string",
        ProtocolError.TooBigBulkCount => "ERR Protocol error: too big bulk count string",
        ProtocolError.TooBigInlineRequest => "ERR Protocol error: too big inline request",
        ProtocolError.UnbalancedQuotes => "ERR Protocol error: unbalanced quotes in request",
        ProtocolError.UnauthenticatedMultibulkLength => "ERR Protocol error: unauthenticated multibulk length",
        ProtocolError.UnauthenticatedBulkLength => "ERR Protocol error: unauthenticated bulk length",
        _ => "ERR Protocol error",
    };
}
