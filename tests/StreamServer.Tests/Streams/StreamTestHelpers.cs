using System.Text;
using StreamServer.Storage.Streams;
using Stream = StreamServer.Storage.Streams.Stream;

namespace StreamServer.Tests.Streams;

/// <summary>An entry copied out of a stream, for comparisons in tests.</summary>
internal sealed record Entry(StreamId Id, string[] FieldsAndValues)
{
    public override string ToString() => $"{Id} [{string.Join(", ", FieldsAndValues)}]";

    public bool Equals(Entry? other) => other is not null && Id == other.Id && FieldsAndValues.SequenceEqual(other.FieldsAndValues);

    public override int GetHashCode() => Id.GetHashCode();
}

internal static class StreamTestHelpers
{
    public static ReadOnlyMemory<byte>[] Fv(params string[] items)
        => items.Select(s => (ReadOnlyMemory<byte>)Encoding.Latin1.GetBytes(s)).ToArray();

    public static ReadOnlyMemory<byte>[] Fv(params byte[][] items)
        => items.Select(b => (ReadOnlyMemory<byte>)b).ToArray();

    /// <summary>Latin-1 keeps every byte value, so binary data round-trips through strings.</summary>
    public static string Text(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    public static List<Entry> ReadAll(StreamIterator iterator)
    {
        var result = new List<Entry>();
        while (iterator.MoveNext())
        {
            var entry = iterator.Current;
            var items = new List<string>();
            var fields = entry.Fields;
            while (fields.MoveNext())
            {
                items.Add(Text(fields.Field));
                items.Add(Text(fields.Value));
            }
            Assert.Equal(entry.FieldCount * 2, items.Count);
            result.Add(new Entry(entry.Id, items.ToArray()));
        }
        return result;
    }

    public static List<Entry> All(this Stream stream) => ReadAll(stream.Range(StreamId.Min, StreamId.Max));

    public static void Add(this Stream stream, StreamId id, params string[] fieldsAndValues)
        => Assert.Equal(StreamAddStatus.Ok, stream.Append(id, Fv(fieldsAndValues)));

    public static StreamId Id(ulong ms, ulong seq) => new(ms, seq);
}
