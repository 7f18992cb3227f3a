using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using StreamServer.Execution;
using StreamServer.Storage;
using StreamServer.Storage.Streams;
using Stream = StreamServer.Storage.Streams.Stream;

namespace StreamServer.Persistence;

/// <summary>Writes one value as the commands that recreate it (strings as SET, sets as SADD, hashes as HSET).</summary>
public interface IRewriteEmitter
{
    /// <summary>Called on the rewrite thread; the value does not change meanwhile (see <see cref="AofRewriter"/>).</summary>
    void Emit(IBufferWriter<byte> output, byte[] key, RedisObject value);
}

/// <summary>Emitters per type; a family registers its own (streams: XADD … plus XSETID and XGROUP CREATE …).</summary>
public static class RewriteEmitters
{
    private static readonly ConcurrentDictionary<RedisType, IRewriteEmitter> Emitters = new()
    {
        [RedisType.String] = new StringEmitter(),
        [RedisType.Set] = new SetEmitter(),
        [RedisType.Hash] = new HashEmitter(),
        [RedisType.Stream] = StreamRewriteEmitter.Instance,
    };

    public static void Register(RedisType type, IRewriteEmitter emitter) => Emitters[type] = emitter;

    public static IRewriteEmitter? Find(RedisType type) => Emitters.GetValueOrDefault(type);

    /// <summary>Redis's AOF_REWRITE_ITEMS_PER_CMD: elements per emitted command.</summary>
    public const int ItemsPerCommand = 64;

    private sealed class StringEmitter : IRewriteEmitter
    {
        public void Emit(IBufferWriter<byte> output, byte[] key, RedisObject value)
        {
            Span<byte> scratch = stackalloc byte[24];
            RespEncoder.WriteArrayHeader(output, 3);
            RespEncoder.WriteBulk(output, "SET"u8);
            RespEncoder.WriteBulk(output, key);
            RespEncoder.WriteBulk(output, ((StringObject)value).GetBytes(scratch));
        }
    }

    private sealed class SetEmitter : IRewriteEmitter
    {
        public void Emit(IBufferWriter<byte> output, byte[] key, RedisObject value)
        {
            var members = ((SetObject)value).Members;
            var left = members.Count;
            var inCommand = 0;
            foreach (var m in members)
            {
                if (inCommand == 0)
                {
                    var n = Math.Min(left, ItemsPerCommand);
                    RespEncoder.WriteArrayHeader(output, 2 + n);
                    RespEncoder.WriteBulk(output, "SADD"u8);
                    RespEncoder.WriteBulk(output, key);
                    inCommand = n;
                }
                RespEncoder.WriteBulk(output, m);
                inCommand--;
                left--;
            }
        }
    }

    private sealed class HashEmitter : IRewriteEmitter
    {
        public void Emit(IBufferWriter<byte> output, byte[] key, RedisObject value)
        {
            var fields = ((HashObject)value).Fields;
            var left = fields.Count;
            var inCommand = 0;
            foreach (var (f, v) in fields)
            {
                if (inCommand == 0)
                {
                    var n = Math.Min(left, ItemsPerCommand);
                    RespEncoder.WriteArrayHeader(output, 2 + 2 * n);
                    RespEncoder.WriteBulk(output, "HSET"u8);
                    RespEncoder.WriteBulk(output, key);
                    inCommand = n;
                }
                RespEncoder.WriteBulk(output, f);
                RespEncoder.WriteBulk(output, v);
                inCommand--;
                left--;
            }
        }
    }
}

