using System.Net.Sockets;
using System.Text;
using StreamServer.Embedded;

namespace StreamServer.IntegrationTests;

/// <summary>
/// A raw RESP client for tests that need exact bytes and unsolicited replies (pub/sub pushes): sends a command,
/// and reads one complete RESP2/RESP3 value at a time as text (CRLF kept), with a timeout.
/// </summary>
internal sealed class RawClient : IAsyncDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly List<byte> _pending = [];
    private readonly byte[] _buffer = new byte[64 * 1024];

    private RawClient(TcpClient client)
    {
        _client = client;
        _client.NoDelay = true;
        _stream = client.GetStream();
    }

    public static async Task<RawClient> ConnectAsync(EmbeddedServer server)
    {
        var client = new TcpClient();
        await client.ConnectAsync(server.EndPoint);
        return new RawClient(client);
    }

    public async Task SendAsync(params string[] args)
    {
        var sb = new StringBuilder().Append('*').Append(args.Length).Append("\r\n");
        foreach (var arg in args) sb.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        await _stream.WriteAsync(Encoding.UTF8.GetBytes(sb.ToString()));
    }

    /// <summary>Sends a command and returns its reply.</summary>
    public async Task<string> CallAsync(params string[] args)
    {
        await SendAsync(args);
        return await ReadAsync();
    }

    /// <summary>The next complete RESP value, exactly as sent.</summary>
    public async Task<string> ReadAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        while (true)
        {
            var length = FrameLength(0);
            if (length > 0)
            {
                var text = Encoding.UTF8.GetString(_pending.GetRange(0, length).ToArray());
                _pending.RemoveRange(0, length);
                return text;
            }
            var read = await _stream.ReadAsync(_buffer, cts.Token);
            if (read == 0) throw new EndOfStreamException("The server closed the connection.");
            _pending.AddRange(_buffer.AsSpan(0, read));
        }
    }

    /// <summary>True when nothing arrives within <paramref name="wait"/>.</summary>
    public async Task<bool> NothingArrivesAsync(TimeSpan wait)
    {
        try
        {
            var unexpected = await ReadAsync(wait);
            throw new Xunit.Sdk.XunitException($"Unexpected reply: {unexpected}");
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    /// <summary>Length of the complete value starting at <paramref name="start"/>, or -1 when more bytes are needed.</summary>
    private int FrameLength(int start)
    {
        var lineEnd = IndexOfCrlf(start);
        if (lineEnd < 0) return -1;
        var header = Encoding.ASCII.GetString(_pending.GetRange(start + 1, lineEnd - start - 1).ToArray());
        var afterHeader = lineEnd + 2;
        switch ((char)_pending[start])
        {
            case '$' or '=' or '!':
                var size = int.Parse(header, System.Globalization.CultureInfo.InvariantCulture);
                if (size < 0) return afterHeader - start;
                return _pending.Count >= afterHeader + size + 2 ? afterHeader + size + 2 - start : -1;
            case '*' or '~' or '>' or '%':
                var count = int.Parse(header, System.Globalization.CultureInfo.InvariantCulture);
                if (_pending[start] == '%') count *= 2;
                var position = afterHeader;
                for (var i = 0; i < count; i++)
                {
                    var inner = FrameLength(position);
                    if (inner < 0) return -1;
                    position += inner;
                }
                return position - start;
            default:
                return afterHeader - start;
        }
    }

    private int IndexOfCrlf(int from)
    {
        for (var i = from; i + 1 < _pending.Count; i++)
        {
            if (_pending[i] == '\r' && _pending[i + 1] == '\n') return i;
        }
        return -1;
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
