using BenchmarkDotNet.Attributes;
using StreamServer.Storage.Streams;
using Stream = StreamServer.Storage.Streams.Stream;

namespace StreamServer.Benchmarks;

/// <summary>
/// Stream storage hot paths: XADD-like appends and XRANGE/XREVRANGE-like walks of 10 and 100 entries from
/// the middle of a stream of <see cref="Entries"/> entries (<c>user 1234 amount 42</c>, default node limits).
/// Range walks touch every field and value, as a reply writer would, and should allocate nothing.
/// </summary>
[MemoryDiagnoser]
public class StreamBenchmarks
{
    private static readonly ReadOnlyMemory<byte>[] Fields =
        ["user"u8.ToArray(), "1234"u8.ToArray(), "amount"u8.ToArray(), "42"u8.ToArray()];

    private Stream _stream = null!;
    private Stream _appendTarget = null!;
    private StreamId _middle;
    private ulong _nextMs;

    [Params(1_000, 100_000, 10_000_000)]
    public int Entries { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _stream = new Stream();
        for (var i = 0; i < Entries; i++) _stream.Append(new StreamId(1_700_000_000_000UL + (ulong)i, 0), Fields);
        _middle = new StreamId(1_700_000_000_000UL + (ulong)(Entries / 2), 0);
        _appendTarget = new Stream();
        _nextMs = 1;
    }

    [Benchmark]
    public StreamId Append()
    {
        var id = new StreamId(_nextMs++, 0);
        _appendTarget.Append(id, Fields);
        return id;
    }

    [Benchmark]
    public int Range10() => Walk(_stream.Range(_middle, StreamId.Max, 10));

    [Benchmark]
    public int Range100() => Walk(_stream.Range(_middle, StreamId.Max, 100));

    [Benchmark]
    public int ReverseRange10() => Walk(_stream.ReverseRange(StreamId.Min, _middle, 10));

    [Benchmark]
    public int ReverseRange100() => Walk(_stream.ReverseRange(StreamId.Min, _middle, 100));

    private static int Walk(StreamIterator iterator)
    {
        var bytes = 0;
        while (iterator.MoveNext())
        {
            var entry = iterator.Current;
            bytes += entry.FieldCount;
            var fields = entry.Fields;
            while (fields.MoveNext()) bytes += fields.Field.Length + fields.Value.Length;
        }
        return bytes;
    }
}
