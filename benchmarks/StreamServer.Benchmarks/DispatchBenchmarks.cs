using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using StreamServer.Configuration;
using StreamServer.Execution;
using StreamServer.Hosting;
using StreamServer.Protocol;

namespace StreamServer.Benchmarks;

/// <summary>
/// Parsing and executing one pipelined batch of 100 requests (PING, SET, GET, INCR) as a connection hands it to the
/// dispatcher: parse into the client's request buffer, run every command, write every reply. Per-operation figures
/// are per batch; divide by 100 for a command. Steady state must allocate nothing.
/// </summary>
[MemoryDiagnoser]
public class DispatchBenchmarks
{
    private ServerRuntime _runtime = null!;
    private ClientSession _client = null!;
    private ReadOnlySequence<byte> _batch;

    [Params("PING", "SET", "GET", "INCR", "MIXED")]
    public string Workload { get; set; } = "MIXED";

    [GlobalSetup]
    public void Setup()
    {
        _runtime = new ServerRuntime(new ServerOptions { Port = 0, Bind = ["127.0.0.1"] });
        _client = new ClientSession(1, new NullTransport(), 0) { Authenticated = true };
        var sb = new StringBuilder();
        for (var i = 0; i < 100; i++)
        {
            var kind = Workload == "MIXED" ? (i % 4) switch { 0 => "PING", 1 => "SET", 2 => "GET", _ => "INCR" } : Workload;
            sb.Append(kind switch
            {
                "PING" => "*1\r\n$4\r\nPING\r\n",
                "SET" => "*3\r\n$3\r\nSET\r\n$7\r\nkey:" + (i % 10).ToString("000", System.Globalization.CultureInfo.InvariantCulture) + "\r\n$5\r\nvalue\r\n",
                "GET" => "*2\r\n$3\r\nGET\r\n$7\r\nkey:" + (i % 10).ToString("000", System.Globalization.CultureInfo.InvariantCulture) + "\r\n",
                _ => "*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n",
            });
        }
        _batch = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(sb.ToString()));
        for (var i = 0; i < 1000; i++) Run(); // warm the buffers and the keyspace
    }

    [Benchmark(OperationsPerInvoke = 100)]
    public int ParseAndExecute100() => Run();

    private int Run()
    {
        _client.Requests.Clear();
        RespRequestReader.Parse(_batch, _client.Requests, ParserLimits.Default, out _, out _, out _, out _);
        _client.PrepareBatch();
        _runtime.Dispatcher.RunBatchInline(_client);
        var written = _client.Reply.Length;
        _client.Reply.Clear();
        return written;
    }

    private sealed class NullTransport : IClientTransport
    {
        public string RemoteEndPoint => "127.0.0.1:1";
        public string LocalEndPoint => "127.0.0.1:6379";
        public void RequestFlush() { }
        public void CloseAfterReply() { }
    }
}