/// <summary>
/// Produces a new base file from a point-in-time snapshot while the dispatcher keeps running (no fork in .NET).
/// <para>Nothing is copied at the start (on the dispatcher, together with the switch to a new incremental file): the
/// rewriter notes each database's key table (<see cref="Database.SnapshotSource"/>) and how many slots it used, and
/// hooks the databases. The snapshot is then taken in chunks: the rewrite thread asks the dispatcher for the next
/// <see cref="ChunkSlots"/> slots (an action run between batches, under the run lock), which hands over each entry
/// there — key, value and absolute expiry — and moves its cursor on; the rewrite thread serializes one chunk while
/// the dispatcher takes the next. A key table entry keeps its slot until it is removed (<see cref="KeyTable"/>), so
/// the cursor survives inserts and removals; slots filled after the start hold only values stored meanwhile.</para>
/// <para>What keeps the snapshot exact is one rule, enforced in <see cref="Database"/>: before anything uses or
/// changes an entry — a lookup (the caller may change the value in place), replacement, removal, expiry, RENAME,
/// a new or removed expiry time — the database reports the entry while it is still as it was. An entry whose value
/// is not written yet (handed over or not) is then written first, by the dispatcher, with its expiry as it is then
/// (<see cref="OnAccess"/>) — or, for a stream or a large set or hash, a snapshot of it is taken instead
/// (<see cref="StreamSnapshot"/>, <see cref="CollectionSnapshot"/>), which the rewrite thread writes; those are handed
/// over as snapshots in the steps too. So a value not yet written is always exactly as at the snapshot, and so is its entry.
/// Values stored after the start are marked so (they are not in the snapshot; the new incremental file has them);
/// FLUSHDB/FLUSHALL give the database new tables, and the walk finishes over the old ones, which nothing reaches.
/// The state of each value lives in <see cref="RedisObject.RewriteState"/>: this rewrite's generation times 4, plus
/// one of the states below; any other generation means "as at the snapshot, not written yet".</para>
/// </summary>
public sealed class AofRewriter
{
    private const int Serializing = 1, Capturing = 2, Done = 3;

    /// <summary>
    /// Slots walked per step on the dispatcher: copying a slot's references (and looking up its expiry) costs
    /// nanoseconds, so a step takes tens of microseconds (5,000,000 keys: about 1,200 steps, 27–43 ms in all, the
    /// longest 0.4–0.9 ms under load; README, "AOF rewrite under load").
    /// </summary>
    internal const int ChunkSlots = 4096;

    /// <summary>
    /// Sets and hashes of at least this many entries are handed over as snapshots (<see cref="CollectionObject.TakeSnapshot"/>:
    /// O(1), then O(1) per change while the snapshot is held); smaller ones are written by the dispatcher when they
    /// first change, as before (O(entries), bounded by this threshold), and cost no snapshot object each.
    /// </summary>
    internal const int SnapshotFromEntries = 1024;

    private static int _generations;

    private readonly Walk[] _walks;
    private readonly Database[] _databases;
    private readonly Action<byte[], RedisObject>?[] _hooks;
    private readonly int _mark;
    private readonly long _now;
    private readonly int _chunkSlots;
    private readonly int _snapshotFrom;
    private readonly bool _manualSteps;
    private readonly Action<Action> _post;
    private readonly ConcurrentQueue<Captured> _captured = new();
    private readonly SnapshotLease _lease = new();
    private readonly BlockingCollection<Chunk> _chunks = new();
    private readonly ConcurrentQueue<Chunk> _freeChunks = new();
    private readonly string _tempPath;
    private volatile bool _detached;

    // The walk's position (dispatcher, under the run lock).
    private int _walkIndex;
    private int _cursor;
    private int _requestedSteps;

    /// <summary>One database's table as at the start, walked up to the slots it used then.</summary>
    private sealed record Walk(int Db, KeyTable Entries, Dictionary<byte[], long> Expires, int Slots);

    private struct Item
    {
        public byte[] Key;
        public RedisObject Value;
        public long Expiry;
        public StreamSnapshot? Snapshot; // a stream, taken by the dispatcher: written as it is, no state to claim
        public CollectionSnapshot? Collection; // a large set or hash, the same
    }

