using System.Buffers;
using Microsoft.Extensions.Logging;
using StreamServer.Execution;

namespace StreamServer.Persistence;

public enum AppendFsync
{
    Always,
    EverySec,
    No,
}

/// <summary>
/// The AOF buffer, the incremental file, and the fsync thread (Redis's aof_buf, flushAppendOnlyFile and the bio fsync
/// job; docs/design-notes.md, note 13).
/// <list type="bullet">
/// <item>Commands are appended to a buffer by the thread holding the dispatcher's run lock; nothing else is woken.</item>
/// <item>At the end of each run, before the run's batches complete, that thread writes the whole buffer to the
/// incremental file with one write() (<see cref="WriteBuffered"/>): an acknowledged write is at least in the OS page
/// cache and survives a kill -9 of the process, whatever the policy.</item>
/// <item>The fsync thread only fsyncs: <c>always</c> as soon as something written is not yet synced (one fsync covers
/// every client written before it: group commit), then hands the batches it covers back to the run-lock holder
/// (<see cref="WaitersCovered"/>) so it can start the next fsync while their replies are sent; <c>everysec</c> once a
/// second; <c>no</c> never (the OS decides), except for WAITAOF and shutdown. It also closes files switched away from.</item>
/// </list>
/// Offsets count bytes of the whole AOF stream since start-up, across file switches, so a client's last write
/// offset compares with <see cref="SyncedOffset"/> whatever file it went to.
/// A failed write keeps its bytes in the buffer (the file is cut back to its last good length first) and is retried
/// from the cron (<see cref="RetryAfterError"/>); meanwhile <see cref="LastError"/> makes the dispatcher refuse
/// writes with MISCONF.
/// </summary>
public sealed class AofWriter : IDisposable
{
    private readonly ILogger _log;
    private readonly string _appendDir;
    private readonly Thread _thread;
    private readonly List<ClientSession> _waiters = [];
    private readonly Queue<Action> _actions = new();
    private readonly List<FileStream> _retired = [];
    private ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private FileStream _file;
    private long _appended;
    private long _written;
    private long _synced;
    private long _lastFsyncMs;
    private long _lastRetryMs;
    private bool _fsyncRequested;
    private bool _fsyncThreadWaiting;
    private bool _fsyncing; // under Lock: the fsync thread is between taking its work and announcing what it covered
    private bool _stopping;
    private bool _cutBackPending;
    private long _incrSize;
    private volatile string? _writeError;
    private volatile string? _fsyncError;

    public AofWriter(string appendDir, string incrFileName, AppendFsync policy, ILogger log, long startOffset = 0)
    {
        _appended = _written = _synced = startOffset;
        _appendDir = appendDir;
        _log = log;
        _policy = policy;
        IncrFileName = incrFileName;
        _file = OpenForAppend(incrFileName);
        _incrSize = _file.Length;
        _lastFsyncMs = Environment.TickCount64;
        _thread = new Thread(Run) { IsBackground = true, Name = "aof-fsync" };
    }

    /// <summary>Guards what the run-lock holder and the fsync thread share: the waiters, the file switch, the requests.</summary>
    private object Lock { get; } = new();

    private volatile AppendFsync _policy;

    /// <summary>Changed by CONFIG SET appendfsync (under the run lock), read by the fsync thread.</summary>
    public AppendFsync Policy
    {
        get => _policy;
        set
        {
            _policy = value;
            RequestFsync(); // clients waiting under always are released by the next fsync, whatever the new policy
        }
    }

    public string IncrFileName { get; private set; }

    /// <summary>Bytes appended to the buffer so far.</summary>
    public long AppendedOffset => Volatile.Read(ref _appended);

    /// <summary>Bytes written to the file (at least in the page cache).</summary>
    public long WrittenOffset => Volatile.Read(ref _written);

    /// <summary>Bytes known to be on disk (fsynced).</summary>
    public long SyncedOffset => Volatile.Read(ref _synced);

    /// <summary>The last write or fsync error (strerror-like text), or null once writing works.</summary>
    public string? LastError => _writeError ?? _fsyncError;

    /// <summary>everysec fsyncs that started more than two seconds after the previous one (INFO aof_delayed_fsync).</summary>
    public long DelayedFsyncs;

    /// <summary>Size of the current incremental file as written.</summary>
    public long IncrSize => Volatile.Read(ref _incrSize);

    /// <summary>Bytes waiting in the buffer (INFO aof_buffer_length).</summary>
    public long BufferLength => AppendedOffset - WrittenOffset;

