namespace StreamServer.Execution;

/// <summary>Redis's command flags (COMMAND INFO names them in lower case).</summary>
[Flags]
public enum CommandFlags
{
    None = 0,
    Write = 1 << 0,
    ReadOnly = 1 << 1,
    DenyOom = 1 << 2,
    Admin = 1 << 3,
    PubSub = 1 << 4,
    NoScript = 1 << 5,
    Blocking = 1 << 6,
    Loading = 1 << 7,
    Stale = 1 << 8,
    SkipMonitor = 1 << 9,
    SkipSlowlog = 1 << 10,
    Fast = 1 << 11,
    NoAuth = 1 << 12,
    MayReplicate = 1 << 13,
    NoMulti = 1 << 14,
    AllowBusy = 1 << 15,
    Sentinel = 1 << 16,
    OnlySentinel = 1 << 17,
    NoMandatoryKeys = 1 << 18,
    NoAsyncLoading = 1 << 19,
    Movablekeys = 1 << 20,
}

public delegate void CommandHandler(CommandContext ctx);

/// <summary>
/// One row of the command table: what COMMAND INFO/DOCS say of a command, and the handler that runs it.
/// Arity, flags and key positions drive argument checks, MULTI, blocking and AOF propagation.
/// </summary>
public sealed class CommandDef
{
    public CommandDef(string name, int arity, CommandFlags flags, int firstKey, int lastKey, int step, CommandHandler handler)
    {
        Name = name;
        Arity = arity;
        Flags = flags;
        FirstKey = firstKey;
        LastKey = lastKey;
        Step = step;
        Handler = handler;
        FullName = name;
    }

    /// <summary>Lower-case name ("xgroup" or, for a subcommand, "create").</summary>
    public string Name { get; }

    /// <summary>"xgroup|create" for a subcommand, else the name (made once: the dispatcher reads it for every call).</summary>
    public string FullName { get; private set; }

    /// <summary>Redis arity: n = exactly n arguments (with the name), -n = at least n.</summary>
    public int Arity { get; }

    public CommandFlags Flags { get; }

    public int FirstKey { get; }

    public int LastKey { get; }

    public int Step { get; }

    public CommandHandler Handler { get; }

    /// <summary>ACL categories without the '@' (COMMAND INFO).</summary>
    public string[] Categories { get; init; } = [];

    /// <summary>COMMAND DOCS fields.</summary>
    public string Summary { get; init; } = "";

    public string Since { get; init; } = "1.0.0";

    public string Group { get; init; } = "generic";

    public string Complexity { get; init; } = "O(1)";

    /// <summary>COMMAND INFO tips ("nondeterministic_output", "request_policy:all_shards", ...).</summary>
    public string[] Tips { get; init; } = [];

    /// <summary>
    /// For commands whose keys are not at fixed positions (movablekeys): the indexes of the key arguments in a full
    /// command line (name at 0), or null when the arguments are malformed. COMMAND GETKEYS uses it.
    /// </summary>
    public Func<IReadOnlyList<ReadOnlyMemory<byte>>, IReadOnlyList<int>?>? KeyFinder { get; init; }

    public CommandDef? Parent { get; private set; }

    public Dictionary<string, CommandDef>? Subcommands { get; private set; }

    public CommandDef AddSubcommand(CommandDef sub)
    {
        Subcommands ??= new Dictionary<string, CommandDef>(CommandNameComparer.Instance);
        sub.Parent = this;
        sub.FullName = Name + "|" + sub.Name;
        Subcommands[sub.Name] = sub;
        return this;
    }

    public bool Has(CommandFlags flag) => (Flags & flag) != 0;

    /// <summary>Statistics for INFO commandstats.</summary>
    public long Calls;
    public long Microseconds;
    public long RejectedCalls;
    public long FailedCalls;
}