    /// <summary>An entry the dispatcher dealt with before it changed: its commands, or a snapshot (stream, large set or hash) to write.</summary>
    private readonly record struct Captured(int Db, byte[]? Bytes, byte[] Key, StreamSnapshot? Snapshot, CollectionSnapshot? Collection, long Expiry);

    /// <summary>
    /// Snapshot work per step, counted in stream nodes plus pending entries (about 10 ns each), so that a step
    /// holding many large streams ends early instead of running long.
    /// </summary>
    private const int SnapshotWorkPerStep = 64 * 1024;

    /// <summary>The entries of one step, all of one database; <see cref="End"/> when the walk is over.</summary>
    private sealed class Chunk(int capacity)
    {
        public readonly Item[] Items = new Item[capacity];
        public int Count;
        public int Db;
        public bool End;
    }

    /// <summary>Notes the tables and hooks the databases. Dispatcher thread.</summary>
    /// <param name="post">Runs an action on the dispatcher, under the run lock, between batches (<see cref="Dispatcher.Post(Action)"/>).</param>
    /// <param name="chunkSlots">Slots per step (tests walk in small steps).</param>
    /// <param name="manualSteps">Tests: steps are not posted but taken when the test calls <see cref="StepForTests"/>.</param>
    /// <param name="snapshotFromEntries">Sets and hashes this large are handed over as snapshots (tests: smaller).</param>
    public AofRewriter(ServerContext server, string tempPath, Action<Action> post, int chunkSlots = ChunkSlots, bool manualSteps = false,
        int snapshotFromEntries = SnapshotFromEntries)
    {
        _snapshotFrom = snapshotFromEntries;
        GcPauseAtStart = GC.GetTotalPauseDuration();
        GcCountsAtStart = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        _tempPath = tempPath;
        _post = post;
        _chunkSlots = chunkSlots;
        _manualSteps = manualSteps;
        _mark = Interlocked.Increment(ref _generations) * 4;
        _now = server.Clock.NowMs;
        _databases = [.. server.Keyspace.Databases];
        var walks = new List<Walk>();
        _hooks = new Action<byte[], RedisObject>?[_databases.Length];
        foreach (var db in _databases)
        {
            if (db.Count > 0)
            {
                var (entries, expires) = db.SnapshotSource();
                walks.Add(new Walk(db.Index, entries, expires, entries.SlotCount));
                KeyCount += entries.Count;
            }
            var index = db.Index;
            db.RewriteAccess = _hooks[index] = (key, value) => OnAccess(index, key, value);
            db.RewriteStoredState = _mark + Done;
        }
        _walks = [.. walks];
        StartedMs = Environment.TickCount64;
    }

    public long StartedMs { get; }

    /// <summary>GC pause total before the snapshot was taken (the log lines give the pauses since).</summary>
    public TimeSpan GcPauseAtStart { get; }

    /// <summary>Collections of generations 0, 1 and 2 before the snapshot was taken.</summary>
    public int[] GcCountsAtStart { get; }

    /// <summary>Collections since the start, as "gen0/gen1/gen2" (each count includes the older generations' collections).</summary>
    public string GcCountsSinceStart()
        => $"{GC.CollectionCount(0) - GcCountsAtStart[0]}/{GC.CollectionCount(1) - GcCountsAtStart[1]}/{GC.CollectionCount(2) - GcCountsAtStart[2]}";

    /// <summary>Tests: the rewrite thread waits for this before it writes each step's entries, so a test can change values it holds.</summary>
    internal volatile ManualResetEventSlim? StepGateForTests;

    /// <summary>Tests: sleep a millisecond every this many entries, so writes overlap the rewrite (0 = never).</summary>
    internal static int SlowdownEveryForTests;

    public int KeyCount { get; }

    /// <summary>Walk steps taken so far, the dispatcher time they took, and the longest (dispatcher thread).</summary>
    public int Steps { get; private set; }

    public TimeSpan StepTime { get; private set; }

    public TimeSpan LongestStep { get; private set; }

