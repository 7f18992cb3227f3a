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
/// <para>At the start (on the dispatcher, together with the switch to a new incremental file) the rewriter copies each
/// database's table (<see cref="Database.CopyEntries"/>: the dictionary copies its entries as they are, with no
/// lookup and no visit to the keys or values). A background thread then serializes the
/// snapshot. The values may still change in place, so copy-on-access protects them: while the rewrite runs, every
/// value <see cref="Database.Get"/> returns is reported before the command can change it, and a value not written
/// yet is written first, on the dispatcher (or the dispatcher waits the moment the background thread needs to finish
/// it). Every in-place change is preceded by a lookup in the same command, so each value is written as it was at the
/// snapshot. Values stored after the snapshot are marked so (they are not in it); replaced, renamed or deleted values
/// are not mutated, so the snapshot's reference still holds the old state. The state of each value lives in
/// <see cref="RedisObject.RewriteState"/>: this rewrite's generation times 4, plus one of the states below.</para>
/// </summary>
public sealed class AofRewriter
{
    private const int Serializing = 1, Capturing = 2, Done = 3;
    private static int _generations;

    private readonly Snapshot[] _snapshots;
    private readonly Dictionary<byte[], long>?[] _expiresByDb;
    private readonly Action<byte[], RedisObject>?[] _hooks;
    private readonly int _mark;
    private readonly long _now;
    private readonly ConcurrentQueue<(int Db, byte[] Bytes)> _captured = new();
    private readonly string _tempPath;
    private readonly ServerContext _server;

    private sealed record Snapshot(int Db, Dictionary<byte[], RedisObject> Entries);

    /// <summary>Takes the snapshot and hooks the databases. Dispatcher thread.</summary>
    public AofRewriter(ServerContext server, string tempPath)
    {
        GcPauseAtStart = GC.GetTotalPauseDuration();
        _server = server;
        _tempPath = tempPath;
        _mark = Interlocked.Increment(ref _generations) * 4;
        _now = server.Clock.NowMs;
        var databases = server.Keyspace.Databases;
        var snapshots = new List<Snapshot>();
        _expiresByDb = new Dictionary<byte[], long>?[databases.Count];
        _hooks = new Action<byte[], RedisObject>?[databases.Count];
        foreach (var db in databases)
        {
            if (db.Count > 0)
            {
                var entries = db.CopyEntries();
                snapshots.Add(new Snapshot(db.Index, entries));
                KeyCount += entries.Count;
                _expiresByDb[db.Index] = db.CopyExpires();
            }
            var index = db.Index;
            db.RewriteAccess = _hooks[index] = (key, value) => OnAccess(index, key, value);
            db.RewriteStoredState = _mark + Done;
        }
        _snapshots = [.. snapshots];
        StartedMs = Environment.TickCount64;
    }

    public long StartedMs { get; }

    /// <summary>GC pause total before the snapshot was taken (the log lines give the pauses since).</summary>
    public TimeSpan GcPauseAtStart { get; }

    /// <summary>Tests: sleep a millisecond every this many entries, so writes overlap the rewrite (0 = never).</summary>
    internal static int SlowdownEveryForTests;

    public int KeyCount { get; }

    /// <summary>Unhooks the databases (dispatcher thread, when the rewrite ends either way).</summary>
    public void Detach()
    {
        foreach (var db in _server.Keyspace.Databases)
        {
            if (db.RewriteAccess == _hooks[db.Index]) db.RewriteAccess = null;
        }
    }

    /// <summary>Dispatcher: a value is about to be used; make sure its snapshot state is written first.</summary>
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
            // In the snapshot (stored values are marked) and not written yet: write it now, before it changes.
            if (Interlocked.CompareExchange(ref value.RewriteState, _mark + Capturing, state) != state) continue;
            var buffer = new ArrayBufferWriter<byte>();
            Serialize(buffer, key, value, Expiry(db, key));
            _captured.Enqueue((db, buffer.WrittenSpan.ToArray()));
            Volatile.Write(ref value.RewriteState, _mark + Done);
            return;
        }
    }

    private long Expiry(int db, byte[] key) => _expiresByDb[db] is { } expires && expires.TryGetValue(key, out var when) ? when : -1;

    /// <summary>Runs on a background thread: writes the base to the temp file; returns its size.</summary>
    public long Write()
    {
        using var file = new FileStream(_tempPath, FileMode.Create, FileAccess.Write, FileShare.None, 1);
        var buffer = new ArrayBufferWriter<byte>(256 * 1024);
        var selected = -1;
        var written = 0;
        foreach (var (db, entries) in _snapshots)
        {
            foreach (var (key, value) in entries)
            {
                var spin = new SpinWait();
                while (true)
                {
                    var state = Volatile.Read(ref value.RewriteState);
                    if (state == _mark + Done) break; // written by the dispatcher (or stored after the snapshot)
                    if ((state & ~3) == _mark)
                    {
                        spin.SpinOnce(); // the dispatcher is writing this one
                        continue;
                    }
                    if (Interlocked.CompareExchange(ref value.RewriteState, _mark + Serializing, state) != state) continue;
                    var expiry = Expiry(db, key);
                    if (expiry == -1 || expiry > _now)
                    {
                        if (db != selected)
                        {
                            RespEncoder.WriteSelect(buffer, db);
                            selected = db;
                        }
                        Serialize(buffer, key, value, expiry);
                    }
                    Volatile.Write(ref value.RewriteState, _mark + Done);
                    break;
                }
                if (SlowdownEveryForTests > 0 && ++written % SlowdownEveryForTests == 0) Thread.Sleep(1);
                if (buffer.WrittenCount >= 128 * 1024 || !_captured.IsEmpty)
                {
                    DrainCaptured(buffer, ref selected);
                    file.Write(buffer.WrittenSpan);
                    buffer.ResetWrittenCount();
                }
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

    private static void Serialize(IBufferWriter<byte> output, byte[] key, RedisObject value, long expiry)
    {
        var emitter = RewriteEmitters.Find(value.Type)
            ?? throw new InvalidOperationException($"No AOF rewrite emitter for type {value.Type}");
        emitter.Emit(output, key, value);
        if (expiry != -1)
        {
            RespEncoder.WriteArrayHeader(output, 3);
            RespEncoder.WriteBulk(output, "PEXPIREAT"u8);
            RespEncoder.WriteBulk(output, key);
            RespEncoder.WriteBulk(output, expiry);
        }
    }
}
