using System.Buffers;
using System.Diagnostics;
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
/// The AOF writer thread. The dispatcher appends propagated commands to a buffer under <see cref="Lock"/> (cheap:
/// the writer holds the lock only to swap buffers); the writer writes what accumulated to the current incremental
/// file and fsyncs by policy:
/// <list type="bullet">
/// <item><c>always</c>: after every write, and only then completes the batches of clients waiting on it — one fsync
/// covers every client whose writes came before it (group commit).</item>
/// <item><c>everysec</c>: once a second on this thread; the dispatcher never waits.</item>
/// <item><c>no</c>: never (the OS decides); still on shutdown.</item>
/// </list>
/// Offsets count bytes of the whole AOF stream since start-up, across file switches, so a client's last write
/// offset compares with <see cref="SyncedOffset"/> whatever file it went to.
/// A failed write is retried every second with the same bytes (the file is cut back to its last good length first);
/// meanwhile <see cref="LastError"/> makes the dispatcher refuse writes with MISCONF.
/// </summary>
public sealed class AofWriter : IDisposable
{
    private readonly ILogger _log;
    private readonly string _appendDir;
    private readonly Thread _thread;
    private readonly List<ClientSession> _waiters = [];
    private readonly Queue<Action> _actions = new();
    private ArrayBufferWriter<byte> _pending = new(64 * 1024);
    private ArrayBufferWriter<byte> _writing = new(64 * 1024);
    private byte[]? _retry;
    private FileStream _file;
    private long _appended;
    private long _written;
    private long _synced;
    private long _lastFsyncMs;
    private bool _fsyncRequested;
    private bool _writerWaiting;
    private bool _stopping;
    private (string Name, AofManifest? Manifest)? _rotation;
    private byte[]? _beforeRotation;
    private long _incrSize;

    public AofWriter(string appendDir, string incrFileName, AppendFsync policy, ILogger log, long startOffset = 0)
    {
        _appended = _written = _synced = startOffset;
        _appendDir = appendDir;
        _log = log;
        Policy = policy;
        IncrFileName = incrFileName;
        _file = OpenForAppend(incrFileName);
        _incrSize = _file.Length;
        _lastFsyncMs = Environment.TickCount64;
        _thread = new Thread(Run) { IsBackground = true, Name = "aof-writer" };
    }

    /// <summary>Guards the append buffer; the dispatcher writes commands through <see cref="Append"/>.</summary>
    public object Lock { get; } = new();

    private volatile AppendFsync _policy;

    /// <summary>Changed by CONFIG SET appendfsync (dispatcher), read by the writer thread.</summary>
    public AppendFsync Policy
    {
        get => _policy;
        set => _policy = value;
    }

    public string IncrFileName { get; private set; }

    /// <summary>Bytes handed to the writer so far (dispatcher's view).</summary>
    public long AppendedOffset => Volatile.Read(ref _appended);

    public long WrittenOffset => Volatile.Read(ref _written);

    /// <summary>Bytes known to be on disk (fsynced).</summary>
    public long SyncedOffset => Volatile.Read(ref _synced);

    /// <summary>The last write or fsync error (strerror-like text), or null once writing works.</summary>
    public string? LastError { get; private set; }

    /// <summary>everysec fsyncs that started more than two seconds after the previous one (INFO aof_delayed_fsync).</summary>
    public long DelayedFsyncs;

    /// <summary>Size of the current incremental file as written.</summary>
    public long IncrSize => Volatile.Read(ref _incrSize);

    /// <summary>Bytes waiting in the buffer (INFO aof_buffer_length).</summary>
    public long BufferLength => AppendedOffset - WrittenOffset;

    public void Start() => _thread.Start();

    /// <summary>Appends under the lock: <paramref name="write"/> writes RESP into the buffer. Dispatcher thread.</summary>
    public long Append<TState>(TState state, Action<IBufferWriter<byte>, TState> write)
    {
        lock (Lock)
        {
            var before = _pending.WrittenCount;
            write(_pending, state);
            var end = _appended + _pending.WrittenCount - before;
            Volatile.Write(ref _appended, end);
            if (_writerWaiting) Monitor.Pulse(Lock);
            return end;
        }
    }

