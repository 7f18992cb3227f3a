using BenchmarkDotNet.Attributes;
using StreamServer.Storage.Streams;

namespace StreamServer.Benchmarks;

/// <summary>
/// The radix tree under the stream index and the PELs. Keys are PEL-like: increasing ms, a few sequence numbers
/// each. Seeks are per operation (1,024 random probes per invocation); insert and remove are per whole tree of
/// <see cref="Keys"/> ids.
/// </summary>
[MemoryDiagnoser]
public class RadixTreeBenchmarks
{
    private const int Probes = 1024;
    private const ulong BaseMs = 1700000000000;

    private readonly object _value = new();
    private RadixTree<object> _tree = null!;
    private StreamId[] _ids = null!;
    private StreamId[] _probes = null!;

    [Params(1_000, 100_000, 1_000_000)]
    public int Keys { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ids = new StreamId[Keys];
        var random = new Random(42);
        var ms = BaseMs;
        for (var i = 0; i < Keys;)
        {
            ms += (ulong)random.Next(1, 4);
            var sameMs = random.Next(1, 4);
            for (ulong seq = 0; seq < (ulong)sameMs && i < Keys; seq++) _ids[i++] = new StreamId(ms, seq);
        }
        _tree = Build();
        _probes = new StreamId[Probes];
        for (var i = 0; i < Probes; i++)
        {
            var id = _ids[random.Next(Keys)];
            _probes[i] = i % 2 == 0 ? id : new StreamId(id.Ms, id.Seq + 7);
        }
    }

    [IterationSetup(Targets = [nameof(RemoveInOrder), nameof(RemoveRandomOrder)])]
    public void RebuildTree() => _tree = Build();

    [Benchmark(OperationsPerInvoke = Probes)]
    public int SeekCeiling()
    {
        var hits = 0;
        foreach (var probe in _probes)
        {
            if (_tree.SeekCeiling(probe, out _, out _)) hits++;
        }
        return hits;
    }

    [Benchmark(OperationsPerInvoke = Probes)]
    public int SeekFloor()
    {
        var hits = 0;
        foreach (var probe in _probes)
        {
            if (_tree.SeekFloor(probe, out _, out _)) hits++;
        }
        return hits;
    }

    [Benchmark(OperationsPerInvoke = Probes)]
    public int TryGetValue()
    {
        var hits = 0;
        foreach (var probe in _probes)
        {
            if (_tree.TryGetValue(probe, out _)) hits++;
        }
        return hits;
    }

    /// <summary>How callers iterate: next = SeekCeiling(previous + 1).</summary>
    [Benchmark(OperationsPerInvoke = Probes)]
    public ulong IterateBySeeking()
    {
        ulong sum = 0;
        var next = StreamId.Min;
        for (var i = 0; i < Probes && _tree.SeekCeiling(next, out var found, out _); i++)
        {
            sum += found.Seq;
            found.TryIncrement(out next);
        }
        return sum;
    }

    /// <summary>A whole tree of <see cref="Keys"/> ids appended in order, as XADD and XREADGROUP do.</summary>
    [Benchmark]
    public RadixTree<object> InsertSequential() => Build();

    /// <summary>The whole tree acknowledged oldest first, as XACK usually does.</summary>
    [Benchmark]
    public int RemoveInOrder()
    {
        foreach (var id in _ids) _tree.Remove(id, out _);
        return _tree.Count;
    }

    [Benchmark]
    public int RemoveRandomOrder()
    {
        // A prime stride that divides none of the sizes visits every id once, in scattered order.
        const int Stride = 7919;
        for (int i = 0, j = 0; i < Keys; i++, j = (j + Stride) % Keys) _tree.Remove(_ids[j], out _);
        return _tree.Count;
    }

    private RadixTree<object> Build()
    {
        var tree = new RadixTree<object>();
        foreach (var id in _ids) tree.TryAdd(id, _value);
        return tree;
    }
}
