using System.Globalization;
using System.Text;
using StreamServer.Protocol;
using StreamServer.Storage;

namespace StreamServer.Execution;

/// <summary>
/// What a handler sees while it runs: its arguments, its client, the selected database and the reply writer.
/// One instance is reused for every command on the dispatcher thread.
/// </summary>
public sealed class CommandContext
{
    private ReadOnlyMemory<byte>[] _args = [];
    private int _offset;

    public CommandContext(ServerContext server) => Server = server;

    public ServerContext Server { get; }

    public ClientSession Client { get; private set; } = null!;

    public RespWriter Reply => Client.Reply;

    public Database Db => Server.Keyspace[Client.DbIndex];

    public CommandDef Command { get; internal set; } = null!;

    public int ArgCount { get; private set; }

    private long _nowMs;
    private bool _hasNow;

    /// <summary>
    /// Unix ms of the command: one clock reading for everything it does, as Redis's mstime snapshot. Read when the
    /// command first asks for it, not when it is bound: most commands (PING, GET, SET without expiry) never do,
    /// and a clock reading is a measurable part of their cost.
    /// </summary>
    public long NowMs
    {
        get
        {
            if (!_hasNow)
            {
                _nowMs = Server.Clock.NowMs;
                _hasNow = true;
            }
            return _nowMs;
        }
    }

    /// <summary>Redis's notifyKeyspaceEvent for a key of the selected database (nothing unless notify-keyspace-events enables the class).</summary>
    public void Notify(NotifyClass type, ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> key)
        => Server.KeyspaceEvents.Notify(type, eventName, key, Client.DbIndex);

    /// <summary>True while EXEC runs the queued commands (blocking commands must not block then).</summary>
    public bool InExec { get; internal set; }

    /// <summary>True while a blocked command is re-run because its key became ready.</summary>
    public bool IsRetry { get; internal set; }

    /// <summary>Binds the next command; its <see cref="NowMs"/> is read from the clock when first asked for.</summary>
    internal void Bind(ClientSession client, ReadOnlyMemory<byte>[] args, int offset, int count)
    {
        ResetPropagation();
        Client = client;
        _args = args;
        _offset = offset;
        ArgCount = count;
        _hasNow = false;
    }

    /// <summary>Binds a command whose time is given (EXEC's own, restored after its queued commands ran).</summary>
    internal void Bind(ClientSession client, ReadOnlyMemory<byte>[] args, int offset, int count, long nowMs)
    {
        Bind(client, args, offset, count);
        _nowMs = nowMs;
        _hasNow = true;
    }

    // ───────────── propagation (AOF; see Persistence/Propagation.md) ─────────────

    /// <summary>The command's deterministic form, replacing the verbatim arguments (Redis's rewriteClientCommandVector).</summary>
    public ReadOnlyMemory<byte>[]? PropagateAs { get; private set; }

    /// <summary>Commands propagated after the main one (Redis's alsoPropagate), in order.</summary>
    public List<ReadOnlyMemory<byte>[]>? PropagateAlso { get; private set; }

    /// <summary>The verbatim (or replaced) form is not propagated; only <see cref="PropagateAlso"/> commands are.</summary>
    public bool PropagationPrevented { get; private set; }

    /// <summary>The command changed the dataset without touching a key (Redis's server.dirty++).</summary>
    public bool ForcedDirty { get; private set; }

    /// <summary>Propagate <paramref name="args"/> instead of this command's arguments. The arrays are kept: pass copies, not spans of the request.</summary>
    /// <summary>
    /// Whether what this command propagates is recorded (the AOF is on). Check it before building arguments for
    /// <see cref="ReplacePropagation"/> / <see cref="AlsoPropagate"/>, so nothing is allocated when nobody reads them.
    /// </summary>
    public bool Propagating => Server.Propagating;

    public void ReplacePropagation(params ReadOnlyMemory<byte>[] args)
    {
        PropagateAs = args;
        ForcedDirty = true;
    }

    /// <summary>
    /// Propagate this command's own arguments with the one at <paramref name="index"/> replaced by
    /// <paramref name="value"/> (at most <see cref="ReplacedArgCapacity"/> bytes): XADD's generated id. Unlike
    /// <see cref="ReplacePropagation"/> nothing is copied or allocated, so an XADD costs the AOF only its bytes.
    /// </summary>
    public void ReplacePropagatedArg(int index, ReadOnlySpan<byte> value)
    {
        value.CopyTo(_replacedArg);
        _replacedArgLength = value.Length;
        ReplacedArgIndex = index;
        ForcedDirty = true;
    }

    public const int ReplacedArgCapacity = 64;

    private readonly byte[] _replacedArg = new byte[ReplacedArgCapacity];
    private int _replacedArgLength;

    /// <summary>The argument <see cref="ReplacePropagatedArg"/> replaced, or -1.</summary>
    public int ReplacedArgIndex { get; private set; } = -1;

    public ReadOnlySpan<byte> ReplacedArg => _replacedArg.AsSpan(0, _replacedArgLength);

    /// <summary>Propagate <paramref name="args"/> after this command (or instead of it after <see cref="PreventPropagation"/>).</summary>
    public void AlsoPropagate(params ReadOnlyMemory<byte>[] args)
    {
        (PropagateAlso ??= []).Add(args);
        ForcedDirty = true;
    }

    /// <summary>Do not propagate this command itself (what <see cref="AlsoPropagate"/> added still goes).</summary>
    public void PreventPropagation() => PropagationPrevented = true;

    /// <summary>Count the command as a write even though no key was touched (it is then propagated).</summary>
    public void MarkDirty() => ForcedDirty = true;

    private void ResetPropagation()
    {
        PropagateAs = null;
        PropagateAlso = null;
        ReplacedArgIndex = -1;
        PropagationPrevented = false;
        ForcedDirty = false;
    }

