using System.Diagnostics;
using System.Text;
using StreamServer.Embedded;
using static StreamServer.IntegrationTests.Persistence.AofTestSupport;

namespace StreamServer.IntegrationTests.Persistence;

/// <summary>WAITAOF numlocal numreplicas timeout, as Redis 7.2's waitaofCommand, and WAIT (there are no replicas).</summary>
public class WaitAofTests
{
    private const string Disabled = "-ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.\r\n";

    /// <summary>Sends a command that must block (no reply within 300 ms); returns its reply to come, as text.</summary>
    private static async Task<Task<string>> SendBlocked(Conformance.RespConnection c, params string[] args)
    {
        await c.SendRawAsync(Conformance.RespConnection.Encode([.. args.Select(Encoding.UTF8.GetBytes)]), CancellationToken.None);
        var reply = c.ReadReplyAsync(CancellationToken.None);
        await Task.Delay(300);
        Assert.False(reply.IsCompleted, $"{string.Join(' ', args)} answered with no replica");
        return ReplyText(reply);

        static async Task<string> ReplyText(Task<byte[]> reply) => Encoding.UTF8.GetString(await reply);
    }

    [Fact]
    public async Task WaitAof_BadArguments_ParsedInRedisOrder_BeforeTheAppendOnlyCheck()
    {
        var options = Options(NewTempDir());
        options.AppendOnly = false;
        await using var server = await EmbeddedServer.StartAsync(options);
        await using var c = await Connect(server.Port);
        Assert.Equal("-ERR value is not an integer or out of range\r\n", await c.Cmd("WAITAOF", "abc", "0", "0"));
        Assert.Equal("-ERR value is out of range, value must between 0 and 1\r\n", await c.Cmd("WAITAOF", "2", "0", "0"));
        Assert.Equal("-ERR value is out of range, value must between 0 and 1\r\n", await c.Cmd("WAITAOF", "-1", "0", "0"));
        Assert.Equal("-ERR value is out of range, must be positive\r\n", await c.Cmd("WAITAOF", "1", "abc", "0"));
        Assert.Equal("-ERR value is out of range, must be positive\r\n", await c.Cmd("WAITAOF", "0", "-1", "0"));
        Assert.Equal("-ERR timeout is not an integer or out of range\r\n", await c.Cmd("WAITAOF", "1", "0", "abc"));
        Assert.Equal("-ERR timeout is negative\r\n", await c.Cmd("WAITAOF", "1", "0", "-1"));
        Assert.Equal("-ERR timeout is out of range\r\n", await c.Cmd("WAITAOF", "0", "0", long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal("-ERR wrong number of arguments for 'waitaof' command\r\n", await c.Cmd("WAITAOF", "0", "0"));
    }

    [Fact]
    public async Task WaitAof_AppendOnlyOff_NumLocalIsAnError_NumLocalZeroAnswersZeroZero()
    {
        var options = Options(NewTempDir());
        options.AppendOnly = false;
        await using var server = await EmbeddedServer.StartAsync(options);
        await using var c = await Connect(server.Port);
        Assert.Equal("+OK\r\n", await c.Cmd("SET", "k", "v"));
        Assert.Equal(Disabled, await c.Cmd("WAITAOF", "1", "0", "0"));
        Assert.Equal("*2\r\n:0\r\n:0\r\n", await c.Cmd("WAITAOF", "0", "0", "0"));
    }

    [Fact]
    public async Task WaitAof_NumLocal_AnswersOnceTheFsyncCoversTheClientsWrites()
    {
        await using var server = await EmbeddedServer.StartAsync(Options(NewTempDir(), "everysec"));
        await using var c = await Connect(server.Port);
        Assert.Equal("*2\r\n:1\r\n:0\r\n", await c.Cmd("WAITAOF", "0", "0", "0")); // nothing written yet: covered
        Assert.Equal("+OK\r\n", await c.Cmd("SET", "k", "v"));
        // everysec: without WAITAOF the fsync could be a second away; WAITAOF asks for it and answers when it is done.
        Assert.Equal("*2\r\n:1\r\n:0\r\n", await c.Cmd("WAITAOF", "1", "0", "0"));
        var writer = server.Runtime.Aof.Writer!;
        Assert.True(writer.SyncedOffset >= writer.AppendedOffset);
    }

    [Fact]
    public async Task WaitAof_FsyncNotReached_AnswersZeroZeroAfterTheTimeout()
    {
        await using var server = await EmbeddedServer.StartAsync(Options(NewTempDir(), "everysec"));
        await using var c = await Connect(server.Port);
        var writer = server.Runtime.Aof.Writer!;
        writer.FailWritesForTests = true; // the SET's bytes never reach the disk while this holds
        Assert.Equal("+OK\r\n", await c.Cmd("SET", "k", "v"));
        var clock = Stopwatch.StartNew();
        Assert.Equal("*2\r\n:0\r\n:0\r\n", await c.Cmd("WAITAOF", "1", "0", "200"));
        Assert.True(clock.ElapsedMilliseconds >= 190, $"answered after {clock.ElapsedMilliseconds} ms, before the timeout");
        // Inside MULTI it does not block: it answers what is reached now.
        Assert.Equal("+OK\r\n", await c.Cmd("MULTI"));
        Assert.Equal("+QUEUED\r\n", await c.Cmd("WAITAOF", "1", "0", "0"));
        Assert.Equal("*1\r\n*2\r\n:0\r\n:0\r\n", await c.Cmd("EXEC"));
        writer.FailWritesForTests = false; // the writer retries within a second
        Assert.Equal("*2\r\n:1\r\n:0\r\n", await c.Cmd("WAITAOF", "1", "0", "5000"));
    }

    [Fact]
    public async Task WaitAof_NumReplicas_WaitsOutTheTimeout_ThenReportsNoReplica()
    {
        await using var server = await EmbeddedServer.StartAsync(Options(NewTempDir(), "always"));
        await using var c = await Connect(server.Port);
        Assert.Equal("+OK\r\n", await c.Cmd("SET", "k", "v"));
        var clock = Stopwatch.StartNew();
        Assert.Equal("*2\r\n:1\r\n:0\r\n", await c.Cmd("WAITAOF", "1", "1", "150"));
        Assert.True(clock.ElapsedMilliseconds >= 140, $"answered after {clock.ElapsedMilliseconds} ms, before the timeout");
        Assert.Equal("*2\r\n:1\r\n:0\r\n", await c.Cmd("WAITAOF", "0", "1", "50"));
        // Inside MULTI it answers at once.
        Assert.Equal("+OK\r\n", await c.Cmd("MULTI"));
        Assert.Equal("+QUEUED\r\n", await c.Cmd("SET", "k", "w"));
        Assert.Equal("+QUEUED\r\n", await c.Cmd("WAITAOF", "1", "1", "0"));
        Assert.Equal("*2\r\n+OK\r\n*2\r\n:1\r\n:0\r\n", await c.Cmd("EXEC"));
    }

    [Fact]
    public async Task WaitAof_TimeoutZero_BlocksUntilUnblocked()
    {
        await using var server = await EmbeddedServer.StartAsync(Options(NewTempDir(), "always"));
        await using var c = await Connect(server.Port);
        await using var other = await Connect(server.Port);
        var id = (await c.Cmd("CLIENT", "ID"))[1..^2];
        var reply = await SendBlocked(c, "WAITAOF", "1", "1", "0");
        Assert.Equal(":1\r\n", await other.Cmd("CLIENT", "UNBLOCK", id));
        Assert.Equal("*2\r\n:1\r\n:0\r\n", await reply);
    }

    [Fact]
    public async Task WaitAof_Blocked_WhenAppendOnlyIsTurnedOff_GetsTheDisabledError()
    {
        await using var server = await EmbeddedServer.StartAsync(Options(NewTempDir(), "always"));
        await using var c = await Connect(server.Port);
        await using var other = await Connect(server.Port);
        var reply = await SendBlocked(c, "WAITAOF", "1", "1", "0");
        Assert.Equal("+OK\r\n", await other.Cmd("CONFIG", "SET", "appendonly", "no"));
        Assert.Equal(Disabled, await reply);
        Assert.Equal("+PONG\r\n", await c.Cmd("PING"));
    }

    [Fact]
    public async Task Wait_NumReplicas_WaitsOutTheTimeout_ZeroBlocksUntilUnblocked_MultiAnswersAtOnce()
    {
        await using var server = await EmbeddedServer.StartAsync(Options(NewTempDir(), "always"));
        await using var c = await Connect(server.Port);
        await using var other = await Connect(server.Port);
        Assert.Equal(":0\r\n", await c.Cmd("WAIT", "0", "0"));
        var clock = Stopwatch.StartNew();
        Assert.Equal(":0\r\n", await c.Cmd("WAIT", "1", "150"));
        Assert.True(clock.ElapsedMilliseconds >= 140, $"answered after {clock.ElapsedMilliseconds} ms, before the timeout");
        Assert.Equal("+OK\r\n", await c.Cmd("MULTI"));
        Assert.Equal("+QUEUED\r\n", await c.Cmd("WAIT", "1", "0"));
        Assert.Equal("*1\r\n:0\r\n", await c.Cmd("EXEC"));
        var id = (await c.Cmd("CLIENT", "ID"))[1..^2];
        var reply = await SendBlocked(c, "WAIT", "1", "0");
        Assert.Equal(":1\r\n", await other.Cmd("CLIENT", "UNBLOCK", id));
        Assert.Equal(":0\r\n", await reply);
    }
}
