using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StreamServer.Configuration;
using StreamServer.Storage;

namespace StreamServer.Execution;

/// <summary>
/// The server's state (Redis's <c>server</c> struct): configuration, keyspace, clients, statistics and the
/// registries that commands share. Touched only on the dispatcher thread unless a member says otherwise.
/// </summary>
public sealed class ServerContext
{
    private long _nextClientId;

    public ServerContext(ServerOptions options, ILoggerFactory? loggerFactory = null, IClock? clock = null)
    {
        Options = options;
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        Clock = clock ?? SystemClock.Instance;
        Keyspace = new Keyspace(options.Databases, Clock);
        StartTimeMs = Clock.NowMs;
        RunId = NewRandomHexId();
        Blocking = new BlockingRegistry();
        Watches = new WatchRegistry();
        foreach (var db in Keyspace.Databases)
        {
            db.KeyTouched += (d, key) =>
            {
                Watches.KeyTouched(d.Index, key.Span);
                Blocking.KeyTouched(d.Index, key.Span);
            };
        }
        Commands = new CommandTable();
        Config = new ConfigRegistry(options);
        Limits = new ClientLimits(this);
        PubSub = new PubSubRegistry(Limits);
        KeyspaceEvents = new KeyspaceEvents(PubSub, options);
        Monitors = new MonitorFeed(Limits);
        foreach (var db in Keyspace.Databases)
        {
            db.KeyAdded += (d, key) => KeyspaceEvents.Notify(NotifyClass.New, "new"u8, key, d.Index);
            db.KeyExpired += (d, key) => KeyspaceEvents.Notify(NotifyClass.Expired, "expired"u8, key, d.Index);
        }
    }

    public ServerOptions Options { get; }

    public ConfigRegistry Config { get; }

    public ILoggerFactory LoggerFactory { get; }

    public IClock Clock { get; }

    public Keyspace Keyspace { get; }

    public CommandTable Commands { get; }

    public BlockingRegistry Blocking { get; }

    public WatchRegistry Watches { get; }

    public PubSubRegistry PubSub { get; }

    /// <summary>Clients in MONITOR mode and the feed of commands to them.</summary>
    public MonitorFeed Monitors { get; }

    /// <summary>Keyspace notifications (notify-keyspace-events).</summary>
    public KeyspaceEvents KeyspaceEvents { get; }

    /// <summary>Idle timeout and output buffer limits (checked by the cron and when messages are published).</summary>
    public ClientLimits Limits { get; }

    public Dictionary<long, ClientSession> Clients { get; } = [];

    /// <summary>Blocked clients released by a command (CLIENT UNBLOCK, CLIENT KILL) whose batches the dispatcher resumes next.</summary>
    public List<ClientSession> PendingResumes { get; } = [];

    public string RunId { get; }

    public long StartTimeMs { get; }

    public Stopwatch Uptime { get; } = Stopwatch.StartNew();

    public int ListeningPort { get; set; }

    public ServerStats Stats { get; } = new();

    public Random Random { get; } = new();

    /// <summary>Runs the queued commands of a transaction for EXEC (set by the dispatcher).</summary>
    internal Action<ClientSession, List<QueuedCommand>> RunQueued { get; set; } = (_, _) => throw new InvalidOperationException("No dispatcher");

    /// <summary>Set by SHUTDOWN: the host stops accepting, lets in-flight batches finish, and exits.</summary>
    public Action<bool>? ShutdownRequested { get; set; }

    /// <summary>
    /// Whether writes are being recorded (the AOF is on and not loading). While false, commands skip building the
    /// deterministic arguments they would propagate (<see cref="CommandContext.Propagating"/>): that is garbage
    /// per XADD or XREADGROUP otherwise.
    /// </summary>
    public bool Propagating { get; set; }

    /// <summary>
    /// 40 random hex characters (run_id, master_replid). Like Redis's getRandomHexChars these need no cryptographic
    /// strength, and avoiding RandomNumberGenerator keeps OpenSSL from loading at start-up (NativeAOT start time).
    /// </summary>
    public static string NewRandomHexId()
    {
        Span<byte> bytes = stackalloc byte[20];
        Random.Shared.NextBytes(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    /// <summary>Thread-safe: ids are allocated by connections as they are accepted.</summary>
    public long NextClientId() => Interlocked.Increment(ref _nextClientId);
}

/// <summary>INFO stats counters.</summary>
public sealed class ServerStats
{
    public long TotalConnectionsReceived;
    public long TotalCommandsProcessed;
    public long TotalErrorReplies;
    public long RejectedConnections;
    public long KeyspaceHits;
    public long KeyspaceMisses;
    public long ExpiredKeys;
    public long TotalNetInputBytes;
    public long TotalNetOutputBytes;
    public long UnexpectedErrorReplies;
    public Dictionary<string, long> ErrorCodes { get; } = new(StringComparer.Ordinal);

    public void Reset()
    {
        TotalConnectionsReceived = 0;
        TotalCommandsProcessed = 0;
        TotalErrorReplies = 0;
        RejectedConnections = 0;
        KeyspaceHits = 0;
        KeyspaceMisses = 0;
        ExpiredKeys = 0;
        TotalNetInputBytes = 0;
        TotalNetOutputBytes = 0;
        ErrorCodes.Clear();
    }
}
