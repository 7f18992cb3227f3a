using Microsoft.Extensions.Logging;
using static StreamServer.Networking.Linux.LinuxNative;

namespace StreamServer.Networking.Linux;

/// <summary>
/// The server's own event loop for client and listening sockets on Linux, as Redis's ae: one thread, level-triggered epoll, one
/// recv per readable socket per turn. Hand-written instead of .NET's socket engine (through Pipelines.Sockets.Unofficial)
/// because that engine is edge-triggered: after every receive it tries the socket again and gets EAGAIN before it
/// waits, one more system call per request batch than Redis makes (perf stat, PING -P 16, 1,000,000 requests:
/// 125,010 recvfrom for 62,500 batches, Redis 62,580 reads). docs/design-notes.md, note 16, has the measurements.
/// <para>What a readable socket does: <see cref="EpollSocket.OnEvents"/> receives into its pipe and flushes it; the
/// pipe's inline reader runs the connection's read loop on this thread (parse, post to the dispatcher, which runs the
/// batch here when it is idle); the replies of the turn's batches are sent at its end (<see cref="WriteAtTurnEnd"/>).
/// A readable listening socket (<see cref="EpollListener"/>) accepts up to 16 connections, which register with the
/// dispatcher here too (note 17). Nothing on this thread blocks.</para>
/// </summary>
internal sealed unsafe class EventLoop : IDisposable
{
    private const int MaxEvents = 256;
    private const ulong WakeToken = ulong.MaxValue;

    private readonly int _epoll;
    private readonly int _wakeFd;
    private readonly Thread _thread;
    private readonly ILogger _log;
    private readonly object _tableLock = new();
    private IEventSource?[] _sockets = new IEventSource?[64];
    private readonly Stack<int> _freeSlots = new();
    private int _nextSlot;
    private uint _generation;
    private volatile bool _stopping;

    private readonly Action? _turnStarted;
    private readonly Action? _turnEnded;

    /// <param name="turnStarted">Called on the loop thread before it handles what one epoll_wait returned.</param>
    /// <param name="turnEnded">Called after (Redis's beforeSleep: the dispatcher's end of run).</param>
    public EventLoop(ILogger log, Action? turnStarted = null, Action? turnEnded = null)
    {
        _log = log;
        _turnStarted = turnStarted;
        _turnEnded = turnEnded;
        _epoll = EpollCreate1(EPOLL_CLOEXEC);
        if (_epoll < 0) throw new System.Net.Sockets.SocketException(System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
        _wakeFd = EventFd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (_wakeFd < 0 || Control(_epoll, EPOLL_CTL_ADD, _wakeFd, EPOLLIN, WakeToken) != 0)
        {
            throw new System.Net.Sockets.SocketException(System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
        }
        _thread = new Thread(Run) { IsBackground = true, Name = "StreamServer event loop" };
        _thread.Start();
    }

    internal int EpollFd => _epoll;


    /// <summary>Gives the socket (a client's or a listener's) a token (slot and generation) for its epoll registrations.</summary>
    internal ulong Add(IEventSource socket)
    {
        lock (_tableLock)
        {
            var slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : _nextSlot++;
            if (slot >= _sockets.Length) Array.Resize(ref _sockets, _sockets.Length * 2);
            Volatile.Write(ref _sockets[slot], socket);
            return (ulong)++_generation << 32 | (uint)slot;
        }
    }

    internal void Remove(ulong token)
    {
        lock (_tableLock)
        {
            var slot = (int)(uint)token;
            if (_sockets[slot]?.Token != token) return;
            Volatile.Write(ref _sockets[slot], null);
            _freeSlots.Push(slot);
        }
    }

    private void Run()
    {
        var events = stackalloc byte[MaxEvents * 16];
        while (!_stopping)
        {
            var n = EpollWait(_epoll, events, MaxEvents, -1);
            if (n < 0)
            {
                var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                if (errno == EINTR) continue;
                _log.LogError("epoll_wait failed with errno {Errno}; the event loop stops", errno);
                return;
            }
            var sockets = Volatile.Read(ref _sockets);
            t_turn = this;
            _turnStarted?.Invoke();
            for (var i = 0; i < n; i++)
            {
                var token = DataAt(events, i);
                if (token == WakeToken)
                {
                    ulong value;
                    _ = Read(_wakeFd, (byte*)&value, sizeof(ulong));
                    continue;
                }
                var slot = (int)(uint)token;
                var socket = slot < sockets.Length ? Volatile.Read(ref sockets[slot]) : null;
                if (socket is null || socket.Token != token) continue; // removed since epoll_wait returned
                try
                {
                    socket.OnEvents(EventsAt(events, i));
                }
                catch (Exception e)
                {
                    _log.LogError(e, "Event loop: socket event failed");
                }
            }
            try
            {
                _turnEnded?.Invoke();
            }
            catch (Exception e)
            {
                _log.LogError(e, "Event loop: end of turn failed");
            }
            t_turn = null;
            WriteTurnReplies();
        }
    }

    /// <summary>The loop whose turn is running on this thread; null outside a turn and on other threads.</summary>
    [ThreadStatic] private static EventLoop? t_turn;

    private readonly List<Connection> _replyWriters = [];

    /// <summary>
    /// Called while the connection's batch runs in a turn on this loop's thread: its replies are sent at the end of
    /// the turn, after the turn's AOF write, with those of every other client read in the turn, as Redis's
    /// handleClientsWithPendingWrites in beforeSleep. False when not in a turn (the caller sends now).
    /// </summary>
    internal static bool WriteAtTurnEnd(Connection connection)
    {
        var loop = t_turn;
        if (loop is null) return false;
        loop._replyWriters.Add(connection);
        return true;
    }

    private void WriteTurnReplies()
    {
        var writers = _replyWriters;
        for (var i = 0; i < writers.Count; i++)
        {
            try
            {
                writers[i].WriteRepliesNow();
            }
            catch (Exception e)
            {
                _log.LogError(e, "Event loop: sending replies failed");
            }
        }
        writers.Clear();
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        ulong one = 1;
        _ = Write(_wakeFd, (byte*)&one, sizeof(ulong));
        if (Thread.CurrentThread != _thread) _thread.Join(TimeSpan.FromSeconds(5));
        _ = LinuxNative.Close(_wakeFd);
        _ = LinuxNative.Close(_epoll);
    }
}

/// <summary>A descriptor the <see cref="EventLoop"/> watches: a client socket or a listening socket.</summary>
internal interface IEventSource
{
    /// <summary>Its slot in the loop's table and a generation: an event for a removed source is dropped.</summary>
    ulong Token { get; }

    /// <summary>On the loop thread: what epoll reported.</summary>
    void OnEvents(uint events);
}