    public ReadOnlySpan<byte> Arg(int index) => _args[_offset + index].Span;

    public ReadOnlyMemory<byte> ArgMemory(int index) => _args[_offset + index];

    /// <summary>All arguments of this command (name first).</summary>
    public ReadOnlySpan<ReadOnlyMemory<byte>> Args => _args.AsSpan(_offset, ArgCount);

    public string ArgString(int index) => Encoding.UTF8.GetString(Arg(index));

    /// <summary>Case-insensitive comparison with an upper-case ASCII keyword.</summary>
    public bool ArgIs(int index, ReadOnlySpan<byte> upperKeyword) => EqualsIgnoreCase(Arg(index), upperKeyword);

    public static bool EqualsIgnoreCase(ReadOnlySpan<byte> value, ReadOnlySpan<byte> upperKeyword)
    {
        if (value.Length != upperKeyword.Length) return false;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c is >= (byte)'a' and <= (byte)'z') c -= 32;
            if (c != upperKeyword[i]) return false;
        }
        return true;
    }

    public void Error(string message) => Reply.Error(message);

    public void SyntaxError() => Reply.Error(Errors.Syntax);

    public void WrongType() => Reply.Error(Errors.WrongType);

    /// <summary>Parses a 64-bit integer as Redis's getLongLongFromObjectOrReply; writes the error when it is not one.</summary>
    public bool TryGetLong(int index, out long value, string error = Errors.NotInteger)
    {
        if (TryParseLong(Arg(index), out value)) return true;
        Reply.Error(error);
        return false;
    }

    /// <summary>
    /// A blocking timeout in milliseconds as Redis's getTimeoutFromObjectOrReply (BLOCK, WAIT, WAITAOF): an integer,
    /// not negative, and one that does not overflow when added to now; writes Redis's error otherwise.
    /// </summary>
    public bool TryGetTimeoutMs(int index, out long ms)
    {
        if (!TryParseLong(Arg(index), out ms)) Error(Errors.TimeoutNotInteger);
        else if (ms < 0) Error(Errors.TimeoutNegative);
        else if (ms > long.MaxValue - NowMs) Error(Errors.TimeoutOutOfRange);
        else return true;
        return false;
    }

    /// <summary>Redis's string2ll (strict: no spaces, no '+', no leading zeros).</summary>
    public static bool TryParseLong(ReadOnlySpan<byte> text, out long value) => RespRequestReader.TryParseInt64(text, out value);

    /// <summary>Parses a double as Redis's getLongDoubleFromObject / strtold: no spaces, "inf" allowed, not NaN.</summary>
    public bool TryGetDouble(int index, out double value, string error = Errors.NotFloat)
    {
        if (TryParseDouble(Arg(index), out value)) return true;
        Reply.Error(error);
        return false;
    }

    public static bool TryParseDouble(ReadOnlySpan<byte> text, out double value)
    {
        value = 0;
        if (text.Length == 0 || text.Length > 256) return false;
        if (char.IsWhiteSpace((char)text[0]) || char.IsWhiteSpace((char)text[^1])) return false;
        Span<char> chars = stackalloc char[text.Length];
        for (var i = 0; i < text.Length; i++) chars[i] = (char)text[i];
        var s = chars;
        if (s.Equals("inf", StringComparison.OrdinalIgnoreCase) || s.Equals("+inf", StringComparison.OrdinalIgnoreCase)
            || s.Equals("infinity", StringComparison.OrdinalIgnoreCase) || s.Equals("+infinity", StringComparison.OrdinalIgnoreCase))
        {
            value = double.PositiveInfinity;
            return true;
        }
        if (s.Equals("-inf", StringComparison.OrdinalIgnoreCase) || s.Equals("-infinity", StringComparison.OrdinalIgnoreCase))
        {
            value = double.NegativeInfinity;
            return true;
        }
        foreach (var c in s)
        {
            if (!(char.IsAsciiDigit(c) || c is '.' or 'e' or 'E' or '-' or '+')) return false;
        }
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && !double.IsNaN(value);
    }

    /// <summary>
    /// Redis's lookupKeyRead: the live value or null, counted as a keyspace hit or miss (INFO keyspace_hits/misses);
    /// a miss publishes a "keymiss" event (class m) unless <paramref name="notify"/> is false (Redis's
    /// LOOKUP_NONOTIFY, as OBJECT). Commands use it where Redis reads a key, write lookups use <see cref="Database.Get"/>.
    /// </summary>
    public RedisObject? LookupRead(ReadOnlySpan<byte> key, bool notify = true)
    {
        var found = Db.Get(key);
        if (found is not null) Server.Stats.KeyspaceHits++;
        else
        {
            Server.Stats.KeyspaceMisses++;
            if (notify) Notify(NotifyClass.KeyMiss, "keymiss"u8, key);
        }
        return found;
    }

    /// <summary><see cref="TryGet{T}"/> through <see cref="LookupRead"/>: a read lookup, counted as Redis counts it.</summary>
    public bool TryGetRead<T>(ReadOnlySpan<byte> key, out T? value) where T : RedisObject => Typed(LookupRead(key), out value);

    /// <summary>The value under <paramref name="key"/> if it is of type <typeparamref name="T"/>; writes WRONGTYPE and returns false otherwise.</summary>
    public bool TryGet<T>(ReadOnlySpan<byte> key, out T? value) where T : RedisObject => Typed(Db.Get(key), out value);

    private bool Typed<T>(RedisObject? found, out T? value) where T : RedisObject
    {
        if (found is null) { value = null; return true; }
        if (found is T typed) { value = typed; return true; }
        value = null;
        Reply.Error(Errors.WrongType);
        return false;
    }
}
