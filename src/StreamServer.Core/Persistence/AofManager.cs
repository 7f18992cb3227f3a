using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using StreamServer.Commands;
using StreamServer.Execution;

namespace StreamServer.Persistence;

/// <summary>
/// The AOF's lifetime (Redis's aof.c outside the file format): load at start-up, the writer while appendonly is on,
/// rewrites (BGREWRITEAOF, automatic by growth, and the base written when appendonly is turned on), INFO figures,
/// and the dispatcher hooks: propagation after each command, MISCONF refusal after a write error, holding a batch's
/// completion until the end of the run wrote its commands to the file (and, with appendfsync always, until the fsync
/// that covers them; WAITAOF is a blocked client).
/// Everything here runs under the dispatcher's run lock unless it says otherwise.
/// </summary>
public sealed class AofManager : ICommandObserver
{
    private static readonly ConditionalWeakTable<ServerContext, AofManager> Managers = new();

    private readonly ServerContext _server;
    private readonly Dispatcher _dispatcher;
    private readonly ILogger _log;
    private AofManifest? _manifest;
    private AofWriter? _writer;
    private AofRewriter? _rewriter;
    private long _rewriteBaseSeq;
    private int _rewritesStarted;
    private long _rewriteFirstIncrSeq;
    private List<string> _obsoleteAfterRewrite = [];
    private bool _enabling;
    private long _rewriteBaseSize;
    private long _currentSize;
    private long _nextSizeCheckMs;
    private long _streamOffset;
    private readonly List<FsyncWaiter> _fsyncWaiters = [];
    private int _fsyncWaiterCount;
    private int _serveWaitersPosted;
    private int _completeWaitersPosted;
    private readonly Action _completeCoveredWaiters;
    private List<ClientSession> _deferred = [];
    private List<ClientSession> _completing = [];

    /// <summary>A client blocked in WAITAOF numlocal=1 (<paramref name="ServedByFsync"/>: numreplicas was 0, so the fsync ends its wait).</summary>
    private sealed record FsyncWaiter(ClientSession Client, BlockState State, bool ServedByFsync);

    public AofManager(ServerContext server, Dispatcher dispatcher)
    {
        _server = server;
        _dispatcher = dispatcher;
        _log = server.LoggerFactory.CreateLogger("StreamServer.Aof");
        Propagator = new Propagator(server);
        _completeCoveredWaiters = CompleteCoveredWaiters;
        Managers.AddOrUpdate(server, this);
        server.Config.AppendOnlyChanging = on => on ? Enable() : Disable();
        server.Config.AppendFsyncChanged = () =>
        {
            if (_writer is { } w) w.Policy = Policy;
        };
        dispatcher.Observer = this;
    }

    public static AofManager? For(ServerContext server) => Managers.TryGetValue(server, out var m) ? m : null;

    public Propagator Propagator { get; }

    public AofWriter? Writer => _writer;

    public bool RewriteInProgress => _rewriter is not null;

    /// <summary>Tests: the running rewrite.</summary>
    internal AofRewriter? RewriterForTests => _rewriter;

    /// <summary>Tests: slots per snapshot step of the next rewrites.</summary>
    internal int RewriteChunkSlotsForTests { get; set; } = AofRewriter.ChunkSlots;

    /// <summary>Tests: the next rewrites take a snapshot step only when the test calls <see cref="AofRewriter.StepForTests"/>.</summary>
    internal bool RewriteManualStepsForTests { get; set; }

    /// <summary>Tests: sets and hashes of at least this many entries are handed to the next rewrites as snapshots.</summary>
    internal int RewriteSnapshotFromEntriesForTests { get; set; } = AofRewriter.SnapshotFromEntries;

    private string AppendDir => Path.Combine(_server.Options.Dir, _server.Options.AppendDirName);

    private string Prefix => _server.Options.AppendFilename;

    private AppendFsync Policy => _server.Options.AppendFsync switch
    {
        "always" => AppendFsync.Always,
        "no" => AppendFsync.No,
        _ => AppendFsync.EverySec,
    };

    private PersistenceInfo Info => ServerCommands.Persistence(_server);

    // ───────────────────────────── start-up and shutdown ─────────────────────────────

