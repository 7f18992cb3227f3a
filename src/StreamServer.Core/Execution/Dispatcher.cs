using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using StreamServer.Protocol;

namespace StreamServer.Execution;

/// <summary>
/// Runs commands one at a time (design.md "Dispatcher mechanics"). Connections post whole batches; the dispatcher
/// drains everything queued per wake-up, runs each batch, completes it, then serves clients blocked on keys that
/// became ready, expires keys and times out blocked clients. Nothing else touches the keyspace.
/// </summary>
/// <remarks>
/// A batch posted while the dispatcher is idle runs at once on the posting thread (the socket engine's epoll
/// thread) instead of waking the dispatcher thread: the same mutual exclusion (one run lock, never two batches
/// at a time, queued work first), without a futex wake-up and a context switch per request — Redis's one event
/// loop. The dispatcher thread keeps the queue, the cron and block deadlines (docs/design-notes.md, note 10).
/// </remarks>
public sealed class Dispatcher : IDisposable
{
    private readonly ServerContext _server;
    private readonly ConcurrentQueue<object> _queue = new();
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
    private readonly Thread _thread;
    private readonly CommandContext _ctx;
    private readonly ILogger _log;
    private readonly List<ClientSession> _scratchClients = [];
    private int _sleeping;
    private long _plannedWakeMs = long.MaxValue;
    private int _wakeRequests;
    private volatile bool _stopping;

    /// <summary>Set once the dispatcher thread runs; before that (AOF loading, benchmarks) nothing runs inline.</summary>
    private volatile bool _started;

    /// <summary>Held while commands run, on whichever thread runs them.</summary>
    private readonly Lock _runLock = new();

    /// <summary>1 while a thread runs work under <see cref="_runLock"/> (runs do not nest: a post from inside one is queued).</summary>
    private int _running;

    /// <summary>Threads that must never run commands (the AOF writer) post to the queue only.</summary>
    [ThreadStatic] private static bool t_queueOnly;

    /// <summary>Marks the calling thread as one that posts batches to the queue but never runs them itself.</summary>
    public static void QueueOnlyOnThisThread() => t_queueOnly = true;

    /// <summary>The calling thread is the event loop, between epoll_wait's return and the end of its turn.</summary>
    [ThreadStatic] private static bool t_inTurn;

    /// <summary>A run in this turn left its end (<see cref="ICommandObserver.OnRunEnd"/>) to <see cref="EndTurn"/>.</summary>
    [ThreadStatic] private static bool t_turnRunEndDue;

    private long _nextCronMs;

    public Dispatcher(ServerContext server)
    {
        _server = server;
        _ctx = new CommandContext(server);
        _log = server.LoggerFactory.CreateLogger("StreamServer.Dispatcher");
        _thread = new Thread(Run) { IsBackground = true, Name = "dispatcher" };
        server.RunQueued = RunQueued;
    }

    public ServerContext Server => _server;

    /// <summary>Hooks run after each command that wrote (AOF propagation plugs in here).</summary>
    public ICommandObserver? Observer { get; set; }

    /// <summary>
    /// Posts a client whose <see cref="ClientSession.Requests"/> are ready to run: runs it now on the calling thread
    /// when nothing else is running or queued, else queues it for the dispatcher thread. Any thread.
    /// </summary>
    public void Post(ClientSession client)
    {
        if (!TryRunInline(client)) Enqueue(client);
    }

    private bool TryRunInline(ClientSession client)
    {
        if (!MayRunInline() || !TryBeginRun()) return false;
        try
        {
            RunBatch(client);
            AfterWork();
        }
        catch (Exception e)
        {
            _log.LogError(e, "Error in a run on the calling thread (inline batch)");
        }
        EndRun();
        return true;
    }

    /// <summary>
    /// Work may run on the calling thread: not a queue-only thread, the dispatcher started and not stopping, nothing
    /// queued (which must run first) and no run in progress (a post from inside a run is queued, not nested).
    /// </summary>
    private bool MayRunInline()
        => !t_queueOnly && !_stopping && _started && _queue.IsEmpty && Volatile.Read(ref _running) == 0;

    /// <summary>
    /// Takes the run lock on the calling thread unless another thread's run holds it (or this thread is already
    /// inside a run, or the dispatcher stopped). On true the caller runs its work and then calls <see cref="EndRun"/>.
    /// </summary>
    private bool TryBeginRun()
    {
        if (!_runLock.TryEnter()) return false;
        if (_running == 1 || _stopping)
        {
            _runLock.Exit();
            return false;
        }
        _running = 1;
        return true;
    }

