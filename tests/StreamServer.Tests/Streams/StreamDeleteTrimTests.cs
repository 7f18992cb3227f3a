using StreamServer.Storage.Streams;
using static StreamServer.Tests.Streams.StreamTestHelpers;
using Stream = StreamServer.Storage.Streams.Stream;

namespace StreamServer.Tests.Streams;

public class StreamDeleteTrimTests
{
    /// <summary>Entries 1-0 … n-0 with three entries a node: [1,2,3] [4,5,6] [7,8,9] [10].</summary>
    private static Stream TenInNodesOfThree(int n = 10)
    {
        var s = new Stream(nodeMaxEntries: 3, nodeMaxBytes: 4096);
        for (ulong i = 1; i <= (ulong)n; i++) s.Add(Id(i, 0), "f", i.ToString());
        return s;
    }

    private static ulong[] Ms(Stream s) => s.All().Select(e => e.Id.Ms).ToArray();

    [Fact]
    public void Delete_MarksEntry_UpdatesLengthMaxDeletedAndFirstId_NeverLastId()
    {
        var s = TenInNodesOfThree();
        Assert.True(s.Delete(Id(5, 0)));
        Assert.False(s.Delete(Id(5, 0)));      // already deleted
        Assert.False(s.Delete(Id(5, 1)));      // never existed
        Assert.True(s.Delete(Id(1, 0)));
        Assert.True(s.Delete(Id(10, 0)));      // the last entry: LastId stays
        Assert.Equal((7L, Id(2, 0), Id(10, 0), Id(10, 0)), (s.Length, s.FirstId, s.LastId, s.MaxDeletedId));
        Assert.True(s.Delete(Id(3, 0)));
        Assert.Equal(Id(10, 0), s.MaxDeletedId);   // only ever grows
        Assert.Equal([2, 4, 6, 7, 8, 9], Ms(s));
    }

    [Fact]
    public void Delete_LastLiveEntryOfANode_FreesTheNode()
    {
        var s = TenInNodesOfThree();
        s.Delete(Id(4, 0));
        s.Delete(Id(5, 0));
        Assert.Equal(4, s.NodeCount);
        s.Delete(Id(6, 0));
        Assert.Equal([Id(1, 0), Id(7, 0), Id(10, 0)], s.DescribeNodes().Select(n => n.Key));
        s.Delete(Id(10, 0));                    // the tail goes too; the next append starts a new node
        s.Add(Id(11, 0), "f", "v");
        Assert.Equal([Id(1, 0), Id(7, 0), Id(11, 0)], s.DescribeNodes().Select(n => n.Key));
    }

    [Fact]
    public void Delete_Everything_LeavesEmptyStreamWithLastId()
    {
        var s = TenInNodesOfThree(4);
        for (ulong i = 1; i <= 4; i++) Assert.True(s.Delete(Id(i, 0)));
        Assert.Equal((0L, StreamId.Min, Id(4, 0), Id(4, 0), 0), (s.Length, s.FirstId, s.LastId, s.MaxDeletedId, s.NodeCount));
        Assert.Empty(s.All());
    }

    [Fact]
    public void TrimMaxLen_Approximate_RemovesWholeNodesOnly()
    {
        var s = TenInNodesOfThree();
        // 10 - 3 >= 5: the first node goes; 7 - 3 < 5: the second cannot, stop.
        Assert.Equal(3, s.TrimByMaxLen(5, approximate: true, limit: 0));
        Assert.Equal([4, 5, 6, 7, 8, 9, 10], Ms(s));
        Assert.Equal(Id(4, 0), s.FirstId);
    }

    [Fact]
    public void TrimMaxLen_Exact_MarksEntriesInsideTheFirstRemainingNode()
    {
        var s = TenInNodesOfThree();
        Assert.Equal(5, s.TrimByMaxLen(5, approximate: false, limit: 0));
        Assert.Equal([6, 7, 8, 9, 10], Ms(s));
        Assert.Equal([(Id(4, 0), 1, 2), (Id(7, 0), 3, 0), (Id(10, 0), 1, 0)], s.DescribeNodes().Select(n => (n.Key, n.Live, n.Deleted)));
        Assert.Equal((Id(6, 0), StreamId.Min), (s.FirstId, s.MaxDeletedId));   // trims leave MaxDeletedId alone
    }

