namespace StreamServer.Persistence;

public enum AofReadStatus
{
    /// <summary>A complete command was read.</summary>
    Command,
    /// <summary>The file ended cleanly, between commands.</summary>
    End,
    /// <summary>The file ends inside a command (a torn tail).</summary>
    Truncated,
    /// <summary>Bytes that are not a RESP command.</summary>
    Corrupt,
}

/// <summary>
/// Reads commands from an AOF as Redis's loadSingleAppendOnlyFile does: <c>*argc</c>, then <c>$len</c> and the bytes
/// of each argument, each line ending in CRLF; lines starting with '#' are annotations and skipped.
/// <see cref="Offset"/> is the end of the last complete command (where a torn file is cut).
/// </summary>
public sealed class AofReader : IDisposable
{
    private const int MaxLine = 1024;
    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly byte[] _line = new byte[MaxLine];
    private int _pos;
    private int _len;
    private long _bufferStart;

    public AofReader(Stream stream) => _stream = stream;

    /// <summary>End of the last complete command, in bytes from the start of the file.</summary>
    public long Offset { get; private set; }

    /// <summary>Where the problem is when <see cref="Read"/> says <see cref="AofReadStatus.Corrupt"/>.</summary>
    public long ErrorOffset { get; private set; }

    public string? Error { get; private set; }

    private long Position => _bufferStart + _pos;

    public AofReadStatus Read(List<byte[]> args)
    {
        args.Clear();
        while (true)
        {
            var start = Position;
            if (!Fill()) return AofReadStatus.End;
            if (_buffer[_pos] == '#')
            {
                if (!ReadLine(out _)) return AofReadStatus.Truncated;
                Offset = Position;
                continue;
            }
            if (!ReadLine(out var header)) return AofReadStatus.Truncated;
            if (header < 2 || _line[0] != '*' || !TryParse(_line.AsSpan(1, header - 1), out var argc) || argc < 1)
                return Corrupt(start, "expected '*<count>'");
            for (var i = 0; i < argc; i++)
            {
                var at = Position;
                if (!ReadLine(out var lenLine)) return AofReadStatus.Truncated;
                if (lenLine < 2 || _line[0] != '$' || !TryParse(_line.AsSpan(1, lenLine - 1), out var len) || len > int.MaxValue - 2)
                    return Corrupt(at, "expected '$<length>'");
                var value = new byte[len];
                if (!ReadExact(value)) return AofReadStatus.Truncated;
                at = Position;
                var crlf = new byte[2];
                if (!ReadExact(crlf)) return AofReadStatus.Truncated;
                if (crlf[0] != '\r' || crlf[1] != '\n') return Corrupt(at, "expected CRLF after a bulk string");
                args.Add(value);
            }
            Offset = Position;
            return AofReadStatus.Command;
        }
    }

    private AofReadStatus Corrupt(long at, string what)
    {
        ErrorOffset = at;
        Error = what;
        return AofReadStatus.Corrupt;
    }

    private static bool TryParse(ReadOnlySpan<byte> digits, out long value)
        => Protocol.RespRequestReader.TryParseInt64(digits, out value) && value >= 0;

    private bool Fill()
    {
        if (_pos < _len) return true;
        _bufferStart += _len;
        _pos = 0;
        _len = _stream.Read(_buffer, 0, _buffer.Length);
        return _len > 0;
    }

    /// <summary>Reads a line ending in CRLF into <see cref="_line"/> (without it). False at end of file; an over-long or bare-LF line reads as corrupt text.</summary>
    private bool ReadLine(out int length)
    {
        length = 0;
        while (true)
        {
            if (!Fill()) return false;
            var b = _buffer[_pos++];
            if (b == '\n')
            {
                if (length > 0 && _line[length - 1] == '\r') length--;
                else length = 0; // a line without CR is malformed: make it fail the caller's check
                return true;
            }
            if (length == MaxLine) { length = 0; return true; }
            _line[length++] = b;
        }
    }

    private bool ReadExact(Span<byte> into)
    {
        while (into.Length > 0)
        {
            if (!Fill()) return false;
            var n = Math.Min(into.Length, _len - _pos);
            _buffer.AsSpan(_pos, n).CopyTo(into);
            _pos += n;
            into = into[n..];
        }
        return true;
    }

    public void Dispose() => _stream.Dispose();
}