    /// <summary>
    /// Ends a run begun by <see cref="TryBeginRun"/>: runs everything queued meanwhile, releases the lock and wakes the
    /// dispatcher thread if work is left for it (queued after the drain, or a block deadline earlier than its wake-up).
    /// </summary>
    private void EndRun()
    {
        var earlierDeadline = false;
        try
        {
            try
            {
                DrainQueue();
                // A client blocked here with a deadline before the dispatcher's planned wake-up must not wait for it.
                earlierDeadline = _server.Blocking.BlockedCount > 0 && _server.Blocking.NextDeadline() < _plannedWakeMs;
            }
            catch (Exception e)
            {
                _log.LogError(e, "Error in a run on the calling thread (queued work)");
            }
            finally
            {
                Volatile.Write(ref _running, 0);
            }
        }
        finally
        {
            _runLock.Exit();
        }
        if (earlierDeadline) Interlocked.Increment(ref _wakeRequests);
        // Full fence, then look: work queued while this run held the lock did not wake the dispatcher.
        Interlocked.MemoryBarrier();
        if (earlierDeadline || !_queue.IsEmpty) _wake.Set();
    }

    /// <summary>
    /// The event loop starts handling what one epoll_wait returned. Until <see cref="EndTurn"/>, batches it runs
    /// inline leave the end of their run — the AOF write and the completion of batches waiting for it — to the end of
    /// the turn, so one write() covers every client read in the turn, as Redis's beforeSleep does (with appendfsync
    /// everysec, a write per batch cost about a tenth of the server's CPU under XADD -P 16).
    /// </summary>
    public void BeginTurn() => t_inTurn = true;

    /// <summary>The event loop's turn is over (Redis's beforeSleep): ends the runs it left open.</summary>
    public void EndTurn()
    {
        t_inTurn = false;
        if (!t_turnRunEndDue) return;
        t_turnRunEndDue = false;
        // If another thread's run holds the lock, it ends with OnRunEnd after taking it, so it covers what this turn left.
        if (!TryBeginRun()) return;
        try
        {
            Observer?.OnRunEnd();
        }
        catch (Exception e)
        {
            _log.LogError(e, "Error in a run on the calling thread (end of turn)");
        }
        EndRun();
    }

    /// <summary>Queues <paramref name="action"/> to run under the run lock after what is already queued (the AOF's hand-backs). Any thread.</summary>
    public void Post(Action action) => Enqueue(action);

    /// <summary>
    /// Runs <paramref name="func"/> under the run lock and returns its result (connect/disconnect bookkeeping). As
    /// <see cref="Post(ClientSession)"/> does for batches, it runs at once on the calling thread when nothing is
    /// running or queued, so the common connect or disconnect costs no thread hop (docs/design-notes.md, note 17);
    /// otherwise it is queued behind what is there and the result arrives on a thread-pool thread. Any thread.
    /// </summary>
    public ValueTask<T> InvokeAsync<T>(Func<T> func)
    {
        if (MayRunInline() && TryBeginRun())
        {
            T result;
            try
            {
                result = func();
                AfterWork();
            }
            catch (Exception e)
            {
                return ValueTask.FromException<T>(e);
            }
            finally
            {
                EndRun();
            }
            return new ValueTask<T>(result);
        }
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(new Action(() =>
        {
            try { tcs.SetResult(func()); }
            catch (Exception e) { tcs.SetException(e); }
        }));
        return new ValueTask<T>(tcs.Task);
    }

    private void Enqueue(object work)
    {
        _queue.Enqueue(work);
        // Full fence between the enqueue and the reads of the flags: pairs with the ones in Sleep and TryRunInline.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _running) == 1) return; // the running thread drains the queue or wakes the dispatcher
        if (Volatile.Read(ref _sleeping) == 1) _wake.Set();
    }

    public void Start()
    {
        _thread.Start();
        _started = true;
    }

    public void Stop()
    {
        _stopping = true;
        _wake.Set();
        if (Thread.CurrentThread == _thread) return;
        _thread.Join(TimeSpan.FromSeconds(10));
        // Wait out a batch running inline on another thread, so nothing runs after Stop returns.
        if (!_runLock.IsHeldByCurrentThread)
        {
            _runLock.Enter();
            _runLock.Exit();
        }
    }