    /// <summary>Entries the dispatcher wrote itself because they were about to change (dispatcher thread).</summary>
    public int CapturedCount { get; private set; }

    /// <summary>Unhooks the databases and ends the walk (dispatcher thread, when the rewrite ends either way).</summary>
    public void Detach()
    {
        _detached = true;
        foreach (var db in _databases)
        {
            if (db.RewriteAccess == _hooks[db.Index]) db.RewriteAccess = null;
        }
        _chunks.Add(new Chunk(0) { End = true }); // wakes a rewrite thread waiting for a step that may never run
    }

    /// <summary>Dispatcher: an entry is about to be used or changed; make sure its snapshot state is written first.</summary>
    private void OnAccess(int db, byte[] key, RedisObject value)
    {
        var spin = new SpinWait();
        while (true)
        {
            var state = Volatile.Read(ref value.RewriteState);
            if (state == _mark + Done) return;
            if ((state & ~3) == _mark)
            {
                spin.SpinOnce(); // the rewrite thread is writing this one
                continue;
            }
            // In the snapshot (stored values are marked) and not written yet: write it now, before it changes. Until
            // now nothing changed the entry (every change comes through here first), so its expiry is the snapshot's.
            if (Interlocked.CompareExchange(ref value.RewriteState, _mark + Capturing, state) != state) continue;
            var expiry = _databases[db].GetExpiry(key);
            if (InSnapshot(expiry))
            {
                if (value is Stream stream)
                {
                    // O(nodes + pending), not O(bytes): a large stream under XADD must not stall the dispatcher.
                    _captured.Enqueue(new Captured(db, null, key, stream.TakeSnapshot(_lease), null, expiry));
                }
                else if (IsLargeCollection(value, out var collection))
                {
                    // O(1), and O(1) per change while the rewrite thread reads it: not O(members) either.
                    _captured.Enqueue(new Captured(db, null, key, null, collection.TakeSnapshot(_lease), expiry));
                }
                else
                {
                    var buffer = new ArrayBufferWriter<byte>();
                    Serialize(buffer, key, value, expiry);
                    _captured.Enqueue(new Captured(db, buffer.WrittenSpan.ToArray(), key, null, null, expiry));
                }
                CapturedCount++;
            }
            Volatile.Write(ref value.RewriteState, _mark + Done);
            return;
        }
    }

    /// <summary>A set or hash handed over (or captured) as a snapshot rather than written whole on the dispatcher.</summary>
    private bool IsLargeCollection(RedisObject value, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CollectionObject? collection)
    {
        collection = value as CollectionObject;
        return collection is not null && collection.Count >= _snapshotFrom;
    }

    /// <summary>Asks for the next step: posted to the dispatcher (or left for <see cref="StepForTests"/>). Rewrite thread.</summary>
    private void RequestStep()
    {
        if (_manualSteps) Interlocked.Increment(ref _requestedSteps);
        else _post(TakeStep);
    }

    /// <summary>Tests, under the run lock: takes the step the rewrite thread asked for; false when it asked for none.</summary>
    internal bool StepForTests()
    {
        if (Volatile.Read(ref _requestedSteps) == 0) return false;
        Interlocked.Decrement(ref _requestedSteps);
        TakeStep();
        return true;
    }