    /// <summary>Before the dispatcher starts and before listening: loads the AOF (when appendonly is on) and opens the writer.</summary>
    public void LoadAndOpen()
    {
        if (!_server.Options.AppendOnly) return;
        Directory.CreateDirectory(AppendDir);
        // Leftovers of a rewrite or manifest switch that a crash interrupted.
        foreach (var temp in Directory.EnumerateFiles(AppendDir, "temp-*")) TryDeletePath(temp);
        var manifest = AofFiles.ReadManifest(AppendDir, Prefix);
        var oldStyle = Path.Combine(_server.Options.Dir, Prefix);
        if (manifest is null && File.Exists(oldStyle))
        {
            // Redis 7's aofUpgradePrepare: a Redis 6 appendonly.aof becomes the base of a multi-part AOF.
            File.Move(oldStyle, Path.Combine(AppendDir, Prefix));
            manifest = new AofManifest { Base = new AofFileInfo(Prefix, 1, 'b') };
            AofFiles.WriteManifest(AppendDir, manifest);
            _log.LogInformation("Successfully migrated an old-style AOF {File} into the AOF directory {Dir}", Prefix, AppendDir);
        }
        if (manifest is null)
        {
            // Redis 7: "Creating AOF base file appendonly.aof.1.base.aof on server start".
            manifest = new AofManifest { Base = new AofFileInfo(AofFiles.BaseName(Prefix, 1), 1, 'b') };
            manifest.Incremental.Add(new AofFileInfo(AofFiles.IncrName(Prefix, 1), 1, 'i'));
            using (var f = new FileStream(Path.Combine(AppendDir, manifest.Base.Name), FileMode.Create)) f.Flush(flushToDisk: true);
            using (var f = new FileStream(Path.Combine(AppendDir, manifest.Incremental[0].Name), FileMode.Create)) f.Flush(flushToDisk: true);
            AofFiles.WriteManifest(AppendDir, manifest);
            _log.LogInformation("Creating AOF base file {Base} and incr file {Incr} on server start", manifest.Base.Name, manifest.Incremental[0].Name);
        }
        else
        {
            Load(manifest);
            foreach (var h in manifest.History) TryDelete(h.Name);
            manifest.History.Clear();
            if (manifest.Incremental.Count == 0)
            {
                var seq = manifest.CurrentIncrSeq + 1;
                manifest.Incremental.Add(new AofFileInfo(AofFiles.IncrName(Prefix, seq), seq, 'i'));
                AofFiles.WriteManifest(AppendDir, manifest);
            }
        }
        _manifest = manifest;
        OpenWriter(manifest.Incremental[^1].Name);
        _rewriteBaseSize = _currentSize = ComputeSize();
        Info.AofBaseSize = _rewriteBaseSize;
    }

    private void Load(AofManifest manifest)
    {
        var info = Info;
        var loader = new AofLoader(_log, _server.Options.AofLoadTruncated);
        var fake = new ClientSession(-1, new LoaderTransport(), _server.Clock.NowMs) { Authenticated = true };
        info.Loading = true;
        info.LoadingStartUnixSeconds = _server.Clock.NowMs / 1000;
        Propagator.Loading = true;
        _server.Keyspace.Loading = true;
        var started = Environment.TickCount64;
        try
        {
            var result = loader.Load(AppendDir, manifest, args =>
            {
                if (_server.Commands.Find(args[0]) is null)
                {
                    throw new AofFormatException($"Unknown command '{System.Text.Encoding.UTF8.GetString(args[0])}' reading the append only file");
                }
                var argv = new ReadOnlyMemory<byte>[args.Count];
                for (var i = 0; i < argv.Length; i++) argv[i] = args[i];
                _dispatcher.ExecuteRequest(fake, argv);
                fake.Reply.Clear();
                info.LoadingLoadedBytes = loader.LoadedBytes;
                info.LoadingTotalBytes = loader.TotalBytes;
            });
            _log.LogInformation("DB loaded from append only file: {Seconds:F3} seconds ({Commands} commands, {Bytes} bytes)",
                (Environment.TickCount64 - started) / 1000.0, result.Commands, result.Bytes);
        }
        finally
        {
            info.Loading = false;
            Propagator.Loading = false;
            _server.Keyspace.Loading = false;
        }
    }

    private void OpenWriter(string incrName)
    {
        // Offsets continue from the previous writer's, so clients' last-write offsets stay comparable.
        _writer = new AofWriter(AppendDir, incrName, Policy, _log, _streamOffset) { Synced = OnSynced, WaitersCovered = OnWaitersCovered };
        Propagator.Writer = _writer;
        Propagator.ResetSelectedDb();
        _writer.Start();
        Info.AofEnabled = true;
    }