    public void Dispose()
    {
        Stop();
        _wake.Dispose();
    }

    private void Run()
    {
        while (!_stopping)
        {
            try
            {
                long wakeAt;
                int wakeRequests;
                _runLock.Enter();
                Volatile.Write(ref _running, 1);
                try
                {
                    DrainQueue();
                    var now = _server.Clock.NowMs;
                    if (now >= _nextCronMs) Cron(now);
                    // Sleep wakes at the earliest block deadline, which may come before the next cron tick.
                    else if (_server.Blocking.BlockedCount > 0 && now >= _server.Blocking.NextDeadline()) TimeoutBlockedClients(now);
                    Observer?.OnRunEnd(); // what the cron and the timeouts wrote; whatever it queues is drained next turn
                    wakeAt = Math.Min(_nextCronMs, _server.Blocking.NextDeadline());
                    Volatile.Write(ref _plannedWakeMs, wakeAt);
                    wakeRequests = Volatile.Read(ref _wakeRequests);
                }
                finally
                {
                    Volatile.Write(ref _running, 0);
                    _runLock.Exit();
                }
                Sleep(wakeAt, wakeRequests);
            }
            catch (Exception e)
            {
                _log.LogError(e, "Dispatcher loop error");
            }
        }
    }

    /// <summary>Runs everything queued (under the run lock), then ends the run (the AOF write, deferred completions).</summary>
    private void DrainQueue()
    {
        do
        {
            while (_queue.TryDequeue(out var work))
            {
                if (work is ClientSession client) RunBatch(client);
                else ((Action)work)();
                AfterWork();
            }
            if (t_inTurn)
            {
                t_turnRunEndDue = true; // the event loop ends this run with its turn
                return;
            }
            // Batches completed here may have posted their next ones.
            Observer?.OnRunEnd();
        }
        while (!_queue.IsEmpty);
    }

    /// <summary>What follows every batch: clients blocked on keys that became ready, clients released meanwhile.</summary>
    private void AfterWork()
    {
        if (_server.Blocking.HasReadyKeys) ServeReadyClients();
        if (_server.PendingResumes.Count > 0) ResumeReleasedClients();
    }

    /// <summary>Sleeps until <paramref name="until"/> (computed under the run lock) or a wake-up.</summary>
    private void Sleep(long until, int wakeRequests)
    {
        _wake.Reset();
        Interlocked.Exchange(ref _sleeping, 1);
        if (!_queue.IsEmpty || _stopping || Volatile.Read(ref _wakeRequests) != wakeRequests)
        {
            Volatile.Write(ref _sleeping, 0);
            return;
        }
        var now = _server.Clock.NowMs;
        var wait = (int)Math.Clamp(until - now, 0, 1000);
        if (wait > 0) _wake.Wait(wait);
        Volatile.Write(ref _sleeping, 0);
    }

    /// <summary>Redis's serverCron, reduced to what we need: active expiry, blocked client timeouts, client limits.</summary>
    private void Cron(long now)
    {
        var hz = Math.Max(1, _server.Options.Hz);
        _nextCronMs = now + 1000 / hz;
        foreach (var db in _server.Keyspace.Databases)
        {
            if (db.ExpiresCount > 0) db.ActiveExpireCycle(200);
        }
        TimeoutBlockedClients(now);
        _server.Limits.Cron(now);
        Observer?.OnCron(now);
    }

    private void TimeoutBlockedClients(long now)
    {
        if (_server.Blocking.BlockedCount == 0) return;
        _scratchClients.Clear();
        _server.Blocking.TimedOut(now, _scratchClients);
        foreach (var client in _scratchClients)
        {
            var state = client.Blocked!;
            _server.Blocking.Unblock(client);
            lock (client.ReplyLock)
            {
                if (state.OnTimeout is null) client.Reply.NullArray();
                else state.OnTimeout(client.Reply);
                client.NextRequest++;
                ContinueBatch(client);
            }
        }
        _scratchClients.Clear();
        _server.Blocking.MarkRechecksDue(now);
        if (_server.Blocking.HasReadyKeys) ServeReadyClients();
    }

    private void ResumeReleasedClients()
    {
        var released = _server.PendingResumes.ToArray();
        _server.PendingResumes.Clear();
        foreach (var client in released) ResumeAfterUnblock(client);
    }

