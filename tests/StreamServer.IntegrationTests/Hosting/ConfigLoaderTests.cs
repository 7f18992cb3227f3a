using StreamServer.Configuration;

namespace StreamServer.IntegrationTests.Hosting;

/// <summary>redis-server's config file and command-line rules, with Redis 7's exact messages.</summary>
public sealed class ConfigLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ss-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (ServerOptions Options, ConfigLoader Loader, bool Ok) Load(string[] args, string? stdin = null)
    {
        var options = new ServerOptions();
        var commandLine = CommandLineOptions.Parse(args);
        var loader = new ConfigLoader(options);
        var ok = loader.Load(commandLine.ConfigFile, commandLine.ConfigFromStdin ? new StringReader(stdin ?? "") : null, commandLine.Options);
        return (options, loader, ok);
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void CommandLine_DirectivesAndValues_AreApplied()
    {
        var (options, loader, ok) = Load(["--port", "7001", "--bind", "0.0.0.0", "::1", "--appendonly", "yes", "--requirepass", "a b", "--dir", _dir]);

        Assert.True(ok, loader.Error);
        Assert.Equal(7001, options.Port);
        Assert.Equal(["0.0.0.0", "::1"], options.Bind);
        Assert.True(options.AppendOnly);
        Assert.Equal("a b", options.RequirePass);
        Assert.Empty(loader.Warnings);
    }

    [Fact]
    public void CommandLine_BadValue_IsFatalWithRedisMessageAndQuotedArgument()
    {
        var (_, loader, ok) = Load(["--port", "abc"]);

        Assert.False(ok);
        Assert.Equal("\n*** FATAL CONFIG FILE ERROR (Redis 8.10.0) ***\nReading the configuration file, at line 2\n>>> 'port \"abc\"'\nargument couldn't be parsed into an integer\n", loader.Error);
    }

    [Fact]
    public void UnknownDirective_IsFatal_AtItsLineCountedAfterTheFile()
    {
        var file = Write("a.conf", "port 7000\n\nappendfsync always\n");

        var (_, loader, ok) = Load([file, "--maxclients", "10", "--foo", "bar"]);

        // As Redis: file lines, then a blank line, then one line per command-line directive.
        Assert.False(ok);
        Assert.Equal("\n*** FATAL CONFIG FILE ERROR (Redis 8.10.0) ***\nReading the configuration file, at line 6\n>>> 'foo \"bar\"'\nBad directive or wrong number of arguments\n", loader.Error);
    }

    [Fact]
    public void BadEnumValue_InFile_NamesLineAndAllowedValues()
    {
        var file = Write("a.conf", "port 7000\n# comment\nappendfsync sometimes\n");

        var (_, loader, ok) = Load([file]);

        Assert.False(ok);
        Assert.Equal("\n*** FATAL CONFIG FILE ERROR (Redis 8.10.0) ***\nReading the configuration file, at line 3\n>>> 'appendfsync sometimes'\nargument(s) must be one of the following: everysec, always, no\n", loader.Error);
    }

    [Fact]
    public void KnownRedisDirectiveWeDoNotImplement_IsOneWarningNamingItsLine()
    {
        var file = Write("a.conf", "tcp-backlog 511\nport 7002\ndaemonize yes\ndaemonize no\n");

        var (options, loader, ok) = Load([file]);

        Assert.True(ok, loader.Error);
        Assert.Equal(7002, options.Port);
        Assert.Equal(
            [
                "Ignoring directive 'tcp-backlog' at line 1 ('tcp-backlog 511'): not implemented by StreamServer",
                "Ignoring directive 'daemonize' at line 3 ('daemonize yes'): not implemented by StreamServer",
            ],
            loader.Warnings);
    }

    [Fact]
    public void SingleValueDirective_WithTwoValues_IsWrongNumberOfArguments()
    {
        var (_, loader, ok) = Load(["--port", "1", "2"]);

        Assert.False(ok);
        Assert.EndsWith(">>> 'port \"1\" \"2\"'\nBad directive or wrong number of arguments\n", loader.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Include_LoadsTheFileInPlace_AndLaterLinesOverride()
    {
        var included = Write("inc.conf", "port 7003\nmaxclients 50\n");
        var file = Write("main.conf", $"include {included}\nmaxclients 60\n");

        var (options, loader, ok) = Load([file]);

        Assert.True(ok, loader.Error);
        Assert.Equal(7003, options.Port);
        Assert.Equal(60, options.MaxClients);
        Assert.Equal(Path.GetFullPath(file), options.ConfigFile);
    }

    [Fact]
    public void Stdin_IsReadAfterTheFile_AndBeforeTheOptions()
    {
        var (options, loader, ok) = Load(["-", "--databases", "4"], stdin: "port 7004\ndatabases 2\n");

        Assert.True(ok, loader.Error);
        Assert.Equal(7004, options.Port);
        Assert.Equal(4, options.Databases);
    }

    [Fact]
    public void SaveWithoutValue_MeansEmptySaveAsInRedis()
    {
        var commandLine = CommandLineOptions.Parse(["--save", "--port", "7005"]);

        Assert.Equal("save \"\"\nport \"7005\" ", commandLine.Options);
    }

    [Fact]
    public void ClientOutputBufferLimit_IsValidatedAndMergedPerClass()
    {
        var file = Write("a.conf", "client-output-buffer-limit normal 0 0 0\nclient-output-buffer-limit replica 256mb 64mb 60\nclient-output-buffer-limit pubsub 64mb 16mb 90\n");

        var (options, loader, ok) = Load([file]);

        Assert.True(ok, loader.Error);
        Assert.Equal("normal 0 0 0 slave 268435456 67108864 60 pubsub 67108864 16777216 90", loader.Registry.Find("client-output-buffer-limit")!.Get());
        Assert.Empty(loader.Warnings); // enforced, so nothing is ignored

        var (_, bad, badOk) = Load(["--client-output-buffer-limit", "master", "1", "1", "1"]);
        Assert.False(badOk);
        Assert.EndsWith("Invalid client class specified in buffer limit configuration.\n", bad.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a b c", new[] { "a", "b", "c" })]
    [InlineData("requirepass \"p w\\x41\\n\"", new[] { "requirepass", "p wA\n" })]
    [InlineData("logfile \"\"", new[] { "logfile", "" })]
    [InlineData("x 'it\\'s'", new[] { "x", "it's" })]
    public void SplitArgs_FollowsSdssplitargs(string line, string[] expected)
        => Assert.Equal(expected, ConfigLoader.SplitArgs(line));

    [Theory]
    [InlineData("x \"abc")]
    [InlineData("x \"a\"b")]
    [InlineData("x 'a")]
    public void SplitArgs_UnbalancedQuotes_IsNull(string line) => Assert.Null(ConfigLoader.SplitArgs(line));

    /// <summary>
    /// Every directive of Redis 7.4 with its default value: the names CONFIG GET * lists on redis-server 7.4
    /// (aliases included), then the hidden ones, the deprecated ones it skips and the directives its loader handles
    /// itself. (include is covered by its own test; sentinel is an error outside sentinel mode, as in Redis.)
    /// </summary>
    private const string Redis74Directives = """
        acl-pubsub-default resetchannels
        aclfile ""
        acllog-max-len 128
        active-defrag-cycle-max 25
        active-defrag-cycle-min 1
        active-defrag-ignore-bytes 104857600
        active-defrag-max-scan-fields 1000
        active-defrag-threshold-lower 10
        active-defrag-threshold-upper 100
        active-expire-effort 1
        activedefrag no
        activerehashing yes
        always-show-logo no
        aof-load-truncated yes
        aof-rewrite-cpulist ""
        aof-rewrite-incremental-fsync yes
        aof-timestamp-enabled no
        aof-use-rdb-preamble yes
        aof_rewrite_cpulist ""
        appenddirname appendonlydir
        appendfilename appendonly.aof
        appendfsync everysec
        appendonly no
        auto-aof-rewrite-min-size 67108864
        auto-aof-rewrite-percentage 100
        bgsave-cpulist ""
        bgsave_cpulist ""
        bind 127.0.0.1 -::1
        bind-source-addr ""
        bio-cpulist ""
        bio_cpulist ""
        busy-reply-threshold 5000
        client-output-buffer-limit normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60
        client-query-buffer-limit 1073741824
        cluster-allow-pubsubshard-when-down yes
        cluster-allow-reads-when-down no
        cluster-allow-replica-migration yes
        cluster-announce-bus-port 0
        cluster-announce-hostname ""
        cluster-announce-human-nodename ""
        cluster-announce-ip ""
        cluster-announce-port 0
        cluster-announce-tls-port 0
        cluster-config-file nodes.conf
        cluster-enabled no
        cluster-link-sendbuf-limit 0
        cluster-migration-barrier 1
        cluster-node-timeout 15000
        cluster-port 0
        cluster-preferred-endpoint-type ip
        cluster-replica-no-failover no
        cluster-replica-validity-factor 10
        cluster-require-full-coverage yes
        cluster-slave-no-failover no
        cluster-slave-validity-factor 10
        crash-log-enabled yes
        crash-memcheck-enabled yes
        daemonize no
        databases 16
        dbfilename dump.rdb
        dir .
        disable-thp yes
        dynamic-hz yes
        enable-debug-command no
        enable-module-command no
        enable-protected-configs no
        hash-max-listpack-entries 128
        hash-max-listpack-value 64
        hash-max-ziplist-entries 128
        hash-max-ziplist-value 64
        hide-user-data-from-log no
        hll-sparse-max-bytes 3000
        hz 10
        ignore-warnings ""
        io-threads 1
        io-threads-do-reads no
        jemalloc-bg-thread yes
        latency-monitor-threshold 0
        latency-tracking yes
        latency-tracking-info-percentiles 50 99 99.9
        lazyfree-lazy-eviction no
        lazyfree-lazy-expire no
        lazyfree-lazy-server-del no
        lazyfree-lazy-user-del no
        lazyfree-lazy-user-flush no
        lfu-decay-time 1
        lfu-log-factor 10
        list-compress-depth 0
        list-max-listpack-size -2
        list-max-ziplist-size -2
        locale-collate ""
        logfile ""
        loglevel notice
        lua-time-limit 5000
        masterauth ""
        masteruser ""
        max-new-connections-per-cycle 10
        max-new-tls-connections-per-cycle 1
        maxclients 10000
        maxmemory 0
        maxmemory-clients 0
        maxmemory-eviction-tenacity 10
        maxmemory-policy noeviction
        maxmemory-samples 5
        min-replicas-max-lag 10
        min-replicas-to-write 0
        min-slaves-max-lag 10
        min-slaves-to-write 0
        no-appendfsync-on-rewrite no
        notify-keyspace-events ""
        oom-score-adj no
        oom-score-adj-values 0 200 800
        pidfile ""
        port 6379
        proc-title-template "{title} {listen-addr} {server-mode}"
        propagation-error-behavior ignore
        protected-mode yes
        proto-max-bulk-len 536870912
        rdb-del-sync-files no
        rdb-save-incremental-fsync yes
        rdbchecksum yes
        rdbcompression yes
        repl-backlog-size 1048576
        repl-backlog-ttl 3600
        repl-disable-tcp-nodelay no
        repl-diskless-load disabled
        repl-diskless-sync yes
        repl-diskless-sync-delay 5
        repl-diskless-sync-max-replicas 0
        repl-ping-replica-period 10
        repl-ping-slave-period 10
        repl-timeout 60
        replica-announce-ip ""
        replica-announce-port 0
        replica-announced yes
        replica-ignore-disk-write-errors no
        replica-ignore-maxmemory yes
        replica-lazy-flush no
        replica-priority 100
        replica-read-only yes
        replica-serve-stale-data yes
        replicaof no one
        requirepass ""
        sanitize-dump-payload no
        save 3600 1 300 100 60 10000
        server-cpulist ""
        server_cpulist ""
        set-max-intset-entries 512
        set-max-listpack-entries 128
        set-max-listpack-value 64
        set-proc-title yes
        shutdown-on-sigint default
        shutdown-on-sigterm default
        shutdown-timeout 10
        slave-announce-ip ""
        slave-announce-port 0
        slave-ignore-maxmemory yes
        slave-lazy-flush no
        slave-priority 100
        slave-read-only yes
        slave-serve-stale-data yes
        slaveof no one
        slowlog-log-slower-than 10000
        slowlog-max-len 128
        socket-mark-id 0
        stop-writes-on-bgsave-error yes
        stream-node-max-bytes 4096
        stream-node-max-entries 100
        supervised no
        syslog-enabled no
        syslog-facility local0
        syslog-ident redis
        tcp-backlog 511
        tcp-keepalive 300
        timeout 0
        tls-auth-clients yes
        tls-ca-cert-dir ""
        tls-ca-cert-file ""
        tls-cert-file ""
        tls-ciphers ""
        tls-ciphersuites ""
        tls-client-cert-file ""
        tls-client-key-file ""
        tls-client-key-file-pass ""
        tls-cluster no
        tls-dh-params-file ""
        tls-key-file ""
        tls-key-file-pass ""
        tls-port 0
        tls-prefer-server-ciphers no
        tls-protocols ""
        tls-replication no
        tls-session-cache-size 20480
        tls-session-cache-timeout 300
        tls-session-caching yes
        tracking-table-max-keys 1000000
        unixsocket ""
        unixsocketperm 0
        zset-max-listpack-entries 128
        zset-max-listpack-value 64
        zset-max-ziplist-entries 128
        zset-max-ziplist-value 64
        aof-disable-auto-gc no
        key-load-delay 0
        loading-process-events-interval-bytes 2097152
        rdb-key-save-delay 0
        use-exit-on-panic no
        watchdog-period 0
        lua-replicate-commands yes
        list-max-ziplist-entries 512
        list-max-ziplist-value 64
        rename-command KEYS ""
        user default on nopass ~* &* +@all
        loadmodule /usr/lib/redis/modules/none.so
        """;

    [Fact]
    public void EveryRedis74Directive_IsAcceptedOrIgnoredWithAWarning_NeverBadDirective()
    {
        var failures = new List<string>();
        var lines = Redis74Directives.Split('\n');
        foreach (var line in lines)
        {
            var loader = new ConfigLoader(new ServerOptions());
            if (!loader.LoadString(line.Replace("dir .", $"dir {_dir}", StringComparison.Ordinal), origin: null)) failures.Add(loader.Error!);
            failures.AddRange(loader.Warnings.Where(w => !w.StartsWith("Ignoring directive '", StringComparison.Ordinal)));
        }

        Assert.True(lines.Length > 200, $"{lines.Length} directives");
        Assert.Empty(failures);
    }

    [Theory]
    [InlineData("hide-user-data-from-log yes")]
    [InlineData("max-new-connections-per-cycle 20")]
    [InlineData("locale-collate C")]
    [InlineData("server-cpulist 0-1")]
    public void Redis72And74Directive_SetToANonDefaultValue_IsOneWarning(string line)
    {
        var loader = new ConfigLoader(new ServerOptions());

        Assert.True(loader.LoadString(line, origin: null), loader.Error);
        Assert.Equal([$"Ignoring directive '{line.Split(' ')[0]}' at line 1 ('{line}'): not implemented by StreamServer"], loader.Warnings);
    }

    [RequiresStockRedisConfFact]
    public void DebianStockRedisConf_StartsWithOnlyItsPathsOverridden()
    {
        const string stock = RequiresStockRedisConfFactAttribute.Path;

        var (options, loader, ok) = Load([stock, "--dir", _dir, "--logfile", ""]);

        Assert.True(ok, loader.Error);
        Assert.Equal(["127.0.0.1", "-::1"], options.Bind);
        Assert.True(options.ProtectedMode);
        Assert.Equal("", options.LogFile);
        Assert.Contains(loader.Warnings, w => w.StartsWith("Ignoring directive 'daemonize' at line ", StringComparison.Ordinal));
        Assert.DoesNotContain(loader.Warnings, w => w.Contains("'port'", StringComparison.Ordinal) || w.Contains("'bind'", StringComparison.Ordinal));
    }
}