    /// <summary>Shutdown (after the dispatcher stopped): write and fsync what is buffered, close the files.</summary>
    public void Shutdown()
    {
        _rewriter?.Detach();
        _writer?.Stop();
        _writer = null;
        Propagator.Writer = null;
    }

    // ───────────────────────────── CONFIG SET appendonly ─────────────────────────────

    private string? Enable()
    {
        if (_writer is not null) return null;
        if (_rewriter is not null)
        {
            // A BGREWRITEAOF started while the AOF was off: its base would miss what the new incr file expects.
            _rewriter.Detach();
            _rewriter = null;
        }
        try
        {
            Directory.CreateDirectory(AppendDir);
            var onDisk = AofFiles.ReadManifest(AppendDir, Prefix);
            var seq = Math.Max(onDisk?.CurrentIncrSeq ?? 0, onDisk?.CurrentBaseSeq ?? 0) + 1;
            var incr = new AofFileInfo(AofFiles.IncrName(Prefix, seq), seq, 'i');
            // Until the base is written the manifest on disk stays as it was; the new incremental file joins it then.
            _manifest = new AofManifest { Base = onDisk?.Base };
            _manifest.Incremental.Add(incr);
            _obsoleteAfterRewrite = onDisk is null ? [] : [.. onDisk.LoadOrder.Concat(onDisk.History).Select(f => f.Name)];
            OpenWriter(incr.Name);
            _enabling = true;
            _rewriteFirstIncrSeq = seq;
            StartRewrite(rotate: false, baseSeq: Math.Max(onDisk?.CurrentBaseSeq ?? 0, seq - 1) + 1);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or AofFormatException)
        {
            _log.LogWarning("Redis needs to enable the AOF but can't open the append only file: {Error}", e.Message);
            return "Failed to enable AOF: " + e.Message;
        }
    }

    private string? Disable()
    {
        if (_writer is null) return null;
        if (_rewriter is not null)
        {
            _rewriter.Detach();
            _rewriter = null; // its thread finishes into a temp file that FinishRewrite ignores
            Info.AofRewriteInProgress = false;
        }
        _writer.Stop();
        _streamOffset = _writer.AppendedOffset;
        _writer = null;
        Propagator.Writer = null;
        Info.AofEnabled = false;
        _enabling = false;
        // Redis's processClientsWaitingReplicas: a WAITAOF with numlocal can no longer be satisfied.
        foreach (var waiter in TakeFsyncWaiters(_ => true))
        {
            lock (waiter.Client.ReplyLock) waiter.Client.Reply.Error(Errors.WaitAofAppendOnlyDisabled);
            _server.PendingResumes.Add(waiter.Client);
        }
        return null;
    }

    // ───────────────────────────── rewrite ─────────────────────────────

    /// <summary>INFO aof_rewrite_scheduled: the next cron starts a rewrite (BGREWRITEAOF inside EXEC).</summary>
    public void ScheduleRewrite()
    {
        var info = Info;
        info.AofRewriteScheduled = true;
        info.AofRewritesConsecutiveFailures = 0; // as Redis: a manual request is not held back by earlier failures
    }

    /// <summary>BGREWRITEAOF (no rewrite in progress): starts writing a new base now; false when the AOF cannot switch files.</summary>
    public bool BackgroundRewrite()
    {
        Debug.Assert(_rewriter is null);
        Directory.CreateDirectory(AppendDir);
        if (_writer is null)
        {
            // appendonly no: Redis 7 still writes a base (and a manifest listing only it).
            var onDisk = AofFiles.ReadManifest(AppendDir, Prefix);
            _manifest = new AofManifest { Base = onDisk?.Base };
            _obsoleteAfterRewrite = onDisk is null ? [] : [.. onDisk.LoadOrder.Concat(onDisk.History).Select(f => f.Name)];
            return StartRewrite(rotate: false, baseSeq: Math.Max(onDisk?.CurrentBaseSeq ?? 0, onDisk?.CurrentIncrSeq ?? 0) + 1);
        }
        return StartRewrite(rotate: true, baseSeq: _manifest!.CurrentBaseSeq + 1);
    }

