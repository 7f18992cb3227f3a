using System.Buffers;
using System.Text;
using StreamServer.Persistence;
using StreamServer.Storage;
using StreamServer.Storage.Streams;
using static StreamServer.Tests.Streams.StreamTestHelpers;
using Stream = StreamServer.Storage.Streams.Stream;

namespace StreamServer.Tests.Streams;

/// <summary>
/// A snapshot shares the stream's sealed nodes (StreamSnapshot): whatever the stream does afterwards, the snapshot
/// must still write the stream as it was when taken, and the stream must be as if no snapshot had been taken.
/// </summary>
public class StreamSnapshotTests
{
    private static readonly byte[] Key = "s"u8.ToArray();

    private static string Emit(StreamSnapshot snapshot)
    {
        var buffer = new ArrayBufferWriter<byte>();
        StreamRewriteEmitter.Instance.Emit(buffer, Key, snapshot);
        return Encoding.Latin1.GetString(buffer.WrittenSpan);
    }

    /// <summary>Entries 1-0 … n-0 in nodes of four, a group with entries pending for two consumers and one released.</summary>
    private static Stream Build(int n)
    {
        var s = new Stream(nodeMaxEntries: 4, nodeMaxBytes: 4096);
        for (ulong i = 1; i <= (ulong)n; i++) s.Add(Id(i, 0), "f", i.ToString(), "g", (i * 7).ToString());
        var group = s.Groups.TryCreate("g"u8, default, 0)!;
        var alice = group.GetOrCreateConsumer("alice"u8, 1000, out _);
        var bob = group.GetOrCreateConsumer("bob"u8, 1000, out _);
        group.GetOrCreateConsumer("carol"u8, 1000, out _);
        for (ulong i = 1; i <= 12; i++) group.DeliverNew(s, Id(i, 0), i % 2 == 0 ? alice : bob, 2000 + (long)i, noAck: false);
        group.Nack(Id(3, 0), NackMode.Fail, 5);
        return s;
    }