    [Fact]
    public void TrimMaxLen_Limit_StopsBeforeANodeThatWouldExceedIt()
    {
        var s = TenInNodesOfThree();
        Assert.Equal(3, s.TrimByMaxLen(0, approximate: true, limit: 5));     // 3 + 3 > 5
        Assert.Equal(6, s.TrimByMaxLen(0, approximate: true, limit: 6));
        Assert.Equal([10], Ms(s));
        Assert.Equal(1, s.TrimByMaxLen(0, approximate: true, limit: 0));
        Assert.Equal((0L, StreamId.Min, 0), (s.Length, s.FirstId, s.NodeCount));
    }

    [Fact]
    public void TrimMaxLen_NothingToDo_ReturnsZero()
    {
        var s = TenInNodesOfThree();
        Assert.Equal(0, s.TrimByMaxLen(10, approximate: false, limit: 0));
        Assert.Equal(0, s.TrimByMaxLen(8, approximate: true, limit: 0));   // 10 - 3 < 8
        Assert.Equal(10, s.Length);
    }

    [Fact]
    public void TrimMinId_ApproximateThenExact()
    {
        var s = TenInNodesOfThree();
        // Nodes ending at 3 and 6 are below 8-0; the node [7,8,9] is not.
        Assert.Equal(6, s.TrimByMinId(Id(8, 0), approximate: true, limit: 0));
        Assert.Equal(1, s.TrimByMinId(Id(8, 0), approximate: false, limit: 0));
        Assert.Equal([8, 9, 10], Ms(s));
        Assert.Equal(Id(8, 0), s.FirstId);
        Assert.Equal(0, s.TrimByMinId(Id(8, 0), approximate: false, limit: 0));
    }

    [Fact]
    public void TrimMinId_CountsOnlyLiveEntries_OfAPartlyDeletedNode()
    {
        var s = TenInNodesOfThree();
        s.Delete(Id(2, 0));
        Assert.Equal(2, s.TrimByMinId(Id(4, 0), approximate: true, limit: 0));
        Assert.Equal(Id(2, 0), s.MaxDeletedId);
    }

    [Fact]
    public void TrimMinId_Exact_CanLeaveANodeWithNoLiveEntry_AsRedisDoes()
    {
        // The node's last entry (3-0) is deleted but not below the min id, so the node is kept; 1 and 2 are
        // then marked deleted inside it. Redis keeps such a node (streamTrim), and so appends still fill it.
        var s = new Stream(nodeMaxEntries: 5, nodeMaxBytes: 4096);
        for (ulong i = 1; i <= 3; i++) s.Add(Id(i, 0), "f", "v");
        s.Delete(Id(3, 0));
        Assert.Equal(2, s.TrimByMinId(Id(3, 0), approximate: false, limit: 0));
        Assert.Equal((0L, StreamId.Min), (s.Length, s.FirstId));
        Assert.Equal([(Id(1, 0), 0, 3)], s.DescribeNodes().Select(n => (n.Key, n.Live, n.Deleted)));

        s.Add(Id(4, 0), "f", "v");
        Assert.Equal([(Id(1, 0), 1, 3)], s.DescribeNodes().Select(n => (n.Key, n.Live, n.Deleted)));
        Assert.Equal([4], Ms(s));
        Assert.Equal(Id(4, 0), s.FirstId);

        // MAXLEN removes such a node for nothing: it counts 0 entries.
        s.Add(Id(5, 0), "f", "v");
        s.Add(Id(6, 0), "f", "v");        // 2 live + 3 deleted = 5: a new node
        s.Delete(Id(4, 0));
        s.Delete(Id(5, 0));               // node 1-0 has no live entry left: freed by XDEL
        Assert.Equal([Id(6, 0)], s.DescribeNodes().Select(n => n.Key));
    }

    [Fact]
    public void Setters_ForXSetId()
    {
        var s = TenInNodesOfThree(2);
        s.LastId = Id(100, 0);
        s.EntriesAdded = 50;
        s.MaxDeletedId = Id(1, 5);
        Assert.Equal(StreamAddStatus.Ok, s.TryNextId(1, out var id));
        Assert.Equal(Id(100, 1), id);
        s.Add(id, "f", "v");
        Assert.Equal((51L, Id(100, 1), Id(1, 5)), (s.EntriesAdded, s.LastId, s.MaxDeletedId));
    }

    [Fact]
    public void EstimatedBytes_FollowsTheNodes()
    {
        var s = new Stream();
        Assert.Equal(0, s.EstimatedBytes);
        for (ulong i = 1; i <= 1000; i++) s.Add(Id(i, 0), "user", "1234", "amount", "42");
        var full = s.EstimatedBytes;
        Assert.InRange(full, 6 * 1000, 20 * 1000); // about 8 B an entry: the values are stored as integers
        s.TrimByMaxLen(0, approximate: false, limit: 0);
        Assert.Equal(0, s.EstimatedBytes);
    }
}
