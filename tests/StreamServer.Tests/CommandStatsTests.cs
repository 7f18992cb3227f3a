using System.Buffers;
using System.Text;
using StreamServer.Configuration;
using StreamServer.Execution;
using StreamServer.Hosting;
using StreamServer.Protocol;

namespace StreamServer.Tests;

/// <summary>
/// INFO commandstats while consecutive calls of one command share their clock readings (Dispatcher's timed runs):
/// every call is counted, and INFO run in the same batch sees every call before it.
/// </summary>
public sealed class CommandStatsTests : IAsyncDisposable
{
    private readonly ServerRuntime _runtime = new(new ServerOptions { Port = 0, Bind = ["127.0.0.1"] });
    private readonly ClientSession _client = new(1, new NullTransport(), 0) { Authenticated = true };

    public ValueTask DisposeAsync() => _runtime.DisposeAsync();

    /// <summary>Runs the requests as one pipelined batch; returns every reply.</summary>
    private string RunBatch(params string[][] requests)
    {
        var sb = new StringBuilder();
        foreach (var request in requests)
        {
            sb.Append('*').Append(request.Length).Append("\r\n");
            foreach (var arg in request) sb.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        }
        _client.Requests.Clear();
        RespRequestReader.Parse(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(sb.ToString())), _client.Requests, ParserLimits.Default, out _, out _, out _, out _);
        _client.PrepareBatch();
        _runtime.Dispatcher.RunBatchInline(_client);
        var replies = Encoding.UTF8.GetString(_client.Reply.WrittenSpan);
        _client.Reply.Clear();
        return replies;
    }

    [Fact]
    public void PipelinedRuns_AreCountedCallByCall_BeforeInfoInTheSameBatch()
    {
        var replies = RunBatch(
            ["SET", "k", "1"], ["SET", "k", "2"], ["SET", "k", "3"],
            ["GET", "k"], ["GET", "k"],
            ["NOSUCHCOMMAND"],
            ["INCR", "k"],
            ["INFO", "commandstats"]);

        Assert.Contains("cmdstat_set:calls=3,", replies);
        Assert.Contains("cmdstat_get:calls=2,", replies);
        Assert.Contains("cmdstat_incr:calls=1,", replies);
        Assert.DoesNotContain("cmdstat_info", replies); // a call is counted once it has run, as in Redis
    }

    [Fact]
    public void InfoAfterInfo_SeesTheEarlierCall()
    {
        var replies = RunBatch(["INFO", "server"], ["INFO", "commandstats"]);
        Assert.Contains("cmdstat_info:calls=1,", replies);
    }

    [Fact]
    public void Exec_CountsItselfAndItsQueuedCommands()
    {
        var replies = RunBatch(
            ["SET", "k", "1"],
            ["MULTI"], ["INCR", "k"], ["INCR", "k"], ["GET", "k"], ["EXEC"],
            ["INCR", "k"],
            ["INFO", "commandstats"]);

        Assert.Contains("*3\r\n:2\r\n:3\r\n$1\r\n3\r\n", replies);
        Assert.Contains("cmdstat_set:calls=1,", replies);
        Assert.Contains("cmdstat_incr:calls=3,", replies);
        Assert.Contains("cmdstat_get:calls=1,", replies);
        Assert.Contains("cmdstat_multi:calls=1,", replies);
        Assert.Contains("cmdstat_exec:calls=1,", replies);
    }

    [Fact]
    public void TimesOfRuns_AreNeverNegative()
    {
        for (var i = 0; i < 50; i++) RunBatch(["PING"], ["PING"], ["SET", "k", "v"], ["SET", "k", "v"], ["PING"]);
        var stats = RunBatch(["INFO", "commandstats"]);
        Assert.Contains("cmdstat_ping:calls=150,", stats);
        Assert.Contains("cmdstat_set:calls=100,", stats);
        Assert.DoesNotContain("usec=-", stats);
    }

    private sealed class NullTransport : IClientTransport
    {
        public string RemoteEndPoint => "127.0.0.1:1";
        public string LocalEndPoint => "127.0.0.1:6379";
        public void RequestFlush() { }
        public void CloseAfterReply() { }
    }
}