    public void Start() => _thread.Start();

    /// <summary>Appends to the buffer: <paramref name="write"/> writes RESP into it. Run-lock holder.</summary>
    public long Append<TState>(TState state, Action<IBufferWriter<byte>, TState> write)
    {
        var before = _buffer.WrittenCount;
        write(_buffer, state);
        var end = _appended + _buffer.WrittenCount - before;
        Volatile.Write(ref _appended, end);
        return end;
    }

    /// <summary>
    /// End of a run, before its batches complete: writes the buffer to the file with one write(). Does nothing while
    /// a write error stands (the cron retries). For <c>always</c>, wakes the fsync thread if it sleeps. Run-lock holder.
    /// </summary>
    public void WriteBuffered()
    {
        if (_buffer.WrittenCount == 0 || _writeError is not null) return;
        if (Policy == AppendFsync.Always)
        {
            // While an fsync runs, the bytes wait here: the run that completes the batches it covers (posted after it,
            // because clients are waiting) writes them all with one write(), and the next fsync covers them together,
            // as Redis's one write per event-loop turn does. Only when someone waits, so that the post is certain.
            lock (Lock)
            {
                if (_fsyncing && _waiters.Count > 0) return;
            }
        }
        TryWriteBuffer();
    }

    /// <summary>Cron: after a write error, writes the kept bytes again, at most once a second. Run-lock holder.</summary>
    public void RetryAfterError(long nowMs)
    {
        if (_writeError is null || nowMs - _lastRetryMs < 1000) return;
        _lastRetryMs = nowMs;
        if (TryWriteBuffer()) RequestFsync(); // clients and WAITAOF waited for these bytes
    }

    private bool TryWriteBuffer()
    {
        try
        {
            if (_cutBackPending)
            {
                _file.SetLength(_incrSize);
                _cutBackPending = false;
            }
            if (_buffer.WrittenCount > 0) WriteToFile(_buffer.WrittenSpan);
            _buffer.ResetWrittenCount();
            if (_buffer.Capacity > 4 * 1024 * 1024) _buffer = new ArrayBufferWriter<byte>(64 * 1024);
            Volatile.Write(ref _written, _appended);
            if (_writeError is not null)
            {
                _log.LogWarning("AOF write error is solved, the AOF file can be written again");
                _writeError = null;
            }
            if (Policy == AppendFsync.Always) Signal();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            if (_writeError is null) _log.LogWarning("Error writing to the AOF file: {Error}", e.Message);
            _writeError = e.Message;
            return false;
        }
    }

    /// <summary>Tests: while true, every write fails as a full disk would.</summary>
    internal volatile bool FailWritesForTests;

    private void WriteToFile(ReadOnlySpan<byte> bytes)
    {
        if (FailWritesForTests) throw new IOException("No space left on device");
        try
        {
            _file.Write(bytes);
            Volatile.Write(ref _incrSize, _incrSize + bytes.Length);
        }
        catch (IOException)
        {
            // Redis cuts a partial write back so the file never holds half a command; if that fails too, the retry does it first.
            try { _file.SetLength(_incrSize); }
            catch (IOException) { _cutBackPending = true; }
            throw;
        }
    }

    /// <summary>
    /// Completes each client's batch once <see cref="SyncedOffset"/> reaches its <see cref="ClientSession.ReplyAfterOffset"/>
    /// (appendfsync always): at once if it does already, else after the fsync that covers it (<see cref="WaitersCovered"/>).
    /// Run-lock holder, after <see cref="WriteBuffered"/>.
    /// </summary>
    public void CompleteAfterFsync(List<ClientSession> clients)
    {
        var synced = SyncedOffset;
        var anyWaits = false;
        foreach (var c in clients) anyWaits |= c.ReplyAfterOffset > synced && !c.IsClosed;
        if (anyWaits)
        {
            lock (Lock)
            {
                // An fsync that ended meanwhile has already looked for its waiters: what it covers completes here.
                synced = SyncedOffset;
                foreach (var c in clients)
                {
                    if (c.ReplyAfterOffset > synced && !c.IsClosed) _waiters.Add(c);
                }
                if (_fsyncThreadWaiting) Monitor.Pulse(Lock);
            }
        }
        foreach (var c in clients)
        {
            if (c.ReplyAfterOffset <= synced || c.IsClosed) c.CompleteBatch();
        }
    }

    /// <summary>Tests: runs on the fsync thread before each fsync, to hold it while they look at what waits for it.</summary>
    internal Action? BeforeFsync { get; set; }

