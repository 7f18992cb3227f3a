using StreamServer.Embedded;
using static StreamServer.IntegrationTests.Persistence.AofTestSupport;

namespace StreamServer.IntegrationTests.Persistence;

public class AofTests
{
    private static async Task WriteSample(int port)
    {
        await using var c = await Connect(port);
        Assert.Equal("+OK\r\n", await c.Cmd("SET", "str", "hello"));
        Assert.Equal("+OK\r\n", await c.Cmd("SET", "ttl", "v", "EX", "1000"));
        Assert.Equal(":5\r\n", await c.Cmd("INCRBY", "counter", "5"));
        Assert.Equal("$3\r\n2.5\r\n", await c.Cmd("INCRBYFLOAT", "float", "2.5"));
        Assert.Equal(":3\r\n", await c.Cmd("SADD", "set", "a", "b", "c"));
        Assert.Equal(":1\r\n", await c.Cmd("SREM", "set", "c"));
        Assert.Equal(":2\r\n", await c.Cmd("HSET", "hash", "f1", "v1", "f2", "v2"));
        Assert.Equal("+OK\r\n", await c.Cmd("SELECT", "5"));
        Assert.Equal("+OK\r\n", await c.Cmd("MULTI"));
        Assert.Equal("+QUEUED\r\n", await c.Cmd("SET", "in5", "x"));
        Assert.Equal("+QUEUED\r\n", await c.Cmd("INCR", "n5"));
        Assert.Equal("*2\r\n+OK\r\n:1\r\n", await c.Cmd("EXEC"));
        Assert.Equal(":1\r\n", await c.Cmd("GETDEL", "in5") is "$1\r\nx\r\n" ? ":1\r\n" : "getdel failed");
    }

