using System.Globalization;

namespace StreamServer.Configuration;

/// <summary>One CONFIG parameter: its Redis name, how to read it, and how to set it from text.</summary>
public sealed record ConfigParameter(string Name, Func<string> Get, Func<string, string?>? Set, bool Immutable = false);

/// <summary>
/// CONFIG GET/SET over <see cref="ServerOptions"/> with Redis's names and value forms. Parameters Redis has but we
/// do not implement are listed with their Redis default so clients reading them (StackExchange.Redis reads
/// "databases", "slave-read-only", "timeout") get Redis's answers.
/// </summary>
public sealed class ConfigRegistry
{
    private readonly Dictionary<string, ConfigParameter> _parameters = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _aliases = new(StringComparer.OrdinalIgnoreCase);

    public ConfigRegistry(ServerOptions o)
    {
        Options = o;
        Int("port", () => o.Port, v => o.Port = v, 0, 65535, immutable: true);
        Add("bind", () => string.Join(' ', o.Bind), null, immutable: true);
        Bool("protected-mode", () => o.ProtectedMode, v => o.ProtectedMode = v);
        Add("requirepass", () => o.RequirePass ?? "", v => { o.RequirePass = v.Length == 0 ? null : v; return null; });
        Int("databases", () => o.Databases, v => o.Databases = v, 1, int.MaxValue, immutable: true);
        Int("maxclients", () => o.MaxClients, v => o.MaxClients = v, 1, int.MaxValue);
        Int("timeout", () => o.Timeout, v => o.Timeout = v, 0, int.MaxValue);
        Int("tcp-keepalive", () => o.TcpKeepAlive, v => o.TcpKeepAlive = v, 0, int.MaxValue);
        Long("proto-max-bulk-len", () => o.ProtoMaxBulkLen, v => o.ProtoMaxBulkLen = v, 1024 * 1024, long.MaxValue);
        Long("client-query-buffer-limit", () => o.ClientQueryBufferLimit, v => o.ClientQueryBufferLimit = v, 1024 * 1024, long.MaxValue);
        Int("stream-node-max-entries", () => o.StreamNodeMaxEntries, v => o.StreamNodeMaxEntries = v, 0, int.MaxValue);
        Int("stream-node-max-bytes", () => o.StreamNodeMaxBytes, v => o.StreamNodeMaxBytes = v, 0, int.MaxValue);
        Add("dir", () => Path.GetFullPath(o.Dir), v =>
        {
            if (!Directory.Exists(v)) return "No such file or directory";
            o.Dir = Path.GetFullPath(v);
            return null;
        });
        Bool("appendonly", () => o.AppendOnly, v => o.AppendOnly = v);
        Enum("appendfsync", () => o.AppendFsync, v => o.AppendFsync = v, "always", "everysec", "no");
        Add("appenddirname", () => o.AppendDirName, null, immutable: true);
        Add("appendfilename", () => o.AppendFilename, null, immutable: true);
        Enum("loglevel", () => o.LogLevel, v => o.LogLevel = v, "debug", "verbose", "notice", "warning", "nothing");
        Add("logfile", () => o.LogFile, null, immutable: true);
        Int("hz", () => o.Hz, v => o.Hz = Math.Clamp(v, 1, 500), 0, int.MaxValue);

        // Redis parameters we accept and report with Redis's defaults, without behaviour behind them.
        Fixed("save", "");
        Fixed("appendonly-rdb-preamble", "no");
        Fixed("aof-use-rdb-preamble", "no");
        Fixed("maxmemory", "0");
        Fixed("maxmemory-policy", "noeviction");
        Fixed("replica-read-only", "yes");
        Fixed("cluster-enabled", "no");
        Fixed("daemonize", "no");
        Fixed("io-threads", "1");
        Fixed("notify-keyspace-events", "");
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
        Fixed("auto-aof-rewrite-percentage", "100");
        Fixed("auto-aof-rewrite-min-size", "67108864");
        Fixed("aof-load-truncated", "yes");
        Fixed("client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
        Fixed("lazyfree-lazy-user-del", "no");
        Fixed("activedefrag", "no");
        _aliases["slave-read-only"] = "replica-read-only";
        _aliases["hash-max-ziplist-entries"] = "hash-max-listpack-entries";
        _aliases["hash-max-ziplist-value"] = "hash-max-listpack-value";
    }

    public ServerOptions Options { get; }

    public IEnumerable<ConfigParameter> All => _parameters.Values;

    public ConfigParameter? Find(string name)
    {
        if (_parameters.TryGetValue(name, out var p)) return p;
        return _aliases.TryGetValue(name, out var real) ? _parameters[real] : null;
    }

    /// <summary>Name/value pairs matching a glob (CONFIG GET), aliases included when they match by their own name.</summary>
    public IEnumerable<(string Name, string Value)> Match(string pattern)
    {
        foreach (var p in _parameters.Values)
        {
            if (Glob.Match(pattern, p.Name, ignoreCase: true)) yield return (p.Name, p.Get());
        }
        foreach (var (alias, real) in _aliases)
        {
            if (Glob.Match(pattern, alias, ignoreCase: true)) yield return (alias, _parameters[real].Get());
        }
    }

    private void Add(string name, Func<string> get, Func<string, string?>? set, bool immutable = false)
        => _parameters[name] = new ConfigParameter(name, get, set, immutable || set is null);

    private void Fixed(string name, string value)
    {
        var current = value;
        Add(name, () => current, v => { current = v; return null; });
    }

    private void Int(string name, Func<int> get, Action<int> set, int min, int max, bool immutable = false)
        => Add(name, () => get().ToString(CultureInfo.InvariantCulture), v =>
        {
            if (!TryParseMemory(v, out var n) || n < min || n > max) return $"argument must be between {min} and {max} inclusive";
            set((int)n);
            return null;
        }, immutable);

    private void Long(string name, Func<long> get, Action<long> set, long min, long max)
        => Add(name, () => get().ToString(CultureInfo.InvariantCulture), v =>
        {
            if (!TryParseMemory(v, out var n)) return "argument couldn't be parsed into an integer";
            if (n < min || n > max) return $"argument must be between {min} and {max} inclusive";
            set(n);
            return null;
        });

    private void Bool(string name, Func<bool> get, Action<bool> set)
        => Add(name, () => get() ? "yes" : "no", v =>
        {
            if (v.Equals("yes", StringComparison.OrdinalIgnoreCase)) set(true);
            else if (v.Equals("no", StringComparison.OrdinalIgnoreCase)) set(false);
            else return "argument must be 'yes' or 'no'";
            return null;
        });

    private void Enum(string name, Func<string> get, Action<string> set, params string[] values)
        => Add(name, get, v =>
        {
            foreach (var allowed in values)
            {
                if (allowed.Equals(v, StringComparison.OrdinalIgnoreCase)) { set(allowed); return null; }
            }
            return "argument(s) must be one of the following: " + string.Join(", ", values);
        });

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
