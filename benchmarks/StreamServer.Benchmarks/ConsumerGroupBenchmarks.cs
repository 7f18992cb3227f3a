using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using StreamServer.Storage.Streams;
using Stream = StreamServer.Storage.Streams.Stream;

namespace StreamServer.Benchmarks;

/// <summary>
/// Consumer-group hot paths: a PEL insert and remove (what XREADGROUP &gt; and XACK do to both PELs per entry),
/// and the consumer loop through the dispatcher — one batch of <c>XREADGROUP GROUP g c COUNT 10 STREAMS s &gt;</c>
/// plus <c>XACK s g</c> of those 10 ids, parsed, run and replied (figures per entry). Steady state allocates nothing.
/// </summary>
[MemoryDiagnoser]
public class ConsumerGroupBenchmarks
{
    private const int StreamEntries = 100_000;
    private static readonly ReadOnlyMemory<byte>[] Fields = ["f1"u8.ToArray(), "v1"u8.ToArray()];

    private Stream _stream = null!;
    private ConsumerGroup _group = null!;
    private Consumer _consumer = null!;
    private ulong _next;

    private readonly InlineBatchRunner _runner = new();
    private ReadOnlySequence<byte>[] _loopBatches = [];
    private ReadOnlySequence<byte> _rewind;
    private int _batch;

    [GlobalSetup]
    public void Setup()
    {
        _stream = new Stream();
        for (var i = 1; i <= StreamEntries; i++) _stream.Append(new StreamId((ulong)i, 1), Fields);
        _group = _stream.Groups.TryCreate("g"u8, StreamId.Min, 0)!;
        _consumer = _group.GetOrCreateConsumer("c"u8, 0, out _);
        _next = 1;

        var load = new StringBuilder();
        for (var i = 1; i <= StreamEntries; i++) load.Append(Command("XADD", "s", i + "-1", "f1", "v1"));
        load.Append(Command("XGROUP", "CREATE", "s", "g", "0"));
        _runner.Run(Encode(load.ToString()));
        // One batch per 10 entries: read the next 10, acknowledge them. After the last, the group is rewound.
        _loopBatches = new ReadOnlySequence<byte>[StreamEntries / 10];
        for (var b = 0; b < _loopBatches.Length; b++)
        {
            var ack = new List<string> { "XACK", "s", "g" };
            for (var i = 1; i <= 10; i++) ack.Add((b * 10 + i) + "-1");
            _loopBatches[b] = Encode(Command("XREADGROUP", "GROUP", "g", "c", "COUNT", "10", "STREAMS", "s", ">") + Command([.. ack]));
        }
        _rewind = Encode(Command("XGROUP", "SETID", "s", "g", "0"));
        for (var i = 0; i < 2 * _loopBatches.Length; i++) ReadAndAck10(); // warm the buffers
    }

    /// <summary>DeliverNew (into the group and consumer PELs) then Acknowledge (out of both) of one entry.</summary>
    [Benchmark]
    public bool PelInsertRemove()
    {
        var id = new StreamId(_next, 1);
        _next = _next == StreamEntries ? 1 : _next + 1;
        _group.DeliverNew(_stream, id, _consumer, 1, noAck: false);
        return _group.Acknowledge(id);
    }

    [Benchmark(OperationsPerInvoke = 10)]
    public int ReadAndAck10()
    {
        if (_batch == _loopBatches.Length)
        {
            _runner.Run(_rewind);
            _batch = 0;
        }
        return _runner.Run(_loopBatches[_batch++]);
    }


    private static ReadOnlySequence<byte> Encode(string text) => new(Encoding.ASCII.GetBytes(text));

    private static string Command(params string[] args)
    {
        var sb = new StringBuilder().Append('*').Append(args.Length).Append("\r\n");
        foreach (var a in args) sb.Append('$').Append(a.Length).Append("\r\n").Append(a).Append("\r\n");
        return sb.ToString();
    }

}
