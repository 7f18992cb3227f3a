namespace StreamServer.Configuration;

/// <summary>
/// The server's configuration, under Redis's directive names (see <see cref="ConfigRegistry"/> for CONFIG GET/SET).
/// Defaults are Redis 7's.
/// </summary>
public sealed class ServerOptions
{
    public int Port { get; set; } = 6379;

    /// <summary>Addresses to listen on; a leading '-' marks one that may be unavailable (Redis 7).</summary>
    public List<string> Bind { get; set; } = ["127.0.0.1", "-::1"];

    public bool ProtectedMode { get; set; } = true;

    /// <summary>
    /// Client sockets on the server's own epoll loop (Linux, 64-bit; <see cref="Networking.Linux.EventLoop"/>) rather
    /// than .NET's socket engine. Not a Redis directive: on by default, off with the environment variable
    /// <c>STREAMSERVER_EVENT_LOOP=0</c> (for comparison, or should the loop misbehave somewhere).
    /// </summary>
    public bool EventLoop { get; set; } = Environment.GetEnvironmentVariable("STREAMSERVER_EVENT_LOOP") != "0";

    public string? RequirePass { get; set; }

    public int Databases { get; set; } = 16;

    public int MaxClients { get; set; } = 10000;

    /// <summary>Idle seconds before a client is closed; 0 = never.</summary>
    public int Timeout { get; set; }

    /// <summary>SO_KEEPALIVE on accepted sockets, probing after this many idle seconds (Redis's anetKeepAlive); 0 = off.</summary>
    public int TcpKeepAlive { get; set; } = 300;

    /// <summary>
    /// client-output-buffer-limit per <see cref="ClientClass"/> (normal, replica, pubsub). Replaced as a whole when
    /// set (Clone shares it).
    /// </summary>
    public OutputBufferLimit[] ClientOutputBufferLimits { get; set; } =
    [
        new(0, 0, 0),
        new(256L * 1024 * 1024, 64L * 1024 * 1024, 60),
        new(32L * 1024 * 1024, 8L * 1024 * 1024, 60),
    ];

    public long ProtoMaxBulkLen { get; set; } = 512L * 1024 * 1024;

    public long ClientQueryBufferLimit { get; set; } = 1024L * 1024 * 1024;

    public int StreamNodeMaxEntries { get; set; } = 100;

    public int StreamNodeMaxBytes { get; set; } = 4096;

    public string Dir { get; set; } = Directory.GetCurrentDirectory();

    public bool AppendOnly { get; set; }

    public string AppendFsync { get; set; } = "everysec";

    /// <summary>notify-keyspace-events: the classes of keyspace events published (none by default).</summary>
    public Execution.NotifyClass NotifyKeyspaceEvents { get; set; }

    public string AppendDirName { get; set; } = "appendonlydir";

    public string AppendFilename { get; set; } = "appendonly.aof";

    public int AutoAofRewritePercentage { get; set; } = 100;

    public long AutoAofRewriteMinSize { get; set; } = 64L * 1024 * 1024;

    public bool AofLoadTruncated { get; set; } = true;

    public string LogLevel { get; set; } = "notice";

    public string LogFile { get; set; } = "";

    public int Hz { get; set; } = 10;

    /// <summary>Config file this server was started with (CONFIG REWRITE target), if any.</summary>
    public string? ConfigFile { get; set; }

    public ServerOptions Clone() => (ServerOptions)MemberwiseClone();
}

/// <summary>Redis's client classes for output buffer limits (CLIENT_TYPE_NORMAL, _SLAVE, _PUBSUB).</summary>
public enum ClientClass
{
    Normal,
    Replica,
    PubSub,
}

/// <summary>
/// One class's client-output-buffer-limit: a client whose pending output reaches <paramref name="HardBytes"/>, or
/// stays at or over <paramref name="SoftBytes"/> for more than <paramref name="SoftSeconds"/>, is closed. 0 = no limit.
/// </summary>
public readonly record struct OutputBufferLimit(long HardBytes, long SoftBytes, long SoftSeconds);
