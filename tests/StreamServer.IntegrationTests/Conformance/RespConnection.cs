using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace StreamServer.IntegrationTests.Conformance;

/// <summary>
/// A raw RESP client for conformance replay: sends commands as multibulk and returns each reply's exact bytes,
/// reading one complete RESP2/RESP3 value (attributes included) so that replies never run together.
/// </summary>
internal sealed class RespConnection : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly MemoryStream _frame = new();
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private RespConnection(TcpClient client)
    {
        _client = client;
        _client.NoDelay = true;
        _stream = client.GetStream();
    }

    public static async Task<RespConnection> ConnectAsync(string host, int port, CancellationToken ct)
    {
        var client = new TcpClient();
        try
        {
            await client.ConnectAsync(host, port, ct);
            return new RespConnection(client);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    public async Task<byte[]> RoundTripAsync(IReadOnlyList<byte[]> command, CancellationToken ct)
    {
        await _stream.WriteAsync(Encode(command), ct);
        _frame.SetLength(0);
        await ReadValueAsync(ct);
        return _frame.ToArray();
    }

    /// <summary>Sends bytes as they are (pipelines, malformed frames).</summary>
    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct) => await _stream.WriteAsync(bytes, ct);

    /// <summary>Reads the next complete reply's exact bytes.</summary>
    public async Task<byte[]> ReadReplyAsync(CancellationToken ct)
    {
        _frame.SetLength(0);
        await ReadValueAsync(ct);
        return _frame.ToArray();
    }

    /// <summary>True when reply bytes are waiting: buffered here or readable from the socket without blocking.</summary>
    public bool HasPendingData => _end > _start || _client.Available > 0;

    /// <summary>True when the server closed the connection with nothing more to read.</summary>
    public async Task<bool> IsClosedByServerAsync(CancellationToken ct)
    {
        if (_end > _start) return false;
        try
        {
            var read = await _stream.ReadAsync(_buffer.AsMemory(_end), ct);
            _end += read;
            return read == 0;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public static byte[] Encode(IReadOnlyList<byte[]> command)
    {
        var ms = new MemoryStream();
        WriteAscii(ms, $"*{command.Count}\r\n");
        foreach (var arg in command)
        {
            WriteAscii(ms, $"${arg.Length}\r\n");
            ms.Write(arg);
            WriteAscii(ms, "\r\n");
        }
        return ms.ToArray();
    }

    private static void WriteAscii(MemoryStream ms, string s) => ms.Write(Encoding.ASCII.GetBytes(s));

    private async Task ReadValueAsync(CancellationToken ct)
    {
        var line = await ReadLineAsync(ct);
        var rest = line.AsSpan(1);
        switch (line[0])
        {
            case '+' or '-' or ':' or '_' or ',' or '#' or '(':
                return;
            case '$' or '!' or '=':
                var length = ParseLength(line, rest);
                if (length >= 0) await ReadExactAsync(length + 2, ct);
                return;
            case '*' or '~' or '>':
                for (long i = ParseLength(line, rest); i > 0; i--) await ReadValueAsync(ct);
                return;
            case '%':
                for (long i = 2 * ParseLength(line, rest); i > 0; i--) await ReadValueAsync(ct);
                return;
            case '|':   // attribute map, then the reply it annotates
                for (long i = 2 * ParseLength(line, rest); i > 0; i--) await ReadValueAsync(ct);
                await ReadValueAsync(ct);
                return;
            default:
                throw new InvalidDataException($"Not a RESP reply: {Transcript.Escape(Encoding.Latin1.GetBytes(line))}");
        }
    }

    private static long ParseLength(string line, ReadOnlySpan<char> digits) =>
        long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new InvalidDataException($"Bad RESP length in: {Transcript.Escape(Encoding.Latin1.GetBytes(line))}");

    /// <summary>Reads up to CRLF, records it in the frame, and returns the line without CRLF (Latin-1).</summary>
    private async Task<string> ReadLineAsync(CancellationToken ct)
    {
        var scanned = _start;
        while (true)
        {
            var at = Array.IndexOf(_buffer, (byte)'\n', scanned, _end - scanned);
            if (at > _start && _buffer[at - 1] == '\r')
            {
                var line = Encoding.Latin1.GetString(_buffer, _start, at - 1 - _start);
                Consume(at + 1 - _start);
                if (line.Length == 0) throw new InvalidDataException("Empty RESP line");
                return line;
            }
            scanned = at >= 0 ? at + 1 : _end;
            var before = _start;
            await FillAsync(ct);
            scanned -= before - _start;   // FillAsync may compact the buffer
        }
    }

    private async Task ReadExactAsync(long count, CancellationToken ct)
    {
        while (count > 0)
        {
            if (_end == _start) await FillAsync(ct);
            var take = (int)Math.Min(count, _end - _start);
            Consume(take);
            count -= take;
        }
    }

    private void Consume(int count)
    {
        _frame.Write(_buffer, _start, count);
        _start += count;
    }

    private async Task FillAsync(CancellationToken ct)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
        var read = await _stream.ReadAsync(_buffer.AsMemory(_end), ct);
        if (read == 0) throw new EndOfStreamException("The server closed the connection.");
        _end += read;
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        _frame.Dispose();
        return ValueTask.CompletedTask;
    }
}