    private bool StartRewrite(bool rotate, long baseSeq)
    {
        if (rotate)
        {
            var manifest = _manifest!;
            var seq = manifest.CurrentIncrSeq + 1;
            var next = manifest.Clone();
            next.Incremental.Add(new AofFileInfo(AofFiles.IncrName(Prefix, seq), seq, 'i'));
            try
            {
                _writer!.Rotate(next.Incremental[^1].Name, _enabling ? null : next);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Redis's rewriteAppendOnlyFileBackground when openNewIncrAofForAppend fails.
                _log.LogWarning("Can't open a new incremental AOF file for the rewrite: {Error}", e.Message);
                var failed = Info;
                failed.AofLastBgrewriteStatus = "err";
                failed.AofRewriteScheduled = false;
                return false;
            }
            Propagator.ResetSelectedDb();
            _manifest = next;
            _rewriteFirstIncrSeq = seq;
            _obsoleteAfterRewrite = [.. manifest.LoadOrder.Select(f => f.Name)];
        }
        _rewriteBaseSeq = baseSeq;
        // One name per rewrite (Redis's has the child's pid): an abandoned rewrite's thread may still be finishing its file.
        var temp = Path.Combine(AppendDir, $"temp-rewriteaof-bg-{Environment.ProcessId}-{++_rewritesStarted}.aof");
        var snapshotStarted = Stopwatch.GetTimestamp();
        var rewriter = new AofRewriter(_server, temp, _dispatcher.Post, RewriteChunkSlotsForTests, RewriteManualStepsForTests,
            RewriteSnapshotFromEntriesForTests);
        _rewriter = rewriter;
        var info = Info;
        info.AofRewriteInProgress = true;
        info.AofRewriteScheduled = false;
        _log.LogInformation("Background append only file rewriting started ({Keys} keys, snapshot started in {Ms:F1} ms, of which GC pauses {Gc:F0} ms; taken in steps of {Slots} slots)",
            rewriter.KeyCount, Stopwatch.GetElapsedTime(snapshotStarted).TotalMilliseconds, (GC.GetTotalPauseDuration() - rewriter.GcPauseAtStart).TotalMilliseconds,
            AofRewriter.ChunkSlots);
        var thread = new Thread(() =>
        {
            try
            {
                var size = rewriter.Write();
                _dispatcher.Post(() => FinishRewrite(rewriter, temp, size, null));
            }
            catch (Exception e)
            {
                _dispatcher.Post(() => FinishRewrite(rewriter, temp, 0, e));
            }
        })
        { IsBackground = true, Name = "aof-rewrite" };
        thread.Start();
        return true;
    }

    private void FinishRewrite(AofRewriter rewriter, string temp, long size, Exception? error)
    {
        rewriter.Detach();
        var info = Info;
        var seconds = (Environment.TickCount64 - rewriter.StartedMs) / 1000;
        if (!ReferenceEquals(rewriter, _rewriter))
        {
            TryDeletePath(temp); // abandoned (appendonly turned off meanwhile)
            return;
        }
        _rewriter = null;
        info.AofRewriteInProgress = false;
        info.AofLastRewriteTimeSec = seconds;
        if (error is not null)
        {
            _log.LogWarning("Background AOF rewrite failed: {Error}", error.Message);
            info.AofLastBgrewriteStatus = "err";
            info.AofRewritesConsecutiveFailures++;
            TryDeletePath(temp);
            return;
        }
        var baseName = AofFiles.BaseName(Prefix, _rewriteBaseSeq);
        var final = new AofManifest { Base = new AofFileInfo(baseName, _rewriteBaseSeq, 'b') };
        if (_writer is not null) final.Incremental.AddRange(_manifest!.Incremental.Where(i => i.Seq >= _rewriteFirstIncrSeq));
        var keep = final.LoadOrder.Select(f => f.Name).ToHashSet();
        var obsolete = _obsoleteAfterRewrite.Where(n => !keep.Contains(n)).Distinct().ToList();
        _manifest = final;
        _enabling = false;
        var dir = AppendDir;
        // As Redis's backgroundRewriteDoneHandler, the rename and the manifest are done here, under the run lock (a
        // later rotation writes its manifest from this one); deleting the obsolete files, which may be large, is not.
        try
        {
            File.Move(temp, Path.Combine(dir, baseName), overwrite: true);
            AofFiles.WriteManifest(dir, final);
            void DeleteObsolete()
            {
                foreach (var name in obsolete) TryDeletePath(Path.Combine(dir, name));
            }
            if (_writer is not null) _writer.Enqueue(DeleteObsolete);
            else DeleteObsolete();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.LogWarning("Could not switch to the rewritten AOF: {Error}", e.Message);
        }
        info.AofLastBgrewriteStatus = "ok";
        info.AofRewrites++;
        info.AofRewritesConsecutiveFailures = 0;
        info.AofBaseSize = size;
        _rewriteBaseSize = size;
        _log.LogInformation("Background AOF rewrite finished successfully ({Bytes} bytes base; snapshot in {Steps} steps on the dispatcher, "
            + "{StepMs:F0} ms in all, longest {LongestMs:F2} ms; {Captured} entries written before a change; GC pauses since the snapshot began {Ms:F0} ms, "
            + "collections gen0/1/2 {Collections})",
            size, rewriter.Steps, rewriter.StepTime.TotalMilliseconds, rewriter.LongestStep.TotalMilliseconds, rewriter.CapturedCount,
            (GC.GetTotalPauseDuration() - rewriter.GcPauseAtStart).TotalMilliseconds, rewriter.GcCountsSinceStart());
        ServeFsyncWaiters(); // turning appendonly on is complete: the local fsync counts from now on
    }