    /// <summary>Ends a blocked client's wait: CLIENT UNBLOCK, or a reply written by the caller.</summary>
    public void ResumeAfterUnblock(ClientSession client)
    {
        bool deferred;
        lock (client.ReplyLock)
        {
            client.NextRequest++;
            deferred = ContinueBatch(client);
        }
        // A batch held by the AOF (until the end of the run, or its fsync) is flushed by its connection when it completes.
        if (!deferred) client.Transport.RequestFlush();
    }

    private void ServeReadyClients()
    {
        // Serving one client may make keys ready again (XREADGROUP changes nothing, but a command after it in the batch may).
        for (var round = 0; round < 16 && _server.Blocking.HasReadyKeys; round++)
        {
            var ready = _server.Blocking.TakeReadyClients(new List<ClientSession>());
            foreach (var client in ready)
            {
                var state = client.Blocked;
                if (state is null || client.IsClosed) continue;
                var deferred = false;
                lock (client.ReplyLock)
                {
                    var before = client.Reply.Length;
                    if (state.UnblockError is { } error)
                    {
                        _server.Blocking.Unblock(client);
                        client.Reply.Error(error);
                    }
                    else
                    {
                        _ctx.IsRetry = true;
                        try
                        {
                            _ctx.Bind(client, state.Args, 0, state.Args.Length);
                            Execute(client, state.Command);
                        }
                        finally
                        {
                            _ctx.IsRetry = false;
                        }
                        if (client.Reply.Length == before) continue; // still nothing for it: stays parked in place
                        _server.Blocking.Unblock(client);
                    }
                    client.NextRequest++;
                    deferred = ContinueBatch(client);
                }
                if (!deferred) client.Transport.RequestFlush();
            }
        }
    }

    /// <summary>Runs a posted batch on the calling thread (benchmarks and tests that own the server, no dispatcher thread).</summary>
    internal void RunBatchInline(ClientSession client)
    {
        RunBatch(client);
        Observer?.OnRunEnd();
    }

    private void RunBatch(ClientSession client)
    {
        if (client.IsClosed)
        {
            client.CompleteBatch();
            return;
        }
        lock (client.ReplyLock)
        {
            ContinueBatch(client);
        }
    }

    /// <summary>
    /// Runs the client's requests from <see cref="ClientSession.NextRequest"/> until one blocks or all are done.
    /// Returns true when the AOF holds the batch's completion until the end of the run (always: until its fsync).
    /// </summary>
    private bool ContinueBatch(ClientSession client)
    {
        var requests = client.Requests;
        // Redis stamps a client's last interaction per read; per batch here, one clock reading for all its commands.
        if (client.NextRequest < requests.Count) client.LastInteractionMs = _server.Clock.NowMs;
        _timingRuns = true;
        try
        {
            while (client.NextRequest < requests.Count)
            {
                if (client.CloseRequested) break;
                var (start, count) = requests[client.NextRequest];
                _ctx.Bind(client, requests.Arguments, start, count);
                ProcessCommand(client);
                if (client.Blocked is not null)
                {
                    client.Park(); // the batch stays open until the client is served or times out
                    return false;
                }
                client.NextRequest++;
            }
        }
        finally
        {
            EndTiming();
            _timingRuns = false;
        }
        if (client.ProtocolErrorText is { } text && !client.CloseRequested)
        {
            client.Reply.Error(text);
            _server.Stats.TotalErrorReplies++;
            client.CloseRequested = true;
            client.Transport.CloseAfterReply();
        }
        // The AOF completes the batch at the end of the run, once its writes are in the file (always: fsynced).
        if (Observer is { } observer && observer.DeferCompletion(client)) return true;
        client.CompleteBatch();
        return false;
    }