    /// <summary>Called on the fsync thread after each fsync, and after an fsync request that found nothing new to sync.</summary>
    public Action? Synced { get; init; }

    /// <summary>
    /// Called on the fsync thread when an fsync covers waiting clients: the owner has the run-lock holder call
    /// <see cref="CompleteCoveredWaiters"/>, so replies are sent while this thread starts the next fsync.
    /// </summary>
    public Action? WaitersCovered { get; init; }

    /// <summary>Ask for an fsync now, whatever the policy (WAITAOF, shutdown).</summary>
    public void RequestFsync()
    {
        lock (Lock)
        {
            _fsyncRequested = true;
            if (_fsyncThreadWaiting) Monitor.Pulse(Lock);
        }
    }

    private void Signal()
    {
        lock (Lock)
        {
            if (_fsyncThreadWaiting) Monitor.Pulse(Lock);
        }
    }

    /// <summary>Runs <paramref name="action"/> on the fsync thread (slow file work that must not stall the run lock: deleting obsolete files).</summary>
    public void Enqueue(Action action)
    {
        lock (Lock)
        {
            _actions.Enqueue(action);
            if (_fsyncThreadWaiting) Monitor.Pulse(Lock);
        }
    }

    /// <summary>
    /// Switches to a new incremental file (Redis's openNewIncrAofForAppend, on the run-lock holder as on Redis's main
    /// thread): the buffer is written to the current file, <paramref name="manifest"/> (which lists the new file) is
    /// persisted, and every later write goes to <paramref name="newIncrName"/>. The old file is fsynced and closed on the
    /// fsync thread. Throws when the buffer cannot be written or the new file opened: the switch does not happen.
    /// </summary>
    public void Rotate(string newIncrName, AofManifest? manifest)
    {
        if (!TryWriteBuffer()) throw new IOException("AOF write error: " + _writeError);
        var next = OpenForAppend(newIncrName);
        try
        {
            if (manifest is not null) AofFiles.WriteManifest(_appendDir, manifest);
        }
        catch
        {
            next.Dispose();
            throw;
        }
        lock (Lock)
        {
            _retired.Add(_file);
            _file = next;
            if (_fsyncThreadWaiting) Monitor.Pulse(Lock);
        }
        IncrFileName = newIncrName;
        _cutBackPending = false;
        Volatile.Write(ref _incrSize, next.Length);
    }

    private FileStream OpenForAppend(string name)
        => new(Path.Combine(_appendDir, name), FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1);

    /// <summary>True when the fsync thread has something to do now; under <see cref="Lock"/>.</summary>
    private bool HasWork(long nowMs)
    {
        if (_stopping || _retired.Count > 0 || _actions.Count > 0) return true;
        if (_fsyncError is not null) return nowMs - _lastFsyncMs >= 1000; // retried once a second
        if (_fsyncRequested) return true;
        var unsynced = Volatile.Read(ref _written) > Volatile.Read(ref _synced);
        return Policy switch
        {
            AppendFsync.Always => unsynced,
            AppendFsync.EverySec => unsynced && nowMs - _lastFsyncMs >= 1000,
            _ => false,
        };
    }

    /// <summary>How long to sleep when there is nothing to do: until the next everysec fsync or error retry is due.</summary>
    private int SleepMs(long nowMs)
        => _fsyncError is not null || Policy == AppendFsync.EverySec && Volatile.Read(ref _written) > Volatile.Read(ref _synced)
            ? (int)Math.Clamp(1000 - (nowMs - _lastFsyncMs), 1, 1000)
            : 1000;