    /// <summary>Dispatcher, under the run lock: hands the entries of the next <see cref="_chunkSlots"/> slots to the rewrite thread.</summary>
    private void TakeStep()
    {
        var started = Stopwatch.GetTimestamp();
        if (!_freeChunks.TryDequeue(out var chunk)) chunk = new Chunk(_chunkSlots);
        chunk.Count = 0;
        chunk.End = _detached;
        while (!chunk.End)
        {
            if (_walkIndex == _walks.Length)
            {
                chunk.End = true;
                break;
            }
            var walk = _walks[_walkIndex];
            if (_cursor >= walk.Slots)
            {
                _walkIndex++;
                _cursor = 0;
                continue;
            }
            chunk.Db = walk.Db;
            var expires = walk.Expires.Count == 0 ? null : walk.Expires;
            var end = Math.Min(walk.Slots, _cursor + _chunkSlots);
            var items = chunk.Items;
            var n = 0;
            var work = 0L;
            for (var slot = _cursor; slot < end; slot++)
            {
                if (!walk.Entries.GetAt(slot, out var key, out var value)) continue;
                StreamSnapshot? snapshot = null;
                CollectionSnapshot? collectionSnapshot = null;
                if (value is Stream || IsLargeCollection(value, out _))
                {
                    // Streams and large sets and hashes are handed over as snapshots, so the rewrite thread never holds
                    // a large live value the dispatcher would wait for. One written already (it changed meanwhile) is
                    // passed over.
                    var state = Volatile.Read(ref value.RewriteState);
                    if ((state & ~3) == _mark || Interlocked.CompareExchange(ref value.RewriteState, _mark + Done, state) != state) continue;
                    if (value is Stream stream)
                    {
                        snapshot = stream.TakeSnapshot(_lease);
                        work += stream.NodeCount + snapshot.Groups.Sum(static g => (long)g.Consumers.Sum(static c => c.Pending.Length) + g.Nacked.Length);
                    }
                    else
                    {
                        collectionSnapshot = ((CollectionObject)value).TakeSnapshot(_lease);
                    }
                }
                ref var item = ref items[n++];
                item.Key = key;
                item.Value = value;
                item.Expiry = expires is not null && expires.TryGetValue(key, out var when) ? when : -1;
                item.Snapshot = snapshot;
                item.Collection = collectionSnapshot;
                if (work >= SnapshotWorkPerStep)
                {
                    end = slot + 1;
                    break;
                }
            }
            chunk.Count = n;
            _cursor = end;
            break;
        }
        _chunks.Add(chunk);
        var elapsed = Stopwatch.GetElapsedTime(started);
        Steps++;
        StepTime += elapsed;
        if (elapsed > LongestStep) LongestStep = elapsed;
    }

    /// <summary>Whether a key with this expiry (-1: none) was alive at the snapshot: until its time has passed (keyIsExpired: now &gt; when).</summary>
    private bool InSnapshot(long expiry) => expiry == -1 || expiry >= _now;

    /// <summary>Runs on a background thread: writes the base to the temp file; returns its size.</summary>
    public long Write()
    {
        try
        {
            return WriteBase();
        }
        finally
        {
            _lease.End(); // whatever was not written, nothing reads any more: streams may change their nodes in place again
        }
    }

