using System.Buffers;
using StreamServer.Configuration;
using StreamServer.Execution;
using StreamServer.Hosting;
using StreamServer.Protocol;

namespace StreamServer.Benchmarks;

/// <summary>
/// A server with no network and no dispatcher thread: a batch is parsed into one client's request buffer and run
/// on the calling thread, as a connection hands it to the dispatcher; the replies are counted and discarded.
/// </summary>
internal sealed class InlineBatchRunner : IDisposable
{
    private readonly ServerRuntime _runtime;
    private readonly ClientSession _client = new(1, new NullTransport(), 0) { Authenticated = true };
    private readonly string? _aofDir;

    /// <param name="appendFsync">With a value, the AOF is on (in a temp directory) with that appendfsync policy:
    /// every write is propagated and each batch ends with its write(), as at the end of a dispatcher run.</param>
    public InlineBatchRunner(string? appendFsync = null)
    {
        var options = new ServerOptions { Port = 0, Bind = ["127.0.0.1"] };
        if (appendFsync is not null)
        {
            _aofDir = Directory.CreateTempSubdirectory("ss-bench-aof-").FullName;
            options.Dir = _aofDir;
            options.AppendOnly = true;
            options.AppendFsync = appendFsync;
            options.AutoAofRewritePercentage = 0; // a rewrite needs the dispatcher thread, which this runner has not
        }
        _runtime = new ServerRuntime(options);
        if (appendFsync is not null) _runtime.Aof.LoadAndOpen();
    }

    /// <summary>Runs every request of <paramref name="batch"/>; returns the reply bytes written.</summary>
    public int Run(ReadOnlySequence<byte> batch)
    {
        _client.Requests.Clear();
        RespRequestReader.Parse(batch, _client.Requests, ParserLimits.Default, out _, out _, out _, out _);
        _client.PrepareBatch();
        _runtime.Dispatcher.RunBatchInline(_client);
        var written = _client.Reply.Length;
        _client.Reply.Clear();
        return written;
    }

    public void Dispose()
    {
        _runtime.Aof.Shutdown();
        if (_aofDir is not null) Directory.Delete(_aofDir, recursive: true);
    }

    private sealed class NullTransport : IClientTransport
    {
        public string RemoteEndPoint => "127.0.0.1:1";
        public string LocalEndPoint => "127.0.0.1:6379";
        public void RequestFlush() { }
        public void CloseAfterReply() { }
    }
}