    private static async Task CheckSample(int port, int setSize = 2)
    {
        await using var c = await Connect(port);
        Assert.Equal("$5\r\nhello\r\n", await c.Cmd("GET", "str"));
        Assert.Equal("$1\r\nv\r\n", await c.Cmd("GET", "ttl"));
        var ttl = int.Parse((await c.Cmd("TTL", "ttl"))[1..^2], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(ttl, 900, 1000);
        Assert.Equal("$1\r\n5\r\n", await c.Cmd("GET", "counter"));
        Assert.Equal("$3\r\n2.5\r\n", await c.Cmd("GET", "float"));
        Assert.Equal($":{setSize}\r\n", await c.Cmd("SCARD", "set"));
        Assert.Equal(":1\r\n", await c.Cmd("SISMEMBER", "set", "a"));
        Assert.Equal("$2\r\nv2\r\n", await c.Cmd("HGET", "hash", "f2"));
        Assert.Equal("+OK\r\n", await c.Cmd("SELECT", "5"));
        Assert.Equal("$-1\r\n", await c.Cmd("GET", "in5"));
        Assert.Equal("$1\r\n1\r\n", await c.Cmd("GET", "n5"));
    }

    [Fact]
    public async Task AppendOnly_Restart_DataIsPresent()
    {
        var dir = NewTempDir();
        await using (var server = await EmbeddedServer.StartAsync(Options(dir)))
        {
            await WriteSample(server.Port);
        }
        Assert.True(File.Exists(Path.Combine(dir, "appendonlydir", "appendonly.aof.manifest")));
        await using (var server = await EmbeddedServer.StartAsync(Options(dir)))
        {
            await CheckSample(server.Port);
        }
        Directory.Delete(dir, true);
    }

    /// <summary>
    /// Redis does not expire keys while it loads the AOF: a replayed PEXPIREAT whose time has passed sets it rather than
    /// deleting the key, so the PERSIST that followed it keeps the key, as it did when the commands first ran. Keys
    /// whose time has passed are gone once loading is over.
    /// </summary>
    [Fact]
    public async Task ReplayedExpiryThatHasPassed_DoesNotDeleteWhileLoading()
    {
        var dir = NewTempDir();
        await using (var server = await EmbeddedServer.StartAsync(Options(dir)))
        {
            await using var c = await Connect(server.Port);
            Assert.Equal("+OK\r\n", await c.Cmd("SET", "kept", "v"));
            Assert.Equal(":1\r\n", await c.Cmd("PEXPIRE", "kept", "1000"));  // in the AOF as PEXPIREAT
            Assert.Equal(":1\r\n", await c.Cmd("PERSIST", "kept"));
            Assert.Equal("+OK\r\n", await c.Cmd("SET", "gone", "v", "PX", "1000"));
            Assert.Equal("+OK\r\n", await c.Cmd("SET", "later", "v"));
            Assert.Equal(":1\r\n", await c.Cmd("PEXPIRE", "later", "1000"));
        }
        await Task.Delay(1300); // every time set above has passed before the restart
        await using (var server = await EmbeddedServer.StartAsync(Options(dir)))
        {
            await using var c = await Connect(server.Port);
            Assert.Equal("$1\r\nv\r\n", await c.Cmd("GET", "kept"));
            Assert.Equal(":-1\r\n", await c.Cmd("PTTL", "kept"));
            Assert.Equal("$-1\r\n", await c.Cmd("GET", "gone"));
            Assert.Equal("$-1\r\n", await c.Cmd("GET", "later"));
        }
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task BgRewriteAof_NewBase_OldFilesRemoved_RestartHasData()
    {
        var dir = NewTempDir();
        var appendDir = Path.Combine(dir, "appendonlydir");
        await using (var server = await EmbeddedServer.StartAsync(Options(dir, "everysec")))
        {
            await WriteSample(server.Port);
            await using var c = await Connect(server.Port);
            for (var i = 0; i < 2000; i++) await c.Cmd("SADD", "big", "m" + i);
            var rewrite = c.Cmd("BGREWRITEAOF");
            Assert.Equal("+Background append only file rewriting started\r\n", await rewrite);
            // Writes during the rewrite, including in-place changes to values the snapshot holds.
            for (var i = 0; i < 200; i++) await c.Cmd("SADD", "big", "late" + i);
            await c.Cmd("INCRBY", "counter", "10");
            await c.Cmd("INCRBY", "counter", "-10");
            for (var tries = 0; tries < 100 && (await c.Cmd("INFO", "persistence")).Contains("aof_rewrite_in_progress:1", StringComparison.Ordinal); tries++)
                await Task.Delay(50);
            await c.Cmd("SADD", "big", "after");
            await Task.Delay(300);
            var manifest = await File.ReadAllTextAsync(Path.Combine(appendDir, "appendonly.aof.manifest"));
            Assert.Equal("file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n", manifest);
            Assert.False(File.Exists(Path.Combine(appendDir, "appendonly.aof.1.base.aof")));
            Assert.False(File.Exists(Path.Combine(appendDir, "appendonly.aof.1.incr.aof")));
        }
        var check = Run("redis-check-aof", Path.Combine(appendDir, "appendonly.aof.manifest"));
        Assert.Contains("All AOF files and manifest are valid", check.Output, StringComparison.Ordinal);
        await using (var server = await EmbeddedServer.StartAsync(Options(dir)))
        {
            await CheckSample(server.Port);
            await using var c = await Connect(server.Port);
            Assert.Equal(":2201\r\n", await c.Cmd("SCARD", "big"));
        }
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task ConfigSetAppendOnly_AtRunTime_WritesBaseFirst()
    {
        var dir = NewTempDir();
        var options = Options(dir);
        options.AppendOnly = false;
        await using (var server = await EmbeddedServer.StartAsync(options))
        {
            await WriteSample(server.Port);
            await using var c = await Connect(server.Port);
            Assert.Equal("-ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.\r\n", await c.Cmd("WAITAOF", "1", "0", "0"));
            Assert.Equal("+OK\r\n", await c.Cmd("CONFIG", "SET", "appendonly", "yes"));
            await c.Cmd("SET", "later", "1");
            Assert.Equal("*2\r\n:1\r\n:0\r\n", await c.Cmd("WAITAOF", "1", "0", "0"));
            for (var tries = 0; tries < 100 && !File.Exists(Path.Combine(dir, "appendonlydir", "appendonly.aof.manifest")); tries++) await Task.Delay(50);
        }
        await using (var server = await EmbeddedServer.StartAsync(Options(dir)))
        {
            await CheckSample(server.Port);
            await using var c = await Connect(server.Port);
            Assert.Equal("$1\r\n1\r\n", await c.Cmd("GET", "later"));
        }
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task RedisCheckAof_AndRedisServer_AcceptOurFiles_AndWeLoadTheirs()
    {
        var dir = NewTempDir();
        await using (var server = await EmbeddedServer.StartAsync(Options(dir)))
        {
            await WriteSample(server.Port);
        }
        var check = Run("redis-check-aof", Path.Combine(dir, "appendonlydir", "appendonly.aof.manifest"));
        Assert.True(check.ExitCode == 0, check.Output);
        Assert.Contains("All AOF files and manifest are valid", check.Output, StringComparison.Ordinal);

        // Redis loads our directory, writes more to it, and we load what it left.
        var port = FreePort();
        var started = Run("redis-server", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--dir", dir, "--appendonly", "yes",
            "--aof-use-rdb-preamble", "no", "--save", "", "--daemonize", "yes", "--logfile", Path.Combine(dir, "redis.log"));
        Assert.Equal(0, started.ExitCode);
        try
        {
            await WaitForPort(port, TimeSpan.FromSeconds(10));
            await Task.Delay(200);
            await CheckSample(port);
            await using var c = await Connect(port);
            Assert.Equal("+OK\r\n", await c.Cmd("SET", "from-redis", "yes"));
            Assert.Equal(":3\r\n", await c.Cmd("SADD", "set", "r1", "r2", "r3"));
            try { await c.Cmd("SHUTDOWN", "NOSAVE"); }
            catch (IOException) { } // the server closes the connection without a reply
        }
        catch
        {
            Run("redis-cli", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "shutdown", "nosave");
            throw;
        }
        await Task.Delay(300);
        await using (var server = await EmbeddedServer.StartAsync(Options(dir)))
        {
            await CheckSample(server.Port, setSize: 5);
            await using var c = await Connect(server.Port);
            Assert.Equal("$3\r\nyes\r\n", await c.Cmd("GET", "from-redis"));
        }
        Directory.Delete(dir, true);
    }
}

public class AofWriteErrorTests
{
    [Fact]
    public async Task WriteError_RefusesWritesWithMisconf_UntilTheDiskRecovers()
    {
        var dir = NewTempDir();
        await using (var server = await EmbeddedServer.StartAsync(Options(dir, "everysec")))
        {
            await using var c = await Connect(server.Port);
            var writer = server.Runtime.Aof.Writer!;
            writer.FailWritesForTests = true;
            Assert.Equal("+OK\r\n", await c.Cmd("SET", "a", "1")); // accepted before the writer noticed
            for (var i = 0; i < 100 && writer.LastError is null; i++) await Task.Delay(10);
            Assert.Equal("-MISCONF Errors writing to the AOF file: No space left on device\r\n", await c.Cmd("SET", "b", "1"));
            Assert.Equal("-MISCONF Errors writing to the AOF file: No space left on device\r\n", await c.Cmd("PING"));
            Assert.Equal("$1\r\n1\r\n", await c.Cmd("GET", "a")); // reads still work
            await Task.Delay(200);
            Assert.Contains("aof_last_write_status:err", await c.Cmd("INFO", "persistence"), StringComparison.Ordinal);
            writer.FailWritesForTests = false;
            for (var i = 0; i < 300 && writer.LastError is not null; i++) await Task.Delay(10);
            Assert.Equal("+OK\r\n", await c.Cmd("SET", "b", "2"));
        }
        await using (var server = await EmbeddedServer.StartAsync(Options(dir)))
        {
            await using var c = await Connect(server.Port);
            Assert.Equal("$1\r\n1\r\n", await c.Cmd("GET", "a")); // kept and written on the retry
            Assert.Equal("$1\r\n2\r\n", await c.Cmd("GET", "b"));
        }
        Directory.Delete(dir, true);
    }
}

public class AofUpgradeTests
{
    [Fact]
    public async Task OldStyleSingleFile_IsMigratedIntoTheAofDirectory()
    {
        var dir = NewTempDir();
        await File.WriteAllTextAsync(Path.Combine(dir, "appendonly.aof"), "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$3\r\nold\r\n$3\r\nyes\r\n");
        await using (var server = await EmbeddedServer.StartAsync(Options(dir)))
        {
            await using var c = await Connect(server.Port);
            Assert.Equal("$3\r\nyes\r\n", await c.Cmd("GET", "old"));
            await c.Cmd("SET", "new", "1");
        }
        Assert.False(File.Exists(Path.Combine(dir, "appendonly.aof")));
        Assert.Equal("file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
            await File.ReadAllTextAsync(Path.Combine(dir, "appendonlydir", "appendonly.aof.manifest")));
        await using (var server = await EmbeddedServer.StartAsync(Options(dir)))
        {
            await using var c = await Connect(server.Port);
            Assert.Equal("$3\r\nyes\r\n", await c.Cmd("GET", "old"));
            Assert.Equal("$1\r\n1\r\n", await c.Cmd("GET", "new"));
        }
        Directory.Delete(dir, true);
    }
}

public class RedisNativeAofTests
{
    [Fact]
    public async Task AofDirectoryWrittenAndRewrittenByRedis_LoadsWithTheSameData()
    {
        var dir = NewTempDir();
        var port = FreePort();
        var portText = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var started = Run("redis-server", "--port", portText, "--dir", dir, "--appendonly", "yes", "--aof-use-rdb-preamble", "no",
            "--save", "", "--daemonize", "yes", "--logfile", Path.Combine(dir, "redis.log"));
        Assert.Equal(0, started.ExitCode);
        try
        {
            await WaitForPort(port, TimeSpan.FromSeconds(10));
            await using var c = await Connect(port);
            for (var tries = 0; tries < 100 && (await c.Cmd("PING")).StartsWith("-LOADING", StringComparison.Ordinal); tries++) await Task.Delay(20);
            Assert.Equal("+OK\r\n", await c.Cmd("SET", "s", "before"));
            Assert.Equal(":3\r\n", await c.Cmd("SADD", "set", "a", "b", "c"));
            Assert.Equal(":2\r\n", await c.Cmd("HSET", "h", "f1", "v1", "f2", "v2"));
            Assert.Equal("+OK\r\n", await c.Cmd("SET", "t", "v", "EX", "1000"));
            Assert.Equal(":7\r\n", await c.Cmd("INCRBY", "n", "7"));
            Assert.Equal("+OK\r\n", await c.Cmd("SELECT", "2"));
            Assert.Equal("+OK\r\n", await c.Cmd("SET", "db2", "x"));
            Assert.StartsWith("+Background append only file rewriting", await c.Cmd("BGREWRITEAOF"), StringComparison.Ordinal);
            for (var tries = 0; tries < 200 && (await c.Cmd("INFO", "persistence")).Contains("aof_rewrite_in_progress:1", StringComparison.Ordinal); tries++)
                await Task.Delay(50);
            await Task.Delay(200);
            Assert.Equal(":1\r\n", await c.Cmd("INCR", "after-rewrite"));
            Assert.Equal("+OK\r\n", await c.Cmd("SELECT", "0"));
            Assert.Equal(":1\r\n", await c.Cmd("SREM", "set", "b"));
            try { await c.Cmd("SHUTDOWN"); }
            catch (IOException) { }
        }
        catch
        {
            Run("redis-cli", "-p", portText, "shutdown", "nosave");
            throw;
        }
        await Task.Delay(300);
        Assert.Contains("seq 2 type b", await File.ReadAllTextAsync(Path.Combine(dir, "appendonlydir", "appendonly.aof.manifest")), StringComparison.Ordinal);
        await using (var server = await StreamServer.Embedded.EmbeddedServer.StartAsync(Options(dir)))
        {
            await using var c = await Connect(server.Port);
            Assert.Equal("$6\r\nbefore\r\n", await c.Cmd("GET", "s"));
            Assert.Equal(":2\r\n", await c.Cmd("SCARD", "set"));
            Assert.Equal(":0\r\n", await c.Cmd("SISMEMBER", "set", "b"));
            Assert.Equal("$2\r\nv2\r\n", await c.Cmd("HGET", "h", "f2"));
            var ttl = int.Parse((await c.Cmd("TTL", "t"))[1..^2], System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(ttl, 900, 1000);
            Assert.Equal("$1\r\n7\r\n", await c.Cmd("GET", "n"));
            Assert.Equal("+OK\r\n", await c.Cmd("SELECT", "2"));
            Assert.Equal("$1\r\nx\r\n", await c.Cmd("GET", "db2"));
            Assert.Equal("$1\r\n1\r\n", await c.Cmd("GET", "after-rewrite"));
        }
        Directory.Delete(dir, true);
    }
}

public class AofFsyncPolicyTests
{
    [Theory]
    [InlineData("always")]
    [InlineData("everysec")]
    [InlineData("no")]
    public async Task EachPolicy_KeepsDataAcrossRestart_AndSwitchesAtRunTime(string policy)
    {
        var dir = NewTempDir();
        await using (var server = await EmbeddedServer.StartAsync(Options(dir, policy)))
        {
            await using var c = await Connect(server.Port);
            Assert.Equal("+OK\r\n", await c.Cmd("SET", "k", policy));
            Assert.Equal("*2\r\n:1\r\n:0\r\n", await c.Cmd("WAITAOF", "1", "0", "0")); // held until the fsync covers the SET
            Assert.True(server.Runtime.Aof.Writer!.SyncedOffset >= server.Runtime.Aof.Writer.AppendedOffset);
            Assert.Equal("+OK\r\n", await c.Cmd("CONFIG", "SET", "appendfsync", policy == "always" ? "no" : "always"));
            Assert.Equal(":1\r\n", await c.Cmd("INCR", "n"));
            Assert.Equal(":0\r\n", await c.Cmd("WAIT", "0", "0"));
        }
        await using (var server = await EmbeddedServer.StartAsync(Options(dir)))
        {
            await using var c = await Connect(server.Port);
            Assert.Equal($"${policy.Length}\r\n{policy}\r\n", await c.Cmd("GET", "k"));
            Assert.Equal("$1\r\n1\r\n", await c.Cmd("GET", "n"));
        }
        Directory.Delete(dir, true);
    }
}

public class AofRewriteScheduleTests
{
    [Fact]
    public async Task BgRewriteAof_InsideExec_IsScheduled_ThenRunsOutsideTheTransaction()
    {
        var dir = NewTempDir();
        await using (var server = await EmbeddedServer.StartAsync(Options(dir)))
        {
            await using var c = await Connect(server.Port);
            Assert.Equal("+OK\r\n", await c.Cmd("SET", "a", "1"));
            Assert.Equal("+OK\r\n", await c.Cmd("MULTI"));
            Assert.Equal("+QUEUED\r\n", await c.Cmd("SET", "b", "2"));
            Assert.Equal("+QUEUED\r\n", await c.Cmd("BGREWRITEAOF"));
            Assert.Equal("+QUEUED\r\n", await c.Cmd("INFO", "persistence"));
            Assert.Equal("+QUEUED\r\n", await c.Cmd("SET", "c", "3"));
            var exec = await c.Cmd("EXEC");
            Assert.StartsWith("*4\r\n+OK\r\n+Background append only file rewriting scheduled\r\n$", exec, StringComparison.Ordinal);
            Assert.EndsWith("\r\n+OK\r\n", exec, StringComparison.Ordinal);
            Assert.Contains("aof_rewrite_in_progress:0\r\naof_rewrite_scheduled:1\r\n", exec, StringComparison.Ordinal);
            string info;
            var tries = 0;
            do
            {
                await Task.Delay(50);
                info = await c.Cmd("INFO", "persistence");
            }
            while (++tries < 200 && !(info.Contains("aof_rewrites:1\r\n", StringComparison.Ordinal) && info.Contains("aof_rewrite_in_progress:0\r\n", StringComparison.Ordinal)));
            Assert.Contains("aof_rewrite_scheduled:0\r\n", info, StringComparison.Ordinal);
            Assert.Contains("aof_last_bgrewrite_status:ok\r\n", info, StringComparison.Ordinal);
            Assert.Equal("+OK\r\n", await c.Cmd("SET", "d", "4"));
        }
        var check = Run("redis-check-aof", Path.Combine(dir, "appendonlydir", "appendonly.aof.manifest"));
        Assert.Contains("All AOF files and manifest are valid", check.Output, StringComparison.Ordinal);
        await using (var server = await EmbeddedServer.StartAsync(Options(dir)))
        {
            await using var c = await Connect(server.Port);
            Assert.Equal("*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n", await c.Cmd("MGET", "a", "b", "c", "d"));
        }
        Directory.Delete(dir, true);
    }
}
