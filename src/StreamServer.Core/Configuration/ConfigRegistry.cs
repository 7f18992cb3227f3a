using System.Globalization;
using StreamServer.Execution;

namespace StreamServer.Configuration;

/// <summary>How a parameter's value is written back to a config file (CONFIG REWRITE) and parsed.</summary>
public enum ConfigKind
{
    /// <summary>Free text, written quoted.</summary>
    String,
    Integer,
    /// <summary>An integer with an optional unit (1gb, 100mb).</summary>
    Memory,
    Bool,
    Enum,
    /// <summary>Several tokens on one line (bind, save, client-output-buffer-limit), written as they are.</summary>
    Tokens,
}

/// <summary>
/// One CONFIG parameter: its Redis name, how to read it, and how to set it from text (null = immutable).
/// <paramref name="Inert"/>: accepted and reported with Redis's value, but no behaviour of ours depends on it
/// (a config file that sets it to another value gets a warning at start-up).
/// </summary>
public sealed record ConfigParameter(string Name, Func<string> Get, Func<string, string?>? Set, bool Immutable = false, ConfigKind Kind = ConfigKind.String, bool Inert = false);

public sealed class ConfigRegistry
{
    private readonly Dictionary<string, ConfigParameter> _parameters = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _aliases = new(StringComparer.OrdinalIgnoreCase);