    /// <summary>Completes <paramref name="client"/>'s batch once <see cref="SyncedOffset"/> reaches its <see cref="ClientSession.AofOffset"/>.</summary>
    public void AddWaiter(ClientSession client)
    {
        lock (Lock)
        {
            _waiters.Add(client);
            if (_writerWaiting) Monitor.Pulse(Lock);
        }
    }

    /// <summary>Called on the writer thread after each fsync, and after an fsync request that found nothing new to sync.</summary>
    public Action? Synced { get; init; }

    /// <summary>Ask for an fsync now, whatever the policy (WAITAOF, shutdown).</summary>
    public void RequestFsync()
    {
        lock (Lock)
        {
            _fsyncRequested = true;
            if (_writerWaiting) Monitor.Pulse(Lock);
        }
    }

    /// <summary>Runs <paramref name="action"/> on the writer thread after what is buffered now has been written.</summary>
    public void Enqueue(Action action)
    {
        lock (Lock)
        {
            _actions.Enqueue(action);
            if (_writerWaiting) Monitor.Pulse(Lock);
        }
    }

    /// <summary>
    /// Switches to a new incremental file: everything appended so far goes to the current file, everything after to
    /// <paramref name="newIncrName"/>; <paramref name="manifest"/> (which lists it) is persisted before the first
    /// write to it. Dispatcher thread, at most one switch outstanding.
    /// </summary>
    public void Rotate(string newIncrName, AofManifest? manifest)
    {
        lock (Lock)
        {
            _beforeRotation = _pending.WrittenSpan.ToArray();
            _pending.ResetWrittenCount();
            _rotation = (newIncrName, manifest);
            if (_writerWaiting) Monitor.Pulse(Lock);
        }
    }

    private FileStream OpenForAppend(string name)
        => new(Path.Combine(_appendDir, name), FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1);

