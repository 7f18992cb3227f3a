using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Pipelines.Sockets.Unofficial;
using StreamServer.Execution;

namespace StreamServer.Networking;

/// <summary>Accepts connections on one address (Pipelines.Sockets.Unofficial) and runs a <see cref="Connection"/> for each.</summary>
public sealed class Listener : SocketServer
{
    private readonly Dispatcher _dispatcher;
    private readonly ILogger _log;
    private readonly TaskCompletionSource<EndPoint> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _active;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Listener(Dispatcher dispatcher)
    {
        _dispatcher = dispatcher;
        _log = dispatcher.Server.LoggerFactory.CreateLogger("StreamServer.Listener");
    }

    public Task<EndPoint> Started => _started.Task;

    public int ActiveConnections => Volatile.Read(ref _active);

    /// <summary>
    /// Receive side: the pipe stops reading the socket at <see cref="SpillBuffer.PipeWindow"/> unconsumed bytes, so
    /// a client that sends faster than it is answered is held back by TCP, as with Redis; a single request larger
    /// than that moves to the connection's <see cref="SpillBuffer"/> (docs/design-notes.md, note 14). Inline reader
    /// scheduling: the socket's receive completion runs the connection's read loop on the same thread (parse and post
    /// to the dispatcher) instead of queueing it to the thread pool — one thread hop less per request (note 9).
    /// </summary>
    public static PipeOptions ReceiveOptions { get; } = new(
        readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.Inline, // Pipelines.Sockets.Unofficial resumes its receive loop with it
        pauseWriterThreshold: SpillBuffer.PipeWindow,
        resumeWriterThreshold: SpillBuffer.PipeWindow / 2,
        minimumSegmentSize: 16 * 1024,
        useSynchronizationContext: false);

    /// <summary>
    /// Send side. Inline reader scheduling: a flush runs the socket send loop on the flushing thread (usually the
    /// dispatcher, right after the batch), as Redis writes replies from its event loop, instead of waking a
    /// thread-pool thread to do it.
    /// </summary>
    public static PipeOptions SendOptions { get; } = new(
        readerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 64 * 1024 * 1024,
        resumeWriterThreshold: 32 * 1024 * 1024,
        minimumSegmentSize: 16 * 1024,
        useSynchronizationContext: false);

    public void Start(IPEndPoint endPoint)
    {
        var family = endPoint.AddressFamily;
        Listen(endPoint, family, SocketType.Stream, ProtocolType.Tcp, 511, SendOptions, ReceiveOptions);
    }

    protected override void OnStarted(EndPoint endPoint) => _started.TrySetResult(endPoint);

    protected override void OnServerFaulted(Exception exception)
    {
        _started.TrySetException(exception);
        if (_stopping) return; // Stop() cancels the pending accept: that is the shutdown, not a fault
        _log.LogError(exception, "Listener faulted");
    }

    protected override void OnClientFaulted(in ClientConnection client, Exception exception)
        => _log.LogWarning(exception, "Client connection from {Remote} faulted", client.RemoteEndPoint);

    protected override Task OnClientConnectedAsync(in ClientConnection client)
        => RunConnectionAsync(client.Transport, client.RemoteEndPoint?.ToString() ?? "?");

    private async Task RunConnectionAsync(IDuplexPipe transport, string remote)
    {
        var local = (transport as SocketConnection)?.Socket.LocalEndPoint?.ToString() ?? "?";
        if (transport is SocketConnection sc)
        {
            sc.Socket.NoDelay = true;
            TcpKeepAlive.Apply(sc.Socket, _dispatcher.Server.Options.TcpKeepAlive);
        }
        var connection = new Connection(transport, _dispatcher, remote, local);
        Interlocked.Increment(ref _active);
        try
        {
            await connection.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            if (Interlocked.Decrement(ref _active) == 0 && _stopping) _drained.TrySetResult();
        }
    }

    private volatile bool _stopping;

    /// <summary>Stops accepting; completes when every connection has ended.</summary>
    public Task StopAcceptingAsync()
    {
        _stopping = true;
        Stop();
        if (ActiveConnections == 0) _drained.TrySetResult();
        return _drained.Task;
    }
}
