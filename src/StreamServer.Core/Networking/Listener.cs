using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Pipelines.Sockets.Unofficial;
using StreamServer.Execution;
using StreamServer.Networking.Linux;

namespace StreamServer.Networking;

/// <summary>
/// Accepts connections on one address and runs a <see cref="Connection"/> for each: on Linux accepted and served by
/// the server's own <see cref="EventLoop"/> (<see cref="EpollListener"/>, <see cref="EpollSocket"/>), elsewhere (or
/// with the loop turned off) over Pipelines.Sockets.Unofficial.
/// </summary>
public sealed class Listener : SocketServer
{
    private readonly Dispatcher _dispatcher;
    private readonly EventLoop? _loop;
    private EpollListener? _epollListener;
    private readonly ILogger _log;
    private readonly ILogger _connectionLog;
    private readonly TaskCompletionSource<EndPoint> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _active;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal Listener(Dispatcher dispatcher, EventLoop? loop)
    {
        _dispatcher = dispatcher;
        _loop = loop;
        _log = dispatcher.Server.LoggerFactory.CreateLogger("StreamServer.Listener");
        _connectionLog = dispatcher.Server.LoggerFactory.CreateLogger("StreamServer.Connection");
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
        if (_loop is null)
        {
            Listen(endPoint, family, SocketType.Stream, ProtocolType.Tcp, 511, SendOptions, ReceiveOptions);
            return;
        }
        var socket = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (family == AddressFamily.InterNetworkV6) socket.DualMode = false; // as Redis: "::1" is IPv6 only
            socket.Bind(endPoint);
            socket.Listen(511);
        }
        catch (Exception e)
        {
            socket.Dispose();
            _started.TrySetException(e);
            return;
        }
        // Accepted on the event loop thread, as Redis accepts in its event loop (docs/design-notes.md, note 17).
        _epollListener = new EpollListener(_loop, socket, client => _ = ServeAsync(client), _log);
        _started.TrySetResult(socket.LocalEndPoint!);
    }

    private async Task ServeAsync(Socket client)
    {
        EpollSocket pipe;
        string remote;
        try
        {
            remote = client.RemoteEndPoint?.ToString() ?? "?";
            pipe = new EpollSocket(_loop!, client, SendOptions, ReceiveOptions);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            client.Dispose();
            return;
        }
        try
        {
            await RunConnectionAsync(pipe, client, remote).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _log.LogWarning(e, "Client connection from {Remote} faulted", remote);
        }
        finally
        {
            pipe.Dispose();
        }
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
    {
        var socket = (SocketConnection)client.Transport;
        return RunConnectionAsync(new SocketConnectionPipe(socket), socket.Socket, client.RemoteEndPoint?.ToString() ?? "?");
    }

    private async Task RunConnectionAsync(ISocketPipe transport, Socket socket, string remote)
    {
        var local = socket.LocalEndPoint?.ToString() ?? "?";
        socket.NoDelay = true;
        TcpKeepAlive.Apply(socket, _dispatcher.Server.Options.TcpKeepAlive);
        var connection = new Connection(transport, _dispatcher, _connectionLog, remote, local);
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
        if (_epollListener is null) Stop();
        else _epollListener.Dispose();
        if (ActiveConnections == 0) _drained.TrySetResult();
        return _drained.Task;
    }
}