    private long ComputeSize()
    {
        if (_manifest is null) return 0;
        long total = 0;
        foreach (var f in _manifest.LoadOrder)
        {
            var path = Path.Combine(AppendDir, f.Name);
            if (File.Exists(path)) total += new FileInfo(path).Length;
        }
        return total;
    }

    private void TryDelete(string name) => TryDeletePath(Path.Combine(AppendDir, name));

    private void TryDeletePath(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { _log.LogWarning("Could not delete {Path}: {Error}", path, e.Message); }
    }

    // ───────────────────────────── dispatcher hooks ─────────────────────────────

    public void OnExecuted(CommandContext ctx) => Propagator.OnExecuted(ctx);

    public void OnCron(long nowMs)
    {
        var writer = _writer;
        var info = Info;
        if (info.AofRewriteScheduled && _rewriter is null) BackgroundRewrite();
        if (writer is null) return;
        writer.RetryAfterError(nowMs);
        info.AofBufferLength = writer.BufferLength;
        info.AofDelayedFsync = Interlocked.Read(ref writer.DelayedFsyncs);
        info.AofLastWriteStatus = writer.LastError is null ? "ok" : "err";
        info.AofCurrentRewriteTimeSec = _rewriter is null ? -1 : (Environment.TickCount64 - _rewriter.StartedMs) / 1000;
        if (nowMs >= _nextSizeCheckMs)
        {
            _nextSizeCheckMs = nowMs + 1000;
            _currentSize = ComputeSize();
        }
        info.AofCurrentSize = _currentSize;
        // Automatic rewrite by growth (auto-aof-rewrite-percentage / -min-size), as Redis's serverCron.
        var o = _server.Options;
        if (_rewriter is null && !_enabling && o.AutoAofRewritePercentage > 0 && _currentSize >= o.AutoAofRewriteMinSize)
        {
            var baseSize = Math.Max(1, _rewriteBaseSize);
            var growth = (_currentSize - baseSize) * 100 / baseSize;
            if (growth >= o.AutoAofRewritePercentage)
            {
                _log.LogInformation("Starting automatic rewriting of AOF on {Growth}% growth", growth);
                if (BackgroundRewrite()) _rewriteBaseSize = _currentSize; // until it finishes, do not trigger again on the same growth
            }
        }
    }

    public string? RejectCommand(CommandDef command)
    {
        if (_writer?.LastError is not { } error) return null;
        if (!command.Has(CommandFlags.Write) && command.FullName != "ping") return null;
        return "MISCONF Errors writing to the AOF file: " + error;
    }

    /// <summary>
    /// A batch that ran while appended writes were not yet in the file completes at the end of the run, after they
    /// are written (and, with appendfsync always, after the fsync that covers them): Redis sends replies after
    /// flushAppendOnlyFile. That holds for readers too — their replies may show another client's write — so
    /// the batch waits for everything appended when it ended, not only for its own writes.
    /// </summary>
    public bool DeferCompletion(ClientSession client)
    {
        var writer = _writer;
        if (writer is null || client.IsClosed) return false;
        var due = Math.Max(client.AofOffset, writer.AppendedOffset);
        if (due <= (writer.Policy == AppendFsync.Always ? writer.SyncedOffset : writer.WrittenOffset)) return false;
        client.ReplyAfterOffset = due;
        _deferred.Add(client);
        return true;
    }