    public ConfigRegistry(ServerOptions o)
    {
        Options = o;
        Int("port", () => o.Port, v => o.Port = v, 0, 65535, immutable: true);
        Add("bind", () => string.Join(' ', o.Bind), null, immutable: true, ConfigKind.Tokens);
        Bool("protected-mode", () => o.ProtectedMode, v => o.ProtectedMode = v);
        Add("requirepass", () => o.RequirePass ?? "", v => { o.RequirePass = v.Length == 0 ? null : v; return null; });
        Int("databases", () => o.Databases, v => o.Databases = v, 1, int.MaxValue, immutable: true);
        Int("maxclients", () => o.MaxClients, v => o.MaxClients = v, 1, int.MaxValue);
        Int("timeout", () => o.Timeout, v => o.Timeout = v, 0, int.MaxValue);
        Int("tcp-keepalive", () => o.TcpKeepAlive, v => o.TcpKeepAlive = v, 0, int.MaxValue);
        Memory("proto-max-bulk-len", () => o.ProtoMaxBulkLen, v => o.ProtoMaxBulkLen = v, 1024 * 1024, long.MaxValue);
        Memory("client-query-buffer-limit", () => o.ClientQueryBufferLimit, v => o.ClientQueryBufferLimit = v, 1024 * 1024, long.MaxValue);
        Int("stream-node-max-entries", () => o.StreamNodeMaxEntries, v => o.StreamNodeMaxEntries = v, 0, int.MaxValue);
        Memory("stream-node-max-bytes", () => o.StreamNodeMaxBytes, v => o.StreamNodeMaxBytes = (int)v, 0, int.MaxValue);
        Add("dir", () => Path.GetFullPath(o.Dir), v =>
        {
            if (!Directory.Exists(v)) return "No such file or directory";
            o.Dir = Path.GetFullPath(v);
            return null;
        });
        Add("appendonly", () => o.AppendOnly ? "yes" : "no", v =>
        {
            bool on;
            if (v.Equals("yes", StringComparison.OrdinalIgnoreCase)) on = true;
            else if (v.Equals("no", StringComparison.OrdinalIgnoreCase)) on = false;
            else return "argument must be 'yes' or 'no'";
            // At run time the AOF starts (a base is written first) or stops; at start-up it is only the setting.
            if (on != o.AppendOnly && AppendOnlyChanging?.Invoke(on) is { } error) return error;
            o.AppendOnly = on;
            return null;
        }, kind: ConfigKind.Bool);
        Int("auto-aof-rewrite-percentage", () => o.AutoAofRewritePercentage, v => o.AutoAofRewritePercentage = v, 0, int.MaxValue);
        Memory("auto-aof-rewrite-min-size", () => o.AutoAofRewriteMinSize, v => o.AutoAofRewriteMinSize = v, 0, long.MaxValue);
        Bool("aof-load-truncated", () => o.AofLoadTruncated, v => o.AofLoadTruncated = v);
        Enum("appendfsync", () => o.AppendFsync, v =>
        {
            o.AppendFsync = v;
            AppendFsyncChanged?.Invoke();
        }, "everysec", "always", "no");
        Add("appenddirname", () => o.AppendDirName, null, immutable: true);
        Add("appendfilename", () => o.AppendFilename, null, immutable: true);
        Enum("loglevel", () => o.LogLevel, v => o.LogLevel = v, "debug", "verbose", "notice", "warning", "nothing");
        Add("logfile", () => o.LogFile, null, immutable: true);
        Int("hz", () => o.Hz, v => o.Hz = Math.Clamp(v, 1, 500), 0, int.MaxValue);
        Add("notify-keyspace-events", () => KeyspaceEvents.Format(o.NotifyKeyspaceEvents), v =>
        {
            if (!KeyspaceEvents.TryParse(v, out var flags)) return "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
            o.NotifyKeyspaceEvents = flags;
            return null;
        });
        Add("client-output-buffer-limit", () => FormatOutputBufferLimits(o.ClientOutputBufferLimits), v => SetOutputBufferLimits(o, v), kind: ConfigKind.Tokens);

        // Redis parameters we accept and report with Redis's defaults, without behaviour behind them.
        Fixed("save", "", ConfigKind.Tokens);
        Fixed("appendonly-rdb-preamble", "no");
        Fixed("aof-use-rdb-preamble", "no");
        var maxMemory = 0L;
        Memory("maxmemory", () => maxMemory, v => maxMemory = v, 0, long.MaxValue);
        var maxMemoryPolicy = "noeviction";
        Enum("maxmemory-policy", () => maxMemoryPolicy, v => maxMemoryPolicy = v,
            "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction");
        Fixed("replica-read-only", "yes");
        FixedImmutable("cluster-enabled", "no");
        FixedImmutable("daemonize", "no");
        FixedImmutable("io-threads", "1");
        Fixed("lua-time-limit", "5000");
        Fixed("busy-reply-threshold", "5000");
        Fixed("slowlog-log-slower-than", "10000");
        Fixed("slowlog-max-len", "128");
        Fixed("latency-monitor-threshold", "0");
        Fixed("list-max-listpack-size", "-2");
        Fixed("hash-max-listpack-entries", "128");
        Fixed("hash-max-listpack-value", "64");
        Fixed("set-max-intset-entries", "512");
        Fixed("set-max-listpack-entries", "128");
        Fixed("set-max-listpack-value", "64");
        Fixed("zset-max-listpack-entries", "128");
        Fixed("zset-max-listpack-value", "64");
        Fixed("lazyfree-lazy-user-del", "no");
        Fixed("activedefrag", "no");
        _aliases["slave-read-only"] = "replica-read-only";
        _aliases["hash-max-ziplist-entries"] = "hash-max-listpack-entries";
        _aliases["hash-max-ziplist-value"] = "hash-max-listpack-value";
    }

    public ServerOptions Options { get; }

    /// <summary>Set by the AOF: CONFIG SET appendonly at run time starts or stops it; returns an error text or null.</summary>
    public Func<bool, string?>? AppendOnlyChanging { get; set; }

    /// <summary>Set by the AOF: CONFIG SET appendfsync takes effect on the writer at once.</summary>
    public Action? AppendFsyncChanged { get; set; }

    public IEnumerable<ConfigParameter> All => _parameters.Values;

    public ConfigParameter? Find(string name)
    {
        if (_parameters.TryGetValue(name, out var p)) return p;
        return _aliases.TryGetValue(name, out var real) ? _parameters[real] : null;
    }

    /// <summary>Name/value pairs matching a glob (CONFIG GET), aliases included when they match by their own name.</summary>
    public IEnumerable<(string Name, string Value)> Match(string pattern) => Match([pattern]);

