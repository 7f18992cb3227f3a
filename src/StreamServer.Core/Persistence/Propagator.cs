using System.Buffers;
using System.Buffers.Text;
using StreamServer.Execution;
using StreamServer.Storage;

namespace StreamServer.Persistence;

/// <summary>
/// Turns executed commands into the AOF stream (Redis's call() → propagateNow). See Propagation.md.
/// <list type="bullet">
/// <item>A command is a write when it touched a key (Database.KeyTouched, expiries excluded — Redis's server.dirty)
/// or called <see cref="CommandContext.MarkDirty"/> / ReplacePropagation / AlsoPropagate.</item>
/// <item>It is written verbatim unless it gave a deterministic form (<see cref="CommandContext.ReplacePropagation"/>),
/// or one of the rules below rewrites it; <see cref="CommandContext.AlsoPropagate"/> adds commands after it.</item>
/// <item>Expired keys are written as DEL when they expire (lazy or active), before the command that noticed.</item>
/// <item>SELECT is written whenever the database differs from the last one written; a transaction that wrote is
/// wrapped in MULTI … EXEC.</item>
/// </list>
/// Dispatcher thread only.
/// </summary>
public sealed class Propagator
{
    private readonly ServerContext _server;
    private long _dirty;
    private long _dirtySeen;
    private int _selectedDb = -1;
    private bool _multiOpen;

    public Propagator(ServerContext server)
    {
        _server = server;
        foreach (var db in server.Keyspace.Databases)
        {
            db.KeyTouched += (d, _) =>
            {
                if (!d.IsExpiring) _dirty++;
            };
            db.KeyExpired += OnKeyExpired;
        }
    }

    /// <summary>Where commands go; null while the AOF is off (changes are still counted).</summary>
    public AofWriter? Writer
    {
        get => _writer;
        set
        {
            _writer = value;
            _server.Propagating = _writer is not null && !_loading;
        }
    }

    /// <summary>Set while the AOF is replayed: nothing is propagated.</summary>
    public bool Loading
    {
        get => _loading;
        set
        {
            _loading = value;
            _server.Propagating = _writer is not null && !_loading;
        }
    }

    private AofWriter? _writer;
    private bool _loading;

    /// <summary>Changes since start (Redis's server.dirty).</summary>
    public long Dirty => _dirty;

    /// <summary>A new file begins: its first command must be preceded by SELECT.</summary>
    public void ResetSelectedDb() => _selectedDb = -1;

    private void OnKeyExpired(Database db, byte[] key)
    {
        if (Writer is null || Loading) return;
        Emit(db.Index, new[] { (ReadOnlyMemory<byte>)"DEL"u8.ToArray(), key });
    }

    public void OnExecuted(CommandContext ctx)
    {
        var dirty = _dirty != _dirtySeen || ctx.ForcedDirty;
        _dirtySeen = _dirty;
        var command = ctx.Command;
        var writer = Writer;
        if (writer is null || Loading) return;
        var name = command.Parent is null ? command.Name : "";
        if (name == "exec")
        {
            if (_multiOpen)
            {
                _multiOpen = false;
                ctx.Client.AofOffset = Emit(-1, ExecCommand);
            }
            return;
        }
        if (!dirty && name is not ("flushall" or "flushdb")) return;
        var db = ctx.Client.DbIndex;
        if (ctx.InExec && !_multiOpen)
        {
            _multiOpen = true;
            Emit(db, MultiCommand);
        }
        var rewritten = ctx.PropagationPrevented || ctx.PropagateAs is not null || ctx.ReplacedArgIndex >= 0 ? null : PropagationRules.Rewrite(ctx, name);
        var ops = (ctx.PropagationPrevented ? 0 : rewritten?.Length ?? 1) + (ctx.PropagateAlso?.Count ?? 0);
        // As Redis's propagatePendingCommands: a command that propagates several (XREADGROUP: XCLAIMs and XGROUP SETID)
        // is wrapped in MULTI/EXEC, so a file cut between them (kill -9 between two writes) loads none of them.
        var wrap = ops > 1 && !ctx.InExec;
        if (wrap) Emit(db, MultiCommand);
        var end = -1L;
        if (!ctx.PropagationPrevented)
        {
            if (ctx.PropagateAs is { } replaced) end = Emit(db, replaced);
            else if (rewritten is not null)
            {
                foreach (var c in rewritten) end = Emit(db, c);
            }
            else end = EmitVerbatim(db, ctx);
        }
        if (ctx.PropagateAlso is { } also)
        {
            foreach (var c in also) end = Emit(db, c);
        }
        if (wrap) end = Emit(-1, ExecCommand);
        // Inside EXEC the offset moves at EXEC's end, as Redis's c->woff: a WAITAOF in the transaction waits for what came before it.
        if (end >= 0 && !ctx.InExec) ctx.Client.AofOffset = end;
    }