    /// <summary>End of a run (Redis's beforeSleep): one write() of what the run appended, then its deferred batches complete.</summary>
    public void OnRunEnd()
    {
        var writer = _writer;
        writer?.WriteBuffered();
        if (_deferred.Count == 0) return;
        // Completing a batch resumes its connection inline; what it posts is queued, never run here. The swap only
        // keeps the list being completed apart from the one DeferCompletion fills.
        var completing = _deferred;
        (_deferred, _completing) = (_completing, _deferred);
        if (writer is { Policy: AppendFsync.Always }) writer.CompleteAfterFsync(completing);
        else
        {
            foreach (var c in completing) c.CompleteBatch();
        }
        completing.Clear();
    }

    // ───────────────────────────── WAITAOF ─────────────────────────────

    /// <summary>
    /// WAITAOF's numlocal: the local fsync covers the client's last write. Not while appendonly is being turned on
    /// (Redis's fsynced_reploff is -1 until that rewrite finishes).
    /// </summary>
    public bool LocalFsyncCovers(ClientSession client)
        => _writer is { } writer && !_enabling && client.AofOffset <= writer.SyncedOffset;

    /// <summary>Registers a client blocked in WAITAOF numlocal=1 and asks for an fsync now, whatever the policy.</summary>
    public void WaitForFsync(ClientSession client, BlockState state, bool servedByFsync)
    {
        _fsyncWaiters.Add(new FsyncWaiter(client, state, servedByFsync));
        Volatile.Write(ref _fsyncWaiterCount, _fsyncWaiters.Count);
        _writer!.RequestFsync();
    }

    /// <summary>
    /// Fsync thread, after an fsync that covers clients waiting under appendfsync always: their batches complete on the
    /// run-lock holder (a running thread drains it without a wake-up), not here, so the next fsync starts at once.
    /// </summary>
    private void OnWaitersCovered()
    {
        if (Interlocked.Exchange(ref _completeWaitersPosted, 1) == 0) _dispatcher.Post(_completeCoveredWaiters);
    }

    private void CompleteCoveredWaiters()
    {
        Volatile.Write(ref _completeWaitersPosted, 0);
        _writer?.CompleteCoveredWaiters();
    }

    /// <summary>Fsync thread, after each fsync (or fsync request): wakes the dispatcher when WAITAOF clients wait.</summary>
    private void OnSynced()
    {
        if (Volatile.Read(ref _fsyncWaiterCount) > 0 && Interlocked.Exchange(ref _serveWaitersPosted, 1) == 0) _dispatcher.Post(ServeFsyncWaiters);
    }

    /// <summary>Replies [1, 0] to each WAITAOF client whose last write the fsync now covers, and resumes its batch.</summary>
    private void ServeFsyncWaiters()
    {
        Volatile.Write(ref _serveWaitersPosted, 0);
        foreach (var waiter in TakeFsyncWaiters(w => w.ServedByFsync && LocalFsyncCovers(w.Client)))
        {
            lock (waiter.Client.ReplyLock) AofCommands.ReplyWaitAof(waiter.Client.Reply, 1);
            _dispatcher.ResumeAfterUnblock(waiter.Client);
        }
    }

    /// <summary>Removes and unblocks the waiters that <paramref name="take"/> selects; drops those no longer blocked here (timed out, unblocked, gone).</summary>
    private List<FsyncWaiter> TakeFsyncWaiters(Func<FsyncWaiter, bool> take)
    {
        var taken = new List<FsyncWaiter>();
        _fsyncWaiters.RemoveAll(w =>
        {
            if (!ReferenceEquals(w.Client.Blocked, w.State)) return true;
            if (!take(w)) return false;
            _server.Blocking.Unblock(w.Client);
            taken.Add(w);
            return true;
        });
        Volatile.Write(ref _fsyncWaiterCount, _fsyncWaiters.Count);
        return taken;
    }

    /// <summary>The client behind AOF loading: replies are dropped.</summary>
    private sealed class LoaderTransport : IClientTransport
    {
        public void RequestFlush() { }

        public void CloseAfterReply() { }

        public string RemoteEndPoint => "";

        public string LocalEndPoint => "";
    }
}