    /// <summary>Redis's processCommand: lookup, arity, auth, MULTI queueing, pub/sub context, then the handler.</summary>
    private void ProcessCommand(ClientSession client)
    {
        var ctx = _ctx;
        var reply = client.Reply;
        var command = _server.Commands.Find(ctx.Arg(0));
        if (command is not null && command.Subcommands is not null && ctx.ArgCount >= 2)
        {
            var sub = CommandTable.FindSubcommand(command, ctx.Arg(1));
            if (sub is null)
            {
                if (client.InMulti) client.MultiDirty = true;
                Reject(client, Errors.UnknownSubcommand(ctx.ArgString(1), command.Name), command);
                return;
            }
            command = sub;
        }
        if (command is null)
        {
            if (client.InMulti) client.MultiDirty = true;
            Reject(client, CommandTable.UnknownCommandError(ctx), null);
            return;
        }
        ctx.Command = command;
        client.LastCommand = command.FullName;

        if ((command.Arity > 0 && command.Arity != ctx.ArgCount) || ctx.ArgCount < -command.Arity)
        {
            if (client.InMulti) client.MultiDirty = true;
            Reject(client, Errors.WrongArity(command.FullName), command);
            return;
        }

        if (!client.Authenticated && _server.Options.RequirePass is not null && !command.Has(CommandFlags.NoAuth))
        {
            if (client.InMulti) client.MultiDirty = true;
            Reject(client, Errors.NoAuth, command);
            return;
        }

        // MISCONF after an AOF write error: refused before queueing, as Redis's processCommand does.
        if (Observer?.RejectCommand(command) is { } refused)
        {
            if (client.InMulti) client.MultiDirty = true;
            Reject(client, refused, command);
            return;
        }

        if (client.InMulti && !IsTransactionControl(command))
        {
            if (command.Has(CommandFlags.NoMulti))
            {
                client.MultiDirty = true;
                Reject(client, $"ERR Command not allowed inside a transaction", command);
                return;
            }
            var args = new ReadOnlyMemory<byte>[ctx.ArgCount];
            for (var i = 0; i < args.Length; i++) args[i] = ctx.Arg(i).ToArray();
            (client.MultiQueue ??= []).Add(new QueuedCommand(command, args));
            reply.Queued();
            return;
        }

        if (client.SubscriptionCount > 0 && reply.Protocol == 2 && !IsAllowedWhileSubscribed(command))
        {
            Reject(client, $"ERR Can't execute '{command.FullName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", command);
            return;
        }

        Execute(client, command);
    }

    /// <summary>
    /// Runs one request as if a client had sent it (AOF loading replays through here): lookup, checks, MULTI
    /// queueing and the handler. Only on the dispatcher thread, or before it starts.
    /// </summary>
    public void ExecuteRequest(ClientSession client, ReadOnlyMemory<byte>[] args)
    {
        _ctx.Bind(client, args, 0, args.Length);
        ProcessCommand(client);
    }

    private static bool IsTransactionControl(CommandDef c)
        => c.Name is "exec" or "discard" or "multi" or "watch" or "quit" or "reset";

    private static bool IsAllowedWhileSubscribed(CommandDef c)
        => c.Parent is null && c.Name is "subscribe" or "unsubscribe" or "psubscribe" or "punsubscribe" or "ssubscribe" or "sunsubscribe" or "ping" or "quit" or "reset";

    private void Reject(ClientSession client, string error, CommandDef? command)
    {
        if (command is { Name: "exec", Parent: null })
        {
            // Redis's execCommandAbort: a rejected EXEC discards the transaction and says why.
            error = Errors.ExecAbortBecause(error);
            Commands.TransactionCommands.DiscardTransaction(_server, client);
        }
        client.Reply.Error(error);
        _server.Stats.TotalErrorReplies++;
        CountError(error);
        if (command is not null) command.RejectedCalls++;
    }

    // INFO commandstats usec. Redis reads a clock before and after each call; a reading costs about as much as a
    // GET (vdso clock_gettime on these VMs). Here consecutive calls of the same data command (write, read-only or
    // fast) in a batch or an EXEC form a run timed by one reading at its start and one at its end, the time counting
    // towards that command; any other command (INFO, EXEC, CONFIG ...) is timed alone, so INFO sees every earlier
    // call's time. What runs between handlers (lookup, checks, propagation) counts towards the run it falls in.

    /// <summary>The command whose calls since <see cref="_timedSince"/> are not yet in its statistics, or null.</summary>
    private CommandDef? _timedCommand;
    private long _timedSince;

    /// <summary>True while a batch's (or EXEC's) commands run one after another: a run of one command may continue.</summary>
    private bool _timingRuns;

    /// <summary>Before <paramref name="command"/>'s handler: continues its run, or ends the previous run and starts one.</summary>
    private void StartTiming(CommandDef command)
    {
        if (command == _timedCommand) return;
        var now = Stopwatch.GetTimestamp();
        if (_timedCommand is not null) _timedCommand.Microseconds += Microseconds(_timedSince, now);
        _timedCommand = command;
        _timedSince = now;
    }

    /// <summary>Adds the time of the run in progress to its command's statistics.</summary>
    private void EndTiming()
    {
        if (_timedCommand is null) return;
        _timedCommand.Microseconds += Microseconds(_timedSince, Stopwatch.GetTimestamp());
        _timedCommand = null;
    }