    private void Run()
    {
        // Batches completed here after their fsync resume their connections on this thread; their next batches go
        // to the dispatcher's queue rather than running on the writer thread.
        Execution.Dispatcher.QueueOnlyOnThisThread();
        while (true)
        {
            long upTo;
            bool fsyncNow;
            (string Name, AofManifest? Manifest)? rotation;
            byte[]? beforeRotation;
            List<Action>? actions = null;
            lock (Lock)
            {
                while (!_stopping && _pending.WrittenCount == 0 && _rotation is null && _actions.Count == 0 && _retry is null
                    && !_fsyncRequested && !(_written > _synced && Policy == AppendFsync.EverySec))
                {
                    _writerWaiting = true;
                    Monitor.Wait(Lock, 1000);
                    _writerWaiting = false;
                }
                if (Policy == AppendFsync.EverySec && _pending.WrittenCount == 0 && !_stopping && !_fsyncRequested && _rotation is null
                    && _actions.Count == 0 && _retry is null && Environment.TickCount64 - _lastFsyncMs < 1000)
                {
                    _writerWaiting = true;
                    Monitor.Wait(Lock, (int)Math.Max(1, 1000 - (Environment.TickCount64 - _lastFsyncMs)));
                    _writerWaiting = false;
                }
                (_pending, _writing) = (_writing, _pending);
                upTo = _appended;
                fsyncNow = _fsyncRequested || _stopping;
                _fsyncRequested = false;
                rotation = _rotation;
                beforeRotation = _beforeRotation;
                _rotation = null;
                _beforeRotation = null;
                if (_actions.Count > 0)
                {
                    actions = [.. _actions];
                    _actions.Clear();
                }
            }

            try
            {
                if (_retry is not null)
                {
                    WriteToFile(_retry);
                    _retry = null;
                }
                if (rotation is { } r)
                {
                    if (beforeRotation is { Length: > 0 }) WriteToFile(beforeRotation);
                    beforeRotation = null;
                    _file.Flush(flushToDisk: true);
                    _file.Dispose();
                    _file = OpenForAppend(r.Name);
                    IncrFileName = r.Name;
                    Volatile.Write(ref _incrSize, 0);
                    if (r.Manifest is not null) AofFiles.WriteManifest(_appendDir, r.Manifest);
                }
                if (_writing.WrittenCount > 0) WriteToFile(_writing.WrittenSpan);
                _writing.ResetWrittenCount();
                if (_writing.Capacity > 4 * 1024 * 1024) _writing = new ArrayBufferWriter<byte>(64 * 1024);
                Volatile.Write(ref _written, upTo);

                var now = Environment.TickCount64;
                var doFsync = fsyncNow || Policy == AppendFsync.Always
                    || (Policy == AppendFsync.EverySec && now - _lastFsyncMs >= 1000);
                if (doFsync && upTo > Volatile.Read(ref _synced))
                {
                    if (Policy == AppendFsync.EverySec && now - _lastFsyncMs > 2000) Interlocked.Increment(ref DelayedFsyncs);
                    _file.Flush(flushToDisk: true);
                    Volatile.Write(ref _synced, upTo);
                }
                if (doFsync)
                {
                    _lastFsyncMs = now;
                    Synced?.Invoke();
                }
                if (LastError is not null)
                {
                    _log.LogWarning("AOF write error is solved, the AOF file can be written again");
                    LastError = null;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                if (LastError is null) _log.LogWarning("Error writing to the AOF file: {Error}", e.Message);
                LastError = e.Message;
                // Keep what could not be written (and the rotation) for the retry, in order.
                var keep = new ArrayBufferWriter<byte>();
                if (_retry is not null) keep.Write(_retry);
                if (beforeRotation is not null) keep.Write(beforeRotation);
                if (rotation is null) keep.Write(_writing.WrittenSpan);
                _retry = keep.WrittenCount > 0 ? keep.WrittenSpan.ToArray() : null;
                if (rotation is not null)
                {
                    lock (Lock)
                    {
                        _rotation ??= rotation;
                        var after = _writing.WrittenSpan.ToArray();
                        _beforeRotation = [];
                        var merged = new ArrayBufferWriter<byte>(after.Length + _pending.WrittenCount + 1);
                        merged.Write(after);
                        merged.Write(_pending.WrittenSpan);
                        _pending = merged;
                    }
                }
                _writing.ResetWrittenCount();
                Thread.Sleep(1000);
            }

            CompleteWaiters();
            if (actions is not null)
            {
                foreach (var a in actions)
                {
                    try { a(); }
                    catch (Exception e) { _log.LogError(e, "AOF writer task failed"); }
                }
            }
            lock (Lock)
            {
                if (_stopping && _pending.WrittenCount == 0 && _actions.Count == 0 && _rotation is null && (_retry is null || LastError is not null))
                {
                    break;
                }
            }
        }
        CompleteWaiters();
    }

    /// <summary>Tests: while true, every write fails as a full disk would.</summary>
    internal volatile bool FailWritesForTests;

    private void WriteToFile(ReadOnlySpan<byte> bytes)
    {
        if (FailWritesForTests) throw new IOException("No space left on device");
        var good = _file.Length;
        try
        {
            _file.Write(bytes);
            _file.Flush(flushToDisk: false);
            Volatile.Write(ref _incrSize, _file.Length);
        }
        catch (IOException)
        {
            // Redis cuts a partial write back so the file never holds half a command.
            try { _file.SetLength(good); } catch (IOException) { }
            throw;
        }
    }

    private void CompleteWaiters()
    {
        List<ClientSession>? done = null;
        lock (Lock)
        {
            if (_waiters.Count == 0) return;
            var synced = SyncedOffset;
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                var c = _waiters[i];
                if (c.AofOffset <= synced || _stopping && LastError is null)
                {
                    (done ??= []).Add(c);
                    _waiters.RemoveAt(i);
                }
            }
        }
        if (done is null) return;
        foreach (var c in done) c.CompleteBatch();
    }

    /// <summary>Writes and fsyncs everything appended, then stops the thread (shutdown, appendonly no).</summary>
    public void Stop()
    {
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
        // Anyone still waiting would wait forever: release them (their connections are closing).
        foreach (var c in _waiters) c.CompleteBatch();
        _waiters.Clear();
    }

    public void Dispose() => Stop();
}
