using StreamServer.Storage.Streams;
using static StreamServer.Tests.Streams.StreamTestHelpers;
using Stream = StreamServer.Storage.Streams.Stream;

namespace StreamServer.Tests.Streams;

public class StreamNodeTests
{
    [Fact]
    public void Append_SameAndDifferentFields_RoundTripsInOrder()
    {
        var s = new Stream();
        s.Add(Id(1, 0), "user", "1234", "amount", "42");
        s.Add(Id(1, 1), "user", "1235", "amount", "43");         // same fields: values only
        s.Add(Id(5, 0), "amount", "1", "user", "2");             // same names, other order
        s.Add(Id(5, 7), "user", "x");                            // fewer fields
        s.Add(Id(9, 3), "user", "1", "amount", "2", "extra", "3");

        Assert.Equal(
            new[]
            {
                new Entry(Id(1, 0), ["user", "1234", "amount", "42"]),
                new Entry(Id(1, 1), ["user", "1235", "amount", "43"]),
                new Entry(Id(5, 0), ["amount", "1", "user", "2"]),
                new Entry(Id(5, 7), ["user", "x"]),
                new Entry(Id(9, 3), ["user", "1", "amount", "2", "extra", "3"]),
            },
            s.All());
        Assert.Equal(1, s.NodeCount);
        Assert.Equal(5, s.Length);
    }

    /// <summary>Only canonical non-negative integers are stored as numbers; every other string keeps its exact bytes.</summary>
    [Theory]
    [InlineData("0")]
    [InlineData("7")]
    [InlineData("1234")]
    [InlineData("9223372036854775807")]   // long.MaxValue: the largest stored as a number
    [InlineData("9223372036854775808")]   // one more: stored as a string
    [InlineData("18446744073709551615")]
    [InlineData("99999999999999999999")]
    [InlineData("00")]
    [InlineData("01")]
    [InlineData("-1")]
    [InlineData("-0")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("1.0")]
    [InlineData("")]
    public void IntegerLookingItems_RoundTripExactly(string item)
    {
        var s = new Stream();
        s.Add(Id(1, 0), "f", item, item, "v");              // master entry: the field name is the item
        s.Add(Id(1, 1), "f", item, item, item);             // same fields, value as the item
        s.Add(Id(2, 0), item, item);                        // own fields
        Assert.Equal(
            new[]
            {
                new Entry(Id(1, 0), ["f", item, item, "v"]),
                new Entry(Id(1, 1), ["f", item, item, item]),
                new Entry(Id(2, 0), [item, item]),
            },
            s.All());
        Assert.Equal(new Entry(Id(2, 0), [item, item]), ReadAll(s.ReverseRange(StreamId.Min, StreamId.Max))[0]);
    }

    /// <summary>
    /// The ms delta shares its varint with the flags; from 2^62 - 1 on it is an escape followed by the whole delta, so
    /// ids up to 2^64 ms apart share a node as in Redis's listpack (where a '~' trim would find one node).
    /// </summary>
    [Fact]
    public void HugeMsJump_StaysInTheNode_AndRoundTrips()
    {
        var s = new Stream();
        s.Add(Id(1, 0), "f", "a");
        s.Add(Id(StreamNode.MaxMsDelta, 5), "f", "b");           // the largest delta without the escape
        s.Add(Id(1 + StreamNode.MaxMsDelta, 5), "f", "b");       // the escape's own value
        s.Add(Id(ulong.MaxValue, ulong.MaxValue), "f", "c");     // the largest delta of all
        Assert.Equal(1, s.NodeCount);
        Assert.True(s.Delete(Id(StreamNode.MaxMsDelta, 5)));
        Assert.Equal(
            new[]
            {
                new Entry(Id(1, 0), ["f", "a"]),
                new Entry(Id(1 + StreamNode.MaxMsDelta, 5), ["f", "b"]),
                new Entry(Id(ulong.MaxValue, ulong.MaxValue), ["f", "c"]),
            },
            s.All());
        Assert.True(s.Delete(Id(1 + StreamNode.MaxMsDelta, 5)));  // the deleted flag lives in the same varint
        Assert.Equal([Id(1, 0), Id(ulong.MaxValue, ulong.MaxValue)], s.All().Select(e => e.Id));
        Assert.Equal(Id(ulong.MaxValue, ulong.MaxValue), ReadAll(s.ReverseRange(StreamId.Min, StreamId.Max))[0].Id);
    }