    private static long Microseconds(long start, long end) => Stopwatch.GetElapsedTime(start, end).Ticks / TimeSpan.TicksPerMicrosecond;

    private const CommandFlags TimedInRuns = CommandFlags.Write | CommandFlags.ReadOnly | CommandFlags.Fast;

    /// <summary>Runs a handler with the context already bound; counts statistics; turns a handler bug into an error reply.</summary>
    internal void Execute(ClientSession client, CommandDef command)
    {
        var ctx = _ctx;
        ctx.Command = command;
        var reply = client.Reply;
        var lengthBefore = reply.Length;
        var errorsBefore = reply.ErrorCount;
        StartTiming(command);
        var pubSub = _server.PubSub;
        var outer = pubSub.Executing; // EXEC's client, around a queued command
        pubSub.Executing = client;
        try
        {
            command.Handler(ctx);
        }
        catch (Exception e)
        {
            _log.LogError(e, "Command {Command} failed", command.FullName);
            reply.Truncate(lengthBefore);
            reply.Error("ERR " + e.Message);
        }
        finally
        {
            pubSub.Executing = outer;
        }
        var reparked = ctx.IsRetry && reply.Length == lengthBefore;
        // MONITOR shows a command once, when it first runs (not an unblocked command's re-run), never the AOF's.
        if (_server.Monitors.Count > 0 && !ctx.IsRetry && !_server.Keyspace.Loading)
            _server.Monitors.Feed(client, command, ctx.Args, DateTime.UtcNow.Subtract(DateTime.UnixEpoch).Ticks / 10);
        // Keyspace events for the client's own subscriptions follow the reply (of EXEC as a whole, not inside it).
        if (pubSub.HasPushesForCaller && !ctx.InExec) pubSub.DeliverPushesForCaller();
        if (reparked)
        {
            // Re-parked: not a call, and its time is not counted (retries run outside batches: nothing else is timed).
            _timedCommand = null;
            return;
        }
        if (!_timingRuns || (command.Flags & TimedInRuns) == 0) EndTiming();
        command.Calls++;
        client.CommandsProcessed++;
        _server.Stats.TotalCommandsProcessed++;
        if (reply.ErrorCount != errorsBefore)
        {
            command.FailedCalls++;
            _server.Stats.TotalErrorReplies += reply.ErrorCount - errorsBefore;
            CountError(reply.LastErrorCode);
        }
        Observer?.OnExecuted(ctx);
    }

    private void CountError(string errorOrCode)
    {
        var space = errorOrCode.IndexOf(' ', StringComparison.Ordinal);
        var code = space < 0 ? errorOrCode : errorOrCode[..space];
        var codes = _server.Stats.ErrorCodes;
        codes[code] = codes.GetValueOrDefault(code) + 1;
    }

    /// <summary>Runs the queued commands of MULTI for EXEC (the caller wrote the array header).</summary>
    internal void RunQueued(ClientSession client, List<QueuedCommand> queued)
    {
        _ctx.InExec = true;
        // EXEC is timed alone, its time taking in the queued commands' (as in Redis); they form runs of their own.
        var (outerCommand, outerSince, outerRuns) = (_timedCommand, _timedSince, _timingRuns);
        _timedCommand = null;
        _timingRuns = true;
        try
        {
            foreach (var q in queued)
            {
                _ctx.Bind(client, q.Args, 0, q.Args.Length);
                Execute(client, q.Command);
            }
        }
        finally
        {
            EndTiming();
            (_timedCommand, _timedSince, _timingRuns) = (outerCommand, outerSince, outerRuns);
            _ctx.InExec = false;
        }
    }
}

/// <summary>Observes commands as they run (AOF propagation, statistics).</summary>
public interface ICommandObserver
{
    void OnExecuted(CommandContext ctx);

    void OnCron(long nowMs);

    /// <summary>An error to refuse the command with (MISCONF after an AOF write error), or null to run it.</summary>
    string? RejectCommand(CommandDef command) => null;

    /// <summary>True when the observer takes over completing the client's batch (it calls <see cref="ClientSession.CompleteBatch"/> later).</summary>
    bool DeferCompletion(ClientSession client) => false;

    /// <summary>End of a run under the run lock, before the lock is released (Redis's beforeSleep): the AOF write.</summary>
    void OnRunEnd() { }
}