    private void Run()
    {
        // Batches still waiting at shutdown are completed here and resume their connections on this thread; their
        // next batches go to the dispatcher's queue rather than running on the fsync thread.
        Dispatcher.QueueOnlyOnThisThread();
        while (true)
        {
            long upTo;
            bool requested;
            bool retrying;
            bool stopping;
            FileStream file;
            List<FileStream>? retired = null;
            List<Action>? actions = null;
            lock (Lock)
            {
                var now = Environment.TickCount64;
                while (!HasWork(now))
                {
                    _fsyncThreadWaiting = true;
                    Monitor.Wait(Lock, SleepMs(now));
                    _fsyncThreadWaiting = false;
                    now = Environment.TickCount64;
                }
                upTo = Volatile.Read(ref _written);
                _fsyncing = true;
                retrying = _fsyncError is not null;
                requested = _fsyncRequested;
                _fsyncRequested = false;
                stopping = _stopping;
                file = _file;
                if (_retired.Count > 0)
                {
                    retired = [.. _retired];
                    _retired.Clear();
                }
                if (_actions.Count > 0)
                {
                    actions = [.. _actions];
                    _actions.Clear();
                }
            }

            var fsynced = false;
            try
            {
                // Bytes before a file switch are in the retired files: they are synced before the current one counts.
                if (retired is not null)
                {
                    foreach (var f in retired)
                    {
                        f.Flush(flushToDisk: true);
                        f.Dispose();
                    }
                }
                var startMs = Environment.TickCount64;
                if (upTo > Volatile.Read(ref _synced) && (requested || stopping || retrying || Policy != AppendFsync.No))
                {
                    if (Policy == AppendFsync.EverySec && startMs - _lastFsyncMs > 2000) Interlocked.Increment(ref DelayedFsyncs);
                    BeforeFsync?.Invoke();
                    file.Flush(flushToDisk: true);
                    Volatile.Write(ref _synced, upTo);
                    fsynced = true;
                }
                if (fsynced || requested) _lastFsyncMs = startMs;
                if (_fsyncError is not null)
                {
                    _log.LogWarning("AOF fsync error is solved");
                    _fsyncError = null;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                if (_fsyncError is null) _log.LogWarning("Error fsyncing the AOF file: {Error}", e.Message);
                _fsyncError = e.Message;
                _lastFsyncMs = Environment.TickCount64;
                if (retired is not null)
                {
                    lock (Lock) _retired.InsertRange(0, retired.Where(f => f.SafeFileHandle is { IsClosed: false }));
                }
                if (requested)
                {
                    lock (Lock) _fsyncRequested = true; // for after the retry
                }
            }
            if (fsynced || requested) Synced?.Invoke();

            var anyWaiter = EndFsyncAnyWaiter();
            if (stopping) CompleteCoveredWaiters(stopping: true);
            else if (anyWaiter) WaitersCovered?.Invoke();
            if (actions is not null)
            {
                foreach (var a in actions)
                {
                    try { a(); }
                    catch (Exception e) { _log.LogError(e, "AOF fsync thread task failed"); }
                }
            }
            if (stopping) break;
        }
    }

    /// <summary>
    /// After an fsync: true when clients wait, covered or not — the run that completes the covered ones also writes
    /// what <see cref="WriteBuffered"/> held back meanwhile (whose waiters the next fsync then covers).
    /// </summary>
    private bool EndFsyncAnyWaiter()
    {
        lock (Lock)
        {
            _fsyncing = false;
            return _waiters.Count > 0;
        }
    }

    /// <summary>Completes the batches of the clients whose writes the last fsync covers (after <see cref="WaitersCovered"/>). Run-lock holder.</summary>
    public void CompleteCoveredWaiters() => CompleteCoveredWaiters(stopping: false);

    private void CompleteCoveredWaiters(bool stopping)
    {
        List<ClientSession>? done = null;
        lock (Lock)
        {
            if (_waiters.Count == 0) return;
            var synced = SyncedOffset;
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                var c = _waiters[i];
                if (c.ReplyAfterOffset <= synced || stopping && LastError is null)
                {
                    (done ??= []).Add(c);
                    _waiters.RemoveAt(i);
                }
            }
        }
        if (done is null) return;
        for (var i = done.Count - 1; i >= 0; i--) done[i].CompleteBatch(); // in the order they were added
    }

    /// <summary>
    /// Writes and fsyncs everything appended, then stops the fsync thread (shutdown, appendonly no). Run-lock holder,
    /// or after the dispatcher stopped.
    /// </summary>
    public void Stop()
    {
        if (_buffer.WrittenCount > 0) TryWriteBuffer();
        lock (Lock)
        {
            _stopping = true;
            Monitor.PulseAll(Lock);
        }
        if (_thread.IsAlive) _thread.Join(TimeSpan.FromSeconds(30));
        try
        {
            _file.Flush(flushToDisk: true);
        }
        catch (IOException e)
        {
            _log.LogWarning("Final AOF fsync failed: {Error}", e.Message);
        }
        _file.Dispose();
        foreach (var f in _retired) f.Dispose();
        _retired.Clear();
        // Anyone still waiting would wait forever: release them (their connections are closing).
        foreach (var c in _waiters) c.CompleteBatch();
        _waiters.Clear();
    }

    public void Dispose() => Stop();
}