    /// <summary>
    /// CONFIG GET: every parameter matching any of <paramref name="patterns"/>, each once. A pattern without glob
    /// characters is an exact (case-insensitive) lookup answered under the name as given, as Redis 7 does.
    /// </summary>
    public List<(string Name, string Value)> Match(IEnumerable<string> patterns)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var result = new List<(string, string)>();
        foreach (var pattern in patterns)
        {
            if (pattern.AsSpan().IndexOfAny("[*?") < 0)
            {
                var p = Find(pattern);
                if (p is not null && seen.Add(p.Name)) result.Add((pattern, p.Get()));
                continue;
            }
            foreach (var p in _parameters.Values)
            {
                if (Glob.Match(pattern, p.Name, ignoreCase: true) && seen.Add(p.Name)) result.Add((p.Name, p.Get()));
            }
            foreach (var (alias, real) in _aliases)
            {
                if (Glob.Match(pattern, alias, ignoreCase: true) && seen.Add(real)) result.Add((alias, _parameters[real].Get()));
            }
        }
        return result;
    }

    /// <summary>
    /// CONFIG REWRITE: rewrites <paramref name="path"/> keeping comments and lines it does not know, replacing the
    /// first line of each known directive with the current value (dropping later repeats) and appending directives
    /// that differ from their defaults under a "# Generated by CONFIG REWRITE" line. Rewriting twice changes
    /// nothing. Returns null, or the reason it failed.
    /// </summary>
    public string? Rewrite(string path)
    {
        const string marker = "# Generated by CONFIG REWRITE";
        string[] lines;
        try
        {
            lines = File.Exists(path) ? File.ReadAllLines(path) : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }

        var defaults = new ConfigRegistry(new ServerOptions());
        var written = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var output = new List<string>(lines.Length + 8);
        foreach (var line in lines)
        {
            var trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed[0] == '#')
            {
                output.Add(line);
                continue;
            }
            var end = 0;
            while (end < trimmed.Length && !char.IsWhiteSpace(trimmed[end])) end++;
            var p = Find(trimmed[..end]);
            if (p is null)
            {
                output.Add(line); // a directive we do not know (include, rename-command, ...): kept as is
                continue;
            }
            if (!written.Add(p.Name)) continue; // a repeated directive: its value is on the first line now
            output.Add(FormatDirective(p));
        }

        var appended = new List<string>();
        foreach (var p in _parameters.Values)
        {
            if (written.Contains(p.Name)) continue;
            var d = defaults.Find(p.Name);
            if (d is not null && d.Get() == p.Get()) continue;
            appended.Add(FormatDirective(p));
        }
        if (appended.Count > 0)
        {
            // New directives go at the end, under the marker (kept from an earlier rewrite, else added once).
            if (!output.Exists(l => l.Trim() == marker)) output.Add(marker);
            output.AddRange(appended);
        }

        var temp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", $"temp-{Environment.ProcessId}-{Path.GetFileName(path)}");
        try
        {
            File.WriteAllText(temp, string.Join('\n', output) + "\n");
            File.Move(temp, path, overwrite: true);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); } catch (IOException) { }
            return e.Message;
        }
    }

    private static string FormatDirective(ConfigParameter p)
    {
        var value = p.Get();
        return p.Kind switch
        {
            ConfigKind.String => $"{p.Name} {ConfigLoader.Repr(value)}",
            ConfigKind.Tokens => value.Length == 0 ? $"{p.Name} \"\"" : $"{p.Name} {value}",
            _ => $"{p.Name} {value}",
        };
    }


    private void Add(string name, Func<string> get, Func<string, string?>? set, bool immutable = false, ConfigKind kind = ConfigKind.String, bool inert = false)
        => _parameters[name] = new ConfigParameter(name, get, set, immutable || set is null, kind, inert);

    /// <summary>A Redis parameter without behaviour behind it here: reported, settable, rewritten.</summary>
    private void Fixed(string name, string value, ConfigKind kind = ConfigKind.String)
    {
        var current = value;
        Add(name, () => current, v => { current = v; return null; }, kind: kind, inert: true);
    }

    private void FixedImmutable(string name, string value) => Add(name, () => value, null, immutable: true, ConfigKind.Enum, inert: true);

    private void Int(string name, Func<int> get, Action<int> set, int min, int max, bool immutable = false)
        => Add(name, () => get().ToString(CultureInfo.InvariantCulture), v =>
        {
            if (!long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)) return "argument couldn't be parsed into an integer";
            if (n < min || n > max) return $"argument must be between {min} and {max} inclusive";
            set((int)n);
            return null;
        }, immutable, ConfigKind.Integer);

    private void Memory(string name, Func<long> get, Action<long> set, long min, long max)
        => Add(name, () => get().ToString(CultureInfo.InvariantCulture), v =>
        {
            if (v.StartsWith('-') || !TryParseMemory(v, out var n)) return "argument must be a memory value";
            if (n < min || n > max) return $"argument must be between {min} and {max} inclusive";
            set(n);
            return null;
        }, kind: ConfigKind.Memory);

    private void Bool(string name, Func<bool> get, Action<bool> set)
        => Add(name, () => get() ? "yes" : "no", v =>
        {
            if (v.Equals("yes", StringComparison.OrdinalIgnoreCase)) set(true);
            else if (v.Equals("no", StringComparison.OrdinalIgnoreCase)) set(false);
            else return "argument must be 'yes' or 'no'";
            return null;
        }, kind: ConfigKind.Bool);

    private void Enum(string name, Func<string> get, Action<string> set, params string[] values)
        => Add(name, get, v =>
        {
            foreach (var allowed in values)
            {
                if (allowed.Equals(v, StringComparison.OrdinalIgnoreCase)) { set(allowed); return null; }
            }
            return "argument(s) must be one of the following: " + string.Join(", ", values);
        }, kind: ConfigKind.Enum);

    /// <summary>CONFIG GET's form: every class, limits in bytes ("normal 0 0 0 slave 268435456 67108864 60 pubsub …").</summary>
    private static string FormatOutputBufferLimits(OutputBufferLimit[] limits)
    {
        string[] names = ["normal", "slave", "pubsub"];
        return string.Join(' ', limits.Select((l, i) => string.Create(CultureInfo.InvariantCulture, $"{names[i]} {l.HardBytes} {l.SoftBytes} {l.SoftSeconds}")));
    }

    /// <summary>
    /// Redis's updateClientOutputBufferLimit: "&lt;class&gt; &lt;hard&gt; &lt;soft&gt; &lt;soft-seconds&gt; …" (normal, replica or
    /// slave, pubsub; memory units allowed). Every group is validated before any is applied; classes not named keep
    /// their limits, so config file lines and CONFIG SET merge per class.
    /// </summary>
    private static string? SetOutputBufferLimits(ServerOptions o, string value)
    {
        var args = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (args.Length % 4 != 0) return "Wrong number of arguments in buffer limit configuration.";
        var limits = (OutputBufferLimit[])o.ClientOutputBufferLimits.Clone();
        for (var i = 0; i < args.Length; i += 4)
        {
            ClientClass? cls = args[i].ToLowerInvariant() switch
            {
                "normal" => ClientClass.Normal,
                "slave" or "replica" => ClientClass.Replica,
                "pubsub" => ClientClass.PubSub,
                _ => null,
            };
            if (cls is null) return "Invalid client class specified in buffer limit configuration.";
            if (!TryParseMemory(args[i + 1], out var hard) || hard < 0 || !TryParseMemory(args[i + 2], out var soft) || soft < 0 ||
                !long.TryParse(args[i + 3], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds) || seconds < 0)
            {
                return "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
            }
            limits[(int)cls] = new OutputBufferLimit(hard, soft, seconds);
        }
        o.ClientOutputBufferLimits = limits;
        return null;
    }

    /// <summary>Redis's memtoll: a number with an optional k/kb/m/mb/g/gb unit.</summary>
    public static bool TryParseMemory(string text, out long value)
    {
        value = 0;
        var s = text.Trim().ToLowerInvariant();
        long mul = 1;
        string[] units = ["kb", "mb", "gb", "k", "m", "g", "b"];
        long[] muls = [1024, 1024 * 1024, 1024L * 1024 * 1024, 1000, 1000 * 1000, 1000L * 1000 * 1000, 1];
        for (var i = 0; i < units.Length; i++)
        {
            if (s.EndsWith(units[i], StringComparison.Ordinal))
            {
                mul = muls[i];
                s = s[..^units[i].Length];
                break;
            }
        }
        if (!long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)) return false;
        value = n * mul;
        return true;
    }
}