    [Fact]
    public void IntegerValues_TakeLessThanTheirDigits()
    {
        var digits = new Stream();
        var text = new Stream();
        for (ulong i = 1; i <= 100; i++)
        {
            digits.Add(Id(i, 0), "user", "1234", "amount", "42");
            text.Add(Id(i, 0), "user", "abcd", "amount", "xy");
        }
        Assert.True(digits.EstimatedBytes < text.EstimatedBytes - 100 * 2, $"{digits.EstimatedBytes} vs {text.EstimatedBytes}");
    }

    [Fact]
    public void Append_BinaryEmptyAndDuplicateFields_RoundTrip()
    {
        var binary = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var s = new Stream();
        Assert.Equal(StreamAddStatus.Ok, s.Append(Id(1, 1), Fv([binary, [], [0xFF, 0x00], binary])));
        s.Add(Id(1, 2), "", "", "a", "");
        s.Add(Id(1, 3), "a", "1", "a", "2");

        var all = s.All();
        Assert.Equal(3, all.Count);
        Assert.Equal([Text(binary), "", Text([0xFF, 0x00]), Text(binary)], all[0].FieldsAndValues);
        Assert.Equal(["", "", "a", ""], all[1].FieldsAndValues);
        Assert.Equal(["a", "1", "a", "2"], all[2].FieldsAndValues);
    }

    [Fact]
    public void Append_BigValues_RoundTripAndGetTheirOwnNodes()
    {
        var big = new string('x', 100_000);
        var s = new Stream(nodeMaxEntries: 100, nodeMaxBytes: 4096);
        s.Add(Id(1, 0), "f", "small");
        s.Add(Id(2, 0), "f", big);      // listpack bytes + 100001 >= 4096: a new node
        s.Add(Id(3, 0), "f", "small");  // the big node is over the limit: another new node
        s.Add(Id(4, 0), "f", "small");

        Assert.Equal([Id(1, 0), Id(2, 0), Id(3, 0)], s.DescribeNodes().Select(n => n.Key));
        var all = s.All();
        Assert.Equal(big, all[1].FieldsAndValues[1]);
        Assert.Equal(["f", "small"], all[3].FieldsAndValues);
    }

    [Fact]
    public void Append_AtMaxEntries_StartsANewNode_CountingDeletedEntries()
    {
        var s = new Stream(nodeMaxEntries: 3, nodeMaxBytes: 4096);
        for (ulong i = 1; i <= 3; i++) s.Add(Id(i, 0), "f", "v");
        Assert.True(s.Delete(Id(2, 0)));
        s.Add(Id(4, 0), "f", "v");    // 2 live + 1 deleted = 3: full
        Assert.Equal([(Id(1, 0), 2, 1), (Id(4, 0), 1, 0)], s.DescribeNodes().Select(n => (n.Key, n.Live, n.Deleted)));
    }

    [Fact]
    public void Iteration_SkipsDeletedEntries_BothWays()
    {
        var s = new Stream(nodeMaxEntries: 4, nodeMaxBytes: 4096);
        for (ulong i = 1; i <= 10; i++) s.Add(Id(i, i), "k", i.ToString());
        foreach (var ms in new ulong[] { 1, 4, 5, 10 }) Assert.True(s.Delete(Id(ms, ms)));

        var expected = new ulong[] { 2, 3, 6, 7, 8, 9 };
        Assert.Equal(expected.Select(i => Id(i, i)), s.All().Select(e => e.Id));
        Assert.Equal(expected.Reverse().Select(i => Id(i, i)), ReadAll(s.ReverseRange(StreamId.Min, StreamId.Max)).Select(e => e.Id));
        Assert.Equal(["k", "8"], ReadAll(s.ReverseRange(StreamId.Min, StreamId.Max, 2))[1].FieldsAndValues);
    }