    private long WriteBase()
    {
        using var file = new FileStream(_tempPath, FileMode.Create, FileAccess.Write, FileShare.None, 1);
        var buffer = new FileOutput(file);
        var selected = -1;
        var written = 0;
        RequestStep();
        while (true)
        {
            var chunk = _chunks.Take();
            if (chunk.End || _detached) break;
            RequestStep(); // the dispatcher takes the next chunk while this one is written
            StepGateForTests?.Wait();
            var db = chunk.Db;
            for (var i = 0; i < chunk.Count && !_detached; i++)
            {
                ref var item = ref chunk.Items[i];
                var value = item.Value;
                if (item.Snapshot is not null || item.Collection is not null)
                {
                    if (InSnapshot(item.Expiry))
                    {
                        if (db != selected)
                        {
                            RespEncoder.WriteSelect(buffer, db);
                            selected = db;
                        }
                        if (item.Snapshot is { } snapshot) Serialize(buffer, item.Key, snapshot, item.Expiry);
                        else Serialize(buffer, item.Key, item.Collection!.Value, item.Expiry);
                    }
                    item.Snapshot?.Release();
                    item.Collection?.Release();
                }
                var spin = new SpinWait();
                while (item.Snapshot is null && item.Collection is null)
                {
                    var state = Volatile.Read(ref value.RewriteState);
                    if (state == _mark + Done) break; // written by the dispatcher (or stored after the snapshot)
                    if ((state & ~3) == _mark)
                    {
                        spin.SpinOnce(); // the dispatcher is writing this one
                        continue;
                    }
                    if (Interlocked.CompareExchange(ref value.RewriteState, _mark + Serializing, state) != state) continue;
                    if (InSnapshot(item.Expiry))
                    {
                        if (db != selected)
                        {
                            RespEncoder.WriteSelect(buffer, db);
                            selected = db;
                        }
                        Serialize(buffer, item.Key, value, item.Expiry);
                    }
                    // A compare-exchange, not a write: a later rewrite may have claimed the value if this one was abandoned.
                    Interlocked.CompareExchange(ref value.RewriteState, _mark + Done, _mark + Serializing);
                    break;
                }
                if (SlowdownEveryForTests > 0 && ++written % SlowdownEveryForTests == 0) Thread.Sleep(1);
                if (!_captured.IsEmpty) DrainCaptured(buffer, ref selected);
            }
            Array.Clear(chunk.Items, 0, chunk.Count); // no references kept to values the keyspace may drop
            _freeChunks.Enqueue(chunk);
        }
        DrainCaptured(buffer, ref selected);
        buffer.Flush();
        file.Flush(flushToDisk: true);
        return file.Length;
    }

    /// <summary>
    /// The base file's writer: a buffer that goes to the file whenever it holds 128 KB, also in the middle of a
    /// large value (a stream of millions of entries is hundreds of MB of commands), so memory stays bounded.
    /// </summary>
    private sealed class FileOutput(FileStream file) : IBufferWriter<byte>
    {
        private const int FlushAt = 128 * 1024;
        private readonly ArrayBufferWriter<byte> _buffer = new(2 * FlushAt);

        public void Advance(int count) => _buffer.Advance(count);

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            if (_buffer.WrittenCount >= FlushAt) Flush();
            return _buffer.GetMemory(sizeHint);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            if (_buffer.WrittenCount >= FlushAt) Flush();
            return _buffer.GetSpan(sizeHint);
        }

        public void Flush()
        {
            file.Write(_buffer.WrittenSpan);
            _buffer.ResetWrittenCount();
        }
    }

    private void DrainCaptured(IBufferWriter<byte> buffer, ref int selected)
    {
        while (_captured.TryDequeue(out var c))
        {
            if (c.Db != selected)
            {
                RespEncoder.WriteSelect(buffer, c.Db);
                selected = c.Db;
            }
            if (c.Snapshot is { } snapshot)
            {
                Serialize(buffer, c.Key, snapshot, c.Expiry);
                snapshot.Release();
            }
            else if (c.Collection is { } collection)
            {
                Serialize(buffer, c.Key, collection.Value, c.Expiry);
                collection.Release();
            }
            else
            {
                buffer.Write(c.Bytes);
            }
        }
    }

    private static void Serialize(IBufferWriter<byte> output, byte[] key, RedisObject value, long expiry)
    {
        var emitter = RewriteEmitters.Find(value.Type)
            ?? throw new InvalidOperationException($"No AOF rewrite emitter for type {value.Type}");
        emitter.Emit(output, key, value);
        WriteExpiry(output, key, expiry);
    }

    private static void Serialize(IBufferWriter<byte> output, byte[] key, StreamSnapshot stream, long expiry)
    {
        StreamRewriteEmitter.Instance.Emit(output, key, stream);
        WriteExpiry(output, key, expiry);
    }

    private static void WriteExpiry(IBufferWriter<byte> output, byte[] key, long expiry)
    {
        if (expiry != -1)
        {
            RespEncoder.WriteArrayHeader(output, 3);
            RespEncoder.WriteBulk(output, "PEXPIREAT"u8);
            RespEncoder.WriteBulk(output, key);
            RespEncoder.WriteBulk(output, expiry);
        }
    }
}
