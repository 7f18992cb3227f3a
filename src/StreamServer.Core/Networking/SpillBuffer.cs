using System.Buffers;

namespace StreamServer.Networking;

/// <summary>
/// A client's unparsed bytes once one request outgrows the receive pipe's window (Redis's query buffer growing for
/// a big argument). The pipe pauses at <see cref="PipeWindow"/> unconsumed bytes, so a client that sends faster than
/// the server answers is held back by TCP instead of having its requests read ahead into memory; a request larger
/// than that (up to proto-max-bulk-len) is drained into this buffer, which the connection parses instead of the pipe
/// until it is empty again.
/// </summary>
internal sealed class SpillBuffer
{
    /// <summary>Unconsumed bytes at which the receive pipe stops reading the socket.</summary>
    public const int PipeWindow = 1024 * 1024;

    /// <summary>An incomplete request this large moves to a spill buffer (below <see cref="PipeWindow"/>, so the pipe never stalls on it).</summary>
    public const int SpillAt = 256 * 1024;

    private byte[] _bytes = new byte[2 * SpillAt];
    private int _start;
    private int _end;

    public int Length => _end - _start;

    public ReadOnlySequence<byte> Sequence => new(_bytes, _start, Length);

    public void Append(in ReadOnlySequence<byte> data)
    {
        if (data.Length > Array.MaxLength - Length) throw new InvalidOperationException("Query buffer too large.");
        var length = (int)data.Length;
        if (_end + length > _bytes.Length)
        {
            var needed = Length + length;
            if (needed <= _bytes.Length / 2)
            {
                // Room enough once the parsed bytes are gone: move the rest to the front.
                _bytes.AsSpan(_start, Length).CopyTo(_bytes);
            }
            else
            {
                var grown = new byte[(int)Math.Min(Array.MaxLength, Math.Max(needed, 2L * _bytes.Length))];
                _bytes.AsSpan(_start, Length).CopyTo(grown);
                _bytes = grown;
            }
            _end = Length;
            _start = 0;
        }
        data.CopyTo(_bytes.AsSpan(_end));
        _end += length;
    }

    /// <summary>Drops the first <paramref name="count"/> bytes (parsed and answered).</summary>
    public void Discard(long count)
    {
        _start += (int)count;
        if (_start == _end) _start = _end = 0;
    }
}