    /// <summary>Every kind of change a stream makes in place, applied in turn while a snapshot is held.</summary>
    public static TheoryData<string> Changes => new()
    {
        "xdel", "trim-maxlen-exact", "trim-minid-exact", "trim-acked-exact", "append-into-last-again", "mixed",
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void Snapshot_WritesTheStreamAsTaken_WhateverTheStreamDoesAfterwards(string change)
    {
        var live = Build(41);
        var twin = Build(41); // the same stream, never snapshotted: what the live one must stay equal to
        var lease = new SnapshotLease();
        var snapshot = live.TakeSnapshot(lease);
        var taken = Emit(snapshot);

        foreach (var s in new[] { live, twin }) Apply(s, change);

        Assert.Equal(taken, Emit(snapshot));
        Assert.Equal(Emit(twin.TakeSnapshot(new SnapshotLease())), Emit(live.TakeSnapshot(new SnapshotLease())));
        Assert.Equal(twin.All(), live.All());
        Assert.Equal((twin.Length, twin.FirstId, twin.LastId, twin.MaxDeletedId), (live.Length, live.FirstId, live.LastId, live.MaxDeletedId));
        Assert.NotEqual(taken, Emit(live.TakeSnapshot(new SnapshotLease()))); // the change did change the stream
    }

    private static void Apply(Stream s, string change)
    {
        switch (change)
        {
            case "xdel":
                foreach (var ms in new ulong[] { 2, 6, 7, 13, 30, 41 }) Assert.True(s.Delete(Id(ms, 0)));
                break;
            case "trim-maxlen-exact":
                s.TrimByMaxLen(30, approximate: false, limit: 0); // 11 go: two whole nodes and three inside the third
                break;
            case "trim-minid-exact":
                s.TrimByMinId(Id(22, 0), approximate: false, limit: 0);
                break;
            case "trim-acked-exact":
                // 1, 2 and 6 acknowledged: the trim deletes them inside nodes that still hold pending entries.
                foreach (var ms in new ulong[] { 1, 2, 6 }) Assert.True(s.Groups.Find("g"u8)!.Acknowledge(Id(ms, 0)));
                Assert.Equal(3, s.TrimByMaxLen(20, approximate: false, limit: 0, ReferencePolicy.Acked));
                break;
            case "append-into-last-again":
                // The last node is [41]; deleting it makes the sealed [37..40] the last one, which the next append adopts.
                Assert.True(s.Delete(Id(41, 0)));
                Assert.True(s.Delete(Id(39, 0)));
                s.Add(Id(50, 0), "f", "x");
                s.Add(Id(51, 0), "f", "y");
                break;
            case "mixed":
                for (ulong ms = 3; ms <= 41; ms += 5) s.Delete(Id(ms, 0));
                s.TrimByMaxLen(25, approximate: false, limit: 0);
                for (ulong ms = 60; ms < 70; ms++) s.Add(Id(ms, 0), "f", ms.ToString());
                s.TrimByMinId(Id(35, 0), approximate: false, limit: 0, ReferencePolicy.DelRef);
                break;
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReleasedSnapshot_OrEndedLease_StopsTheCopying(bool endLease)
    {
        var s = Build(41);
        var lease = new SnapshotLease();
        var snapshot = s.TakeSnapshot(lease);
        Assert.Equal(0, s.CopiedSinceSnapshot);
        Assert.True(s.Delete(Id(2, 0)));
        Assert.True(s.Delete(Id(3, 0)));
        Assert.True(s.Delete(Id(41, 0)));
        Assert.Equal(1, s.CopiedSinceSnapshot); // [1..4] copied once; the last node was the snapshot's copy already
        if (endLease) lease.End();
        else snapshot.Release();
        Assert.True(s.Delete(Id(6, 0)));
        Assert.Null(s.CopiedSinceSnapshot);
    }

    [Fact]
    public void Snapshot_OfAnEmptyStream_WritesTheEmptyForm()
    {
        var s = new Stream();
        s.Add(Id(5, 0), "f", "v");
        s.Delete(Id(5, 0));
        var text = Emit(s.TakeSnapshot(new SnapshotLease()));
        Assert.StartsWith("*7\r\n$4\r\nXADD\r\n$1\r\ns\r\n$6\r\nMAXLEN\r\n$1\r\n0\r\n$3\r\n0-1\r\n", text, StringComparison.Ordinal);
        Assert.Contains("$6\r\nXSETID\r\n$1\r\ns\r\n$3\r\n5-0\r\n$12\r\nENTRIESADDED\r\n$1\r\n1\r\n$12\r\nMAXDELETEDID\r\n$3\r\n5-0\r\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Snapshot_WritesGroupsConsumersPendingAndReleasedEntries()
    {
        var text = Emit(Build(13).TakeSnapshot(new SnapshotLease()));
        // XGROUP CREATE s g 12-0 ENTRIESREAD 12; alice holds the even ids, bob the odd ones but 3 (released), carol none.
        Assert.Contains("$6\r\nCREATE\r\n$1\r\ns\r\n$1\r\ng\r\n$4\r\n12-0\r\n$11\r\nENTRIESREAD\r\n$2\r\n12\r\n", text, StringComparison.Ordinal);
        Assert.Contains("$5\r\nalice\r\n$1\r\n0\r\n$3\r\n2-0\r\n$4\r\nTIME\r\n$4\r\n2002\r\n$10\r\nRETRYCOUNT\r\n$1\r\n1\r\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("$3\r\nbob\r\n$1\r\n0\r\n$3\r\n3-0\r\n", text, StringComparison.Ordinal);
        Assert.Contains("$5\r\nXNACK\r\n$1\r\ns\r\n$1\r\ng\r\n$4\r\nFAIL\r\n$3\r\nIDS\r\n$1\r\n1\r\n$3\r\n3-0\r\n$10\r\nRETRYCOUNT\r\n$1\r\n5\r\n", text, StringComparison.Ordinal);
        Assert.Contains("$14\r\nCREATECONSUMER\r\n$1\r\ns\r\n$1\r\ng\r\n$5\r\ncarol\r\n", text, StringComparison.Ordinal);
        Assert.Equal(13, CountOccurrences(text, "$4\r\nXADD\r\n"));
        Assert.Equal(11, CountOccurrences(text, "$6\r\nXCLAIM\r\n"));
    }

    private static int CountOccurrences(string text, string what)
    {
        var n = 0;
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal)) n++;
        return n;
    }
}