    private static readonly ReadOnlyMemory<byte>[] MultiCommand = ["MULTI"u8.ToArray()];
    private static readonly ReadOnlyMemory<byte>[] ExecCommand = ["EXEC"u8.ToArray()];

    /// <summary>Writes one command (after SELECT when <paramref name="db"/> differs; -1 = no database); returns the stream end offset.</summary>
    public long Emit(int db, ReadOnlyMemory<byte>[] args)
    {
        var select = db >= 0 && db != _selectedDb ? db : -1;
        if (select >= 0) _selectedDb = db;
        return Writer!.Append((args, select), static (output, s) =>
        {
            if (s.select >= 0) RespEncoder.WriteSelect(output, s.select);
            RespEncoder.WriteCommand(output, s.args);
        });
    }

    private long EmitVerbatim(int db, CommandContext ctx)
    {
        var select = db != _selectedDb ? db : -1;
        if (select >= 0) _selectedDb = db;
        return Writer!.Append((ctx, select), static (output, s) =>
        {
            if (s.select >= 0) RespEncoder.WriteSelect(output, s.select);
            var args = s.ctx.Args;
            var replaced = s.ctx.ReplacedArgIndex;
            if (replaced < 0)
            {
                RespEncoder.WriteCommand(output, args);
                return;
            }
            RespEncoder.WriteArrayHeader(output, args.Length);
            for (var i = 0; i < args.Length; i++) RespEncoder.WriteBulk(output, i == replaced ? s.ctx.ReplacedArg : args[i].Span);
        });
    }
}

/// <summary>Deterministic forms of the existing families' commands, chosen from the state they left (Redis's rewrites).</summary>
internal static class PropagationRules
{
    private static readonly byte[] Set = "SET"u8.ToArray();
    private static readonly byte[] Del = "DEL"u8.ToArray();
    private static readonly byte[] PxAt = "PXAT"u8.ToArray();
    private static readonly byte[] KeepTtl = "KEEPTTL"u8.ToArray();
    private static readonly byte[] PExpireAt = "PEXPIREAT"u8.ToArray();
    private static readonly byte[] Persist = "PERSIST"u8.ToArray();
    private static readonly byte[] HSet = "HSET"u8.ToArray();

    /// <summary>The commands to write instead of <paramref name="ctx"/>'s arguments, or null for verbatim.</summary>
    public static ReadOnlyMemory<byte>[][]? Rewrite(CommandContext ctx, string name)
    {
        switch (name)
        {
            case "set":
                // SET key value [NX|XX] [GET] [EX|PX|EXAT|PXAT|KEEPTTL] → SET key value PXAT <absolute> (Redis drops NX/XX/GET).
                for (var i = 3; i < ctx.ArgCount; i++)
                {
                    if (ctx.ArgIs(i, "EX"u8) || ctx.ArgIs(i, "PX"u8) || ctx.ArgIs(i, "EXAT"u8)) return SetWithExpiry(ctx, ctx.ArgMemory(2));
                }
                return null;
            case "setex":
            case "psetex":
                return SetWithExpiry(ctx, ctx.ArgMemory(3));
            case "getex":
                return ExpiryOf(ctx, ctx.ArgMemory(1), persistIfNone: true);
            case "expire":
            case "pexpire":
            case "expireat":
            case "pexpireat":
                return ExpiryOf(ctx, ctx.ArgMemory(1), persistIfNone: false);
            case "getdel":
                return [[Del, ctx.ArgMemory(1)]];
            case "incrbyfloat":
                {
                    if (ctx.Db.Get(ctx.Arg(1)) is not StringObject s) return null;
                    return [[Set, ctx.ArgMemory(1), s.ToArray(), KeepTtl]];
                }
            case "hincrbyfloat":
                {
                    if (ctx.Db.Get(ctx.Arg(1)) is not HashObject h || !h.TryGetValue(ctx.Arg(2), out var value)) return null;
                    return [[HSet, ctx.ArgMemory(1), ctx.ArgMemory(2), value]];
                }
            default:
                return null;
        }
    }

    private static ReadOnlyMemory<byte>[][] SetWithExpiry(CommandContext ctx, ReadOnlyMemory<byte> value)
    {
        var key = ctx.ArgMemory(1);
        if (!ctx.Db.Exists(key.Span)) return [[Del, key]];
        var when = ctx.Db.GetExpiry(key.Span);
        return when == -1 ? [[Set, key, value]] : [[Set, key, value, PxAt, Format(when)]];
    }

    private static ReadOnlyMemory<byte>[][] ExpiryOf(CommandContext ctx, ReadOnlyMemory<byte> key, bool persistIfNone)
    {
        if (!ctx.Db.Exists(key.Span)) return [[Del, key]];
        var when = ctx.Db.GetExpiry(key.Span);
        if (when != -1) return [[PExpireAt, key, Format(when)]];
        return persistIfNone ? [[Persist, key]] : [[Persist, key]];
    }

    private static byte[] Format(long n)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(n, digits, out var len);
        return digits[..len].ToArray();
    }
}
