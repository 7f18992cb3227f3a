using System.Buffers;
using System.Collections.Concurrent;
using StreamServer.Execution;
using StreamServer.Storage;

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
/// <para>At the start (on the dispatcher, together with the switch to a new incremental file) the rewriter takes a
/// shallow snapshot: for every live key its database, key bytes, value reference and expiry, and marks each value
/// with the rewrite's generation and its slot. That is a pointer copy, not a copy of the data. A background thread
/// then serializes the snapshot. The values themselves may still change in place, so copy-on-access protects
/// them: while the rewrite runs, <see cref="Database.Get"/> reports every marked value it returns, before the
/// command can change it, and the dispatcher serializes that value first (or waits the moment the background thread
/// needs to finish it). Every in-place change is preceded by a lookup in the same command, so each value is written
/// as it was at the snapshot. Replaced, renamed or deleted values are not mutated, so the snapshot's reference still
/// holds the old state.</para>
/// </summary>
public sealed class AofRewriter
{
    private const int Pending = 0, Serializing = 1, Capturing = 2, Done = 3;
    private static int _generations;

    private readonly Entry[] _entries;
    private readonly int _count;
    private readonly int[] _states;
    private readonly int _generation;
    private readonly ConcurrentQueue<(int Db, byte[] Bytes)> _captured = new();
    private readonly string _tempPath;
    private readonly ServerContext _server;

    private readonly record struct Entry(int Db, byte[] Key, RedisObject Value, long Expiry);

    /// <summary>Takes the snapshot and hooks the databases. Dispatcher thread.</summary>
    public AofRewriter(ServerContext server, string tempPath)
    {
        _server = server;
        _tempPath = tempPath;
        _generation = Interlocked.Increment(ref _generations);
        var now = server.Clock.NowMs;
        // The one pass over the keyspace that stops the dispatcher: sized up front (no list growth and copy, which
        // for millions of keys cost as much again), expiries looked up only in databases that have any.
        var total = 0;
        foreach (var db in server.Keyspace.Databases) total += db.Count;
        _entries = new Entry[total];
        var count = 0;
        foreach (var db in server.Keyspace.Databases)
        {
            var hasExpires = db.ExpiresCount > 0;
            foreach (var (key, value) in db.Entries)
            {
                var expiry = hasExpires ? db.GetExpiry(key) : -1;
                if (expiry != -1 && expiry <= now) continue;
                value.RewriteGeneration = _generation;
                value.RewriteSlot = count;
                _entries[count++] = new Entry(db.Index, key, value, expiry);
            }
        }
        _count = count;
        _states = new int[count];
        foreach (var db in server.Keyspace.Databases) db.MarkedValueAccess = OnMarkedAccess;
        StartedMs = Environment.TickCount64;
    }

    public long StartedMs { get; }

    /// <summary>Tests: sleep a millisecond every this many entries, so writes overlap the rewrite (0 = never).</summary>
    internal static int SlowdownEveryForTests;

    public int KeyCount => _count;

    /// <summary>Unhooks the databases (dispatcher thread, when the rewrite ends either way).</summary>
    public void Detach()
    {
        foreach (var db in _server.Keyspace.Databases)
        {
            if (db.MarkedValueAccess == OnMarkedAccess) db.MarkedValueAccess = null;
        }
    }

    /// <summary>Dispatcher: a marked value is about to be used; make sure its snapshot state is written first.</summary>
    private void OnMarkedAccess(RedisObject value)
    {
        if (value.RewriteGeneration != _generation) return;
        var slot = value.RewriteSlot;
        if ((uint)slot >= (uint)_states.Length || !ReferenceEquals(_entries[slot].Value, value)) return;
        if (Interlocked.CompareExchange(ref _states[slot], Capturing, Pending) == Pending)
        {
            var buffer = new ArrayBufferWriter<byte>();
            Serialize(buffer, _entries[slot]);
            _captured.Enqueue((_entries[slot].Db, buffer.WrittenSpan.ToArray()));
            Volatile.Write(ref _states[slot], Done);
            return;
        }
        var spin = new SpinWait();
        while (Volatile.Read(ref _states[slot]) != Done) spin.SpinOnce(); // the rewrite thread is writing this one
    }

    /// <summary>Runs on a background thread: writes the base to the temp file; returns its size.</summary>
    public long Write()
    {
        using var file = new FileStream(_tempPath, FileMode.Create, FileAccess.Write, FileShare.None, 1);
        var buffer = new ArrayBufferWriter<byte>(256 * 1024);
        var selected = -1;
        for (var i = 0; i < _count; i++)
        {
            if (Interlocked.CompareExchange(ref _states[i], Serializing, Pending) == Pending)
            {
                var e = _entries[i];
                if (e.Db != selected)
                {
                    RespEncoder.WriteSelect(buffer, e.Db);
                    selected = e.Db;
                }
                Serialize(buffer, e);
                Volatile.Write(ref _states[i], Done);
            }
            else
            {
                var spin = new SpinWait();
                while (Volatile.Read(ref _states[i]) != Done) spin.SpinOnce();
            }
            if (SlowdownEveryForTests > 0 && i % SlowdownEveryForTests == 0) Thread.Sleep(1);
            if (buffer.WrittenCount >= 128 * 1024 || !_captured.IsEmpty)
            {
                DrainCaptured(buffer, ref selected);
                file.Write(buffer.WrittenSpan);
                buffer.ResetWrittenCount();
            }
        }
        DrainCaptured(buffer, ref selected);
        file.Write(buffer.WrittenSpan);
        file.Flush(flushToDisk: true);
        return file.Length;
    }

    private void DrainCaptured(ArrayBufferWriter<byte> buffer, ref int selected)
    {
        while (_captured.TryDequeue(out var c))
        {
            if (c.Db != selected)
            {
                RespEncoder.WriteSelect(buffer, c.Db);
                selected = c.Db;
            }
            buffer.Write(c.Bytes);
        }
    }

    private static void Serialize(IBufferWriter<byte> output, in Entry e)
    {
        var emitter = RewriteEmitters.Find(e.Value.Type)
            ?? throw new InvalidOperationException($"No AOF rewrite emitter for type {e.Value.Type}");
        emitter.Emit(output, e.Key, e.Value);
        if (e.Expiry != -1)
        {
            RespEncoder.WriteArrayHeader(output, 3);
            RespEncoder.WriteBulk(output, "PEXPIREAT"u8);
            RespEncoder.WriteBulk(output, e.Key);
            RespEncoder.WriteBulk(output, e.Expiry);
        }
    }
}
