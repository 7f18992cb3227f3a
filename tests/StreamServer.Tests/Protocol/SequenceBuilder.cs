using System.Buffers;

namespace StreamServer.Tests.Protocol;

/// <summary>Builds a ReadOnlySequence from several segments, to test frames split across buffer boundaries.</summary>
internal sealed class Segment : ReadOnlySequenceSegment<byte>
{
    public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

    public Segment Append(ReadOnlyMemory<byte> memory)
    {
        var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
        Next = next;
        return next;
    }

    public static ReadOnlySequence<byte> Split(byte[] data, params int[] cuts)
    {
        var points = cuts.Where(c => c > 0 && c < data.Length).Distinct().Order().ToList();
        if (points.Count == 0) return new ReadOnlySequence<byte>(data);
        var first = new Segment(data.AsMemory(0, points[0]));
        var last = first;
        for (var i = 0; i < points.Count; i++)
        {
            var end = i + 1 < points.Count ? points[i + 1] : data.Length;
            last = last.Append(data.AsMemory(points[i], end - points[i]));
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
