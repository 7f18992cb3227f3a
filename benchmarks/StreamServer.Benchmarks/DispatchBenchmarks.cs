using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;

namespace StreamServer.Benchmarks;

/// <summary>
/// Parsing and executing one pipelined batch of 100 requests (PING, SET, GET, INCR, XADD, XRANGE) as a connection
/// hands it to the dispatcher: parse into the client's request buffer, run every command, write every reply.
/// Figures are per command (OperationsPerInvoke = 100). Steady state allocates nothing per command; XADD allocates
/// what it stores, amortized over its 100-entry stream nodes (the node arrays and their share of the stream index),
/// plus about 1 B per entry of index arrays outgrown as the index grows. XADD_AOF is XADD with appendonly yes
/// (everysec): the propagated XADD with its generated id goes into the AOF buffer, one write() per batch of 100;
/// it allocates no more than XADD.
/// </summary>
[MemoryDiagnoser]
public class DispatchBenchmarks : IDisposable
{
    private InlineBatchRunner _runner = null!;
    private ReadOnlySequence<byte> _batch;

    [Params("PING", "SET", "GET", "INCR", "MIXED", "XADD", "XADD_AOF", "XRANGE10")]
    public string Workload { get; set; } = "MIXED";

    [GlobalSetup]
    public void Setup()
    {
        _runner = new InlineBatchRunner(Workload == "XADD_AOF" ? "everysec" : null);
        var sb = new StringBuilder();
        if (Workload == "XRANGE10")
        {
            // A 1,000-entry stream to read from (XRANGE COUNT 10 from the middle).
            var load = new StringBuilder();
            for (var i = 1; i <= 1000; i++) load.Append("*5\r\n$4\r\nXADD\r\n$1\r\nr\r\n$" + (i + "-1").Length + "\r\n" + i + "-1\r\n$2\r\nf1\r\n$2\r\nv1\r\n");
            _batch = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(load.ToString()));
            _runner.Run(_batch);
        }
        for (var i = 0; i < 100; i++)
        {
            var kind = Workload == "MIXED" ? (i % 4) switch { 0 => "PING", 1 => "SET", 2 => "GET", _ => "INCR" } : Workload;
            sb.Append(kind switch
            {
                "PING" => "*1\r\n$4\r\nPING\r\n",
                "SET" => "*3\r\n$3\r\nSET\r\n$7\r\nkey:" + (i % 10).ToString("000", System.Globalization.CultureInfo.InvariantCulture) + "\r\n$5\r\nvalue\r\n",
                "GET" => "*2\r\n$3\r\nGET\r\n$7\r\nkey:" + (i % 10).ToString("000", System.Globalization.CultureInfo.InvariantCulture) + "\r\n",
                "XADD" or "XADD_AOF" => "*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$2\r\nf1\r\n$2\r\nv1\r\n",
                "XRANGE10" => "*6\r\n$6\r\nXRANGE\r\n$1\r\nr\r\n$3\r\n500\r\n$1\r\n+\r\n$5\r\nCOUNT\r\n$2\r\n10\r\n",
                _ => "*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n",
            });
        }
        _batch = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(sb.ToString()));
        for (var i = 0; i < 1000; i++) _runner.Run(_batch); // warm the buffers and the keyspace
    }

    [Benchmark(OperationsPerInvoke = 100)]
    public int ParseAndExecute100() => _runner.Run(_batch);

    [GlobalCleanup]
    public void Dispose() => _runner.Dispose();


}
