using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using StreamServer.Commands;
using StreamServer.Configuration;
using StreamServer.Execution;
using StreamServer.Networking;
using StreamServer.Networking.Linux;
using StreamServer.Persistence;

namespace StreamServer.Hosting;

/// <summary>
/// The assembled server: command table, dispatcher thread and listeners. The executable and the embedded test
/// server both run this.
/// </summary>
public sealed class ServerRuntime : IAsyncDisposable
{
    private readonly List<Listener> _listeners = [];
    private EventLoop? _eventLoop;
    private readonly ILogger _log;
    private int _stopped;

    public ServerRuntime(ServerOptions options, ILoggerFactory? loggerFactory = null)
    {
        Server = new ServerContext(options, loggerFactory);
        _log = Server.LoggerFactory.CreateLogger("StreamServer");
        CommandRegistry.RegisterAll(Server.Commands);
        Dispatcher = new Dispatcher(Server);
        Aof = new AofManager(Server, Dispatcher);
    }

    /// <summary>The append-only file: loaded in <see cref="StartAsync"/>, fsynced and closed in <see cref="StopAsync"/>.</summary>
    public AofManager Aof { get; }

    public ServerContext Server { get; }

    public Dispatcher Dispatcher { get; }

    public IReadOnlyList<IPEndPoint> EndPoints { get; private set; } = [];

    /// <summary>True once <see cref="StopAsync"/> has been called.</summary>
    public bool Stopped => Volatile.Read(ref _stopped) == 1;

    /// <summary>Starts the dispatcher and listens on every bind address (a '-' prefixed one may fail, as in Redis 7).</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        // Replay the AOF before anything runs or listens: the dispatcher thread is not started yet, so this
        // thread may run the handlers.
        Aof.LoadAndOpen();
        Dispatcher.Start();
        var options = Server.Options;
        var endPoints = new List<IPEndPoint>();
        var port = options.Port;
        // Port 0 asks for a free port. The socket library reports the requested endpoint, not the bound one,
        // so the free port is found first (a short race with other processes, acceptable for tests).
        if (port == 0) port = FindFreePort();
        foreach (var entry in options.Bind)
        {
            var optional = entry.StartsWith('-');
            var text = optional ? entry[1..] : entry;
            if (text == "*") text = "0.0.0.0";
            else if (text == "::*") text = "::";
            if (!IPAddress.TryParse(text, out var address))
            {
                throw new InvalidOperationException($"Invalid bind address '{entry}'");
            }
            if (options.EventLoop && LinuxNative.IsSupported && _eventLoop is null)
            {
                _eventLoop = new EventLoop(Server.LoggerFactory.CreateLogger("StreamServer.EventLoop"), Dispatcher.BeginTurn, Dispatcher.EndTurn);
            }
            var listener = new Listener(Dispatcher, _eventLoop);
            try
            {
                listener.Start(new IPEndPoint(address, port));
                var bound = (IPEndPoint)await listener.Started.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
                endPoints.Add(bound);
                _listeners.Add(listener);
            }
            catch (Exception e) when (optional && e is SocketException or AggregateException or InvalidOperationException)
            {
                _log.LogWarning("Could not bind {Address}: {Message} (optional address, skipped)", text, e.Message);
                listener.Dispose();
            }
        }
        if (endPoints.Count == 0) throw new InvalidOperationException("Failed listening on any bind address");
        EndPoints = endPoints;
        Server.ListeningPort = endPoints[0].Port;
        options.Port = Server.ListeningPort;
    }

    private static int FindFreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    /// <summary>Stops accepting, lets in-flight batches finish and connections close, then stops the dispatcher.</summary>
    public async Task StopAsync(TimeSpan drainTimeout)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;
        var drains = new List<Task>();
        foreach (var l in _listeners) drains.Add(l.StopAcceptingAsync());
        await Dispatcher.InvokeAsync(() =>
        {
            foreach (var c in Server.Clients.Values) c.Transport.CloseAfterReply();
            return true;
        }).ConfigureAwait(false);
        await Task.WhenAny(Task.WhenAll(drains), Task.Delay(drainTimeout)).ConfigureAwait(false);
        Dispatcher.Stop();
        Aof.Shutdown();
        foreach (var l in _listeners) l.Dispose();
        _eventLoop?.Dispose();
    }

    public async ValueTask DisposeAsync() => await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
}