    [Fact]
    public void Range_InclusiveBounds_WithCount_ForwardAndReverse()
    {
        var s = new Stream(nodeMaxEntries: 3, nodeMaxBytes: 4096);
        for (ulong i = 1; i <= 20; i++) s.Add(Id(i, 0), "n", i.ToString());

        Assert.Equal(Ids(5, 6, 7, 8), ReadAll(s.Range(Id(5, 0), Id(8, 0))).Select(e => e.Id));
        Assert.Equal(Ids(5, 6), ReadAll(s.Range(Id(4, 1), Id(8, 0), count: 2)).Select(e => e.Id));
        Assert.Equal(Ids(8, 7, 6, 5), ReadAll(s.ReverseRange(Id(5, 0), Id(8, 0))).Select(e => e.Id));
        Assert.Equal(Ids(8, 7, 6), ReadAll(s.ReverseRange(Id(4, 1), Id(8, 5), count: 3)).Select(e => e.Id));
        Assert.Empty(ReadAll(s.Range(Id(8, 0), Id(5, 0))));
        Assert.Empty(ReadAll(s.Range(Id(21, 0), StreamId.Max)));
        Assert.Empty(ReadAll(s.ReverseRange(StreamId.Min, Id(0, 5))));
        Assert.Equal(Ids(20), ReadAll(s.ReverseRange(StreamId.Min, StreamId.Max, 1)).Select(e => e.Id));

        static IEnumerable<StreamId> Ids(params ulong[] ms) => ms.Select(m => Id(m, 0));
    }

    [Fact]
    public void Ids_FarFromTheMaster_RoundTrip()
    {
        var s = new Stream();
        StreamId[] ids = [Id(5, ulong.MaxValue - 1), Id(5, ulong.MaxValue), Id(6, 0), Id(ulong.MaxValue, 3), Id(ulong.MaxValue, ulong.MaxValue)];
        foreach (var id in ids) s.Add(id, "a", "b");
        Assert.Equal(ids, s.All().Select(e => e.Id));
        Assert.Equal(ids.Reverse(), ReadAll(s.ReverseRange(StreamId.Min, StreamId.Max)).Select(e => e.Id));
    }

    [Fact]
    public void ListpackSize_MatchesRedisEncodings()
    {
        // XADD s 1-0 a 1 on an empty stream, by hand from listpack.c:
        // header 6 + end 1; master: count 1, deleted 0, num-fields 1 (2 bytes each), "a" (1+1 +1), terminator 0 (2)
        // entry: flags 2, ms-diff 0, seq-diff 0, value 1 (as integer), lp-count 4: 2 bytes each.
        var s = new Stream();
        s.Add(Id(1, 0), "a", "1");
        Assert.Equal(7 + 2 + 2 + 2 + 3 + 2 + 10, s.DescribeNodes().Single().ListpackBytes);

        Assert.Equal(2, ListpackSize.OfInteger(127));
        Assert.Equal(3, ListpackSize.OfInteger(128));
        Assert.Equal(3, ListpackSize.OfInteger(-4096));
        Assert.Equal(4, ListpackSize.OfInteger(4096));
        Assert.Equal(10, ListpackSize.OfInteger(long.MinValue));
        Assert.Equal(2, ListpackSize.OfString("42"u8));          // a 7-bit integer
        Assert.Equal(4, ListpackSize.OfString("07"u8));          // leading zero: a string
        Assert.Equal(10, ListpackSize.OfString("-9223372036854775808"u8));
        Assert.Equal(1 + 19 + 1, ListpackSize.OfString("9223372036854775808"u8)); // overflows: a string
        Assert.Equal(1 + 63 + 1, ListpackSize.OfString(new byte[63]));
        Assert.Equal(2 + 64 + 1, ListpackSize.OfString(new byte[64]));
        Assert.Equal(2 + 200 + 2, ListpackSize.OfString(new byte[200]));
        Assert.Equal(5 + 5000 + 2, ListpackSize.OfString(new byte[5000]));
    }
}
