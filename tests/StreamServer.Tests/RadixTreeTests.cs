using StreamServer.Storage.Streams;
using Xunit.Abstractions;

namespace StreamServer.Tests;

[Collection(MemoryMeasurementCollection.Name)]
public class RadixTreeTests(ITestOutputHelper output)
{
    private static StreamId Id(ulong ms, ulong seq) => new(ms, seq);

    private static (bool Found, StreamId Key, int Value) Ceiling(RadixTree<int> tree, StreamId key)
        => tree.SeekCeiling(key, out var found, out var value) ? (true, found, value) : (false, default, 0);

    private static (bool Found, StreamId Key, int Value) Floor(RadixTree<int> tree, StreamId key)
        => tree.SeekFloor(key, out var found, out var value) ? (true, found, value) : (false, default, 0);

    private static List<StreamId> KeysBySeeking(RadixTree<int> tree)
    {
        var keys = new List<StreamId>();
        var next = StreamId.Min;
        while (tree.SeekCeiling(next, out var found, out _))
        {
            keys.Add(found);
            if (!found.TryIncrement(out next)) break;
        }
        return keys;
    }

    private static List<StreamId> KeysBySeekingBackwards(RadixTree<int> tree)
    {
        var keys = new List<StreamId>();
        var next = StreamId.Max;
        while (tree.SeekFloor(next, out var found, out _))
        {
            keys.Add(found);
            if (!found.TryDecrement(out next)) break;
        }
        keys.Reverse();
        return keys;
    }

    [Fact]
    public void EmptyTree_FindsNothing()
    {
        var tree = new RadixTree<int>();

        Assert.Equal(0, tree.Count);
        Assert.False(tree.TryGetValue(Id(1, 1), out _));
        Assert.False(tree.SeekCeiling(StreamId.Min, out _, out _));
        Assert.False(tree.SeekFloor(StreamId.Max, out _, out _));
        Assert.False(tree.TryGetFirst(out _, out _));
        Assert.False(tree.TryGetLast(out _, out _));
        Assert.False(tree.Remove(Id(1, 1), out _));
        Assert.Equal(0, tree.EstimatedBytes);
        Assert.Empty(tree);
        tree.CheckInvariants();
    }

    [Fact]
    public void SingleKey_IsFoundBySeeksFromBothSides()
    {
        var tree = new RadixTree<int>();
        Assert.True(tree.TryAdd(Id(1700000000000, 5), 42));

        Assert.Equal(1, tree.Count);
        Assert.True(tree.TryGetValue(Id(1700000000000, 5), out var value));
        Assert.Equal(42, value);
        Assert.False(tree.TryGetValue(Id(1700000000000, 4), out _));
        Assert.False(tree.TryGetValue(Id(1700000000001, 5), out _));
        Assert.Equal((true, Id(1700000000000, 5), 42), Ceiling(tree, StreamId.Min));
        Assert.Equal((true, Id(1700000000000, 5), 42), Ceiling(tree, Id(1700000000000, 5)));
        Assert.Equal((false, default(StreamId), 0), Ceiling(tree, Id(1700000000000, 6)));
        Assert.Equal((true, Id(1700000000000, 5), 42), Floor(tree, StreamId.Max));
        Assert.Equal((true, Id(1700000000000, 5), 42), Floor(tree, Id(1700000000000, 5)));
        Assert.Equal((false, default(StreamId), 0), Floor(tree, Id(1700000000000, 4)));
        Assert.True(tree.TryGetFirst(out var first, out _));
        Assert.True(tree.TryGetLast(out var last, out _));
        Assert.Equal(Id(1700000000000, 5), first);
        Assert.Equal(Id(1700000000000, 5), last);
        tree.CheckInvariants();

        Assert.True(tree.Remove(Id(1700000000000, 5), out var removed));
        Assert.Equal(42, removed);
        Assert.Equal(0, tree.Count);
        Assert.Equal(tree.SpareBytes, tree.EstimatedBytes); // the emptied node is kept for the next insert
        Assert.False(tree.TryGetFirst(out _, out _));
        tree.CheckInvariants();
    }

    [Fact]
    public void KeysDifferingOnlyInTheLastByte_GrowToADirectNodeAndShrinkBack()
    {
        var tree = new RadixTree<int>();
        for (var seq = 0; seq < 256; seq += 2) Assert.True(tree.TryAdd(Id(7, (ulong)seq), seq));
        for (var seq = 1; seq < 256; seq += 2) Assert.True(tree.TryAdd(Id(7, (ulong)seq), seq));
        tree.CheckInvariants();

        Assert.Equal(256, tree.Count);
        for (var seq = 0; seq < 256; seq++)
        {
            Assert.True(tree.TryGetValue(Id(7, (ulong)seq), out var value));
            Assert.Equal(seq, value);
        }
        Assert.Equal((true, Id(7, 0), 0), Ceiling(tree, Id(6, ulong.MaxValue)));
        Assert.Equal((false, default(StreamId), 0), Ceiling(tree, Id(7, 256)));
        Assert.Equal((true, Id(7, 255), 255), Floor(tree, Id(7, 256)));
        Assert.Equal((true, Id(7, 255), 255), Floor(tree, StreamId.Max));
        Assert.Equal((false, default(StreamId), 0), Floor(tree, Id(6, ulong.MaxValue)));

        for (var seq = 0; seq < 255; seq++)
        {
            Assert.True(tree.Remove(Id(7, (ulong)seq), out var value));
            Assert.Equal(seq, value);
            Assert.Equal((true, Id(7, (ulong)seq + 1), seq + 1), Ceiling(tree, Id(7, (ulong)seq)));
            Assert.Equal((false, default(StreamId), 0), Floor(tree, Id(7, (ulong)seq)));
            tree.CheckInvariants();
        }
        Assert.Equal(1, tree.Count);
        Assert.Equal([Id(7, 255)], KeysBySeeking(tree));
    }

    [Fact]
    public void KeysDifferingInTheFirstByte_AreOrderedByIt()
    {
        var tree = new RadixTree<int>();
        for (var b = 255; b >= 0; b -= 3) Assert.True(tree.TryAdd(Id((ulong)b << 56, 9), b));
        tree.CheckInvariants();

        var expected = Enumerable.Range(0, 256).Where(b => (255 - b) % 3 == 0).Select(b => Id((ulong)b << 56, 9)).ToList();
        Assert.Equal(expected, KeysBySeeking(tree));
        Assert.Equal(expected, KeysBySeekingBackwards(tree));
        Assert.Equal((true, Id(3UL << 56, 9), 3), Ceiling(tree, Id(0, 10)));
        Assert.Equal((true, Id(3UL << 56, 9), 3), Ceiling(tree, Id(1UL << 56, 0)));
        Assert.Equal((true, Id(0, 9), 0), Floor(tree, Id(3UL << 56, 8)));
        Assert.Equal((true, Id(252UL << 56, 9), 252), Floor(tree, Id(255UL << 56, 8)));
        Assert.Equal((true, Id(255UL << 56, 9), 255), Floor(tree, StreamId.Max));
    }

    [Fact]
    public void MinAndMaxIds_AreStoredAndFoundAtTheEdges()
    {
        var tree = new RadixTree<int>();
        Assert.True(tree.TryAdd(StreamId.Max, 2));
        Assert.True(tree.TryAdd(StreamId.Min, 1));

        Assert.Equal((true, StreamId.Min, 1), Ceiling(tree, StreamId.Min));
        Assert.Equal((true, StreamId.Max, 2), Ceiling(tree, Id(0, 1)));
        Assert.Equal((true, StreamId.Max, 2), Ceiling(tree, StreamId.Max));
        Assert.Equal((true, StreamId.Max, 2), Floor(tree, StreamId.Max));
        Assert.Equal((true, StreamId.Min, 1), Floor(tree, Id(ulong.MaxValue, ulong.MaxValue - 1)));
        Assert.Equal((true, StreamId.Min, 1), Floor(tree, StreamId.Min));
        Assert.True(tree.TryGetFirst(out var first, out var firstValue));
        Assert.True(tree.TryGetLast(out var last, out var lastValue));
        Assert.Equal((StreamId.Min, 1), (first, firstValue));
        Assert.Equal((StreamId.Max, 2), (last, lastValue));
        tree.CheckInvariants();

        Assert.True(tree.Remove(StreamId.Min, out _));
        Assert.Equal((true, StreamId.Max, 2), Ceiling(tree, StreamId.Min));
        Assert.Equal((false, default(StreamId), 0), Floor(tree, Id(ulong.MaxValue, ulong.MaxValue - 1)));
        tree.CheckInvariants();
    }

    [Fact]
    public void TryAdd_OnAPresentKey_ChangesNothing_AndSet_Replaces()
    {
        var tree = new RadixTree<int>();
        Assert.True(tree.TryAdd(Id(5, 0), 1));
        Assert.True(tree.TryAdd(Id(5, 1), 2));

        Assert.False(tree.TryAdd(Id(5, 0), 100));
        Assert.True(tree.TryGetValue(Id(5, 0), out var unchanged));
        Assert.Equal(1, unchanged);

        tree.Set(Id(5, 0), 10);
        tree.Set(Id(6, 0), 20);
        Assert.Equal(3, tree.Count);
        Assert.True(tree.TryGetValue(Id(5, 0), out var replaced));
        Assert.Equal(10, replaced);
        Assert.True(tree.TryGetValue(Id(6, 0), out var added));
        Assert.Equal(20, added);
        tree.CheckInvariants();
    }

    [Fact]
    public void Remove_MergesSingleChildNodesAndPullsLonelyLeavesUp()
    {
        var tree = new RadixTree<int>();
        // 1-0, 2-0, 3-0 share one node branching on the last ms byte; 2-1 forces a node below 2-0.
        tree.Set(Id(1, 0), 1);
        tree.Set(Id(2, 0), 2);
        tree.Set(Id(3, 0), 3);
        tree.Set(Id(2, 1), 21);
        tree.Set(Id(1UL << 40, 0), 99);
        tree.CheckInvariants();
        var full = tree.EstimatedBytes - tree.SpareBytes;

        Assert.True(tree.Remove(Id(2, 1), out var value));
        Assert.Equal(21, value);
        tree.CheckInvariants();
        Assert.True(tree.EstimatedBytes - tree.SpareBytes < full);
        Assert.Equal([Id(1, 0), Id(2, 0), Id(3, 0), Id(1UL << 40, 0)], KeysBySeeking(tree));

        Assert.True(tree.Remove(Id(1UL << 40, 0), out _));
        tree.CheckInvariants();
        Assert.True(tree.Remove(Id(1, 0), out _));
        Assert.True(tree.Remove(Id(3, 0), out _));
        tree.CheckInvariants();
        Assert.Equal([Id(2, 0)], KeysBySeeking(tree));
        Assert.False(tree.Remove(Id(3, 0), out _));
        Assert.True(tree.Remove(Id(2, 0), out _));
        Assert.Equal(0, tree.Count);
        Assert.Equal(tree.SpareBytes, tree.EstimatedBytes);
        tree.CheckInvariants();
    }

    [Fact]
    public void RemovingEverything_LeavesOnlyBoundedSpares()
    {
        var tree = new RadixTree<int>();
        var keys = new List<StreamId>();
        for (ulong ms = 0; ms < 3000; ms += 7)
        {
            for (ulong seq = 0; seq < ms % 4; seq++) keys.Add(Id(1700000000000 + ms, seq));
        }
        foreach (var key in keys) Assert.True(tree.TryAdd(key, 1));
        tree.CheckInvariants();
        Assert.Equal(keys, KeysBySeeking(tree));
        Assert.Equal(keys, KeysBySeekingBackwards(tree));

        foreach (var key in keys.Where((_, i) => i % 2 == 1)) Assert.True(tree.Remove(key, out _));
        tree.CheckInvariants();
        foreach (var key in keys.Where((_, i) => i % 2 == 0)) Assert.True(tree.Remove(key, out _));
        tree.CheckInvariants();
        Assert.Equal(0, tree.Count);
        Assert.Equal(tree.SpareBytes, tree.EstimatedBytes);
        Assert.InRange(tree.SpareBytes, 1, RadixTree<int>.SparesObjectBytes + RadixTree<int>.MaxSpareBytes);

        tree.Clear();
        Assert.Equal(0, tree.EstimatedBytes);
        tree.CheckInvariants();
    }

    /// <summary>
    /// A pending entries list's life: ids delivered ten at a time, then all acknowledged (in order, or in another
    /// order), so the tree keeps going through empty. Spare nodes and arrays make the second pass over the same ids
    /// allocate nothing, and the accounting stays exact throughout (CheckInvariants recomputes it, spares included).
    /// </summary>
    [Fact]
    public void InsertRemoveCyclesThroughEmpty_ReuseSparesAndAllocateNothingAfterWarmUp()
    {
        const int Rounds = 100, PerRound = 10;
        var tree = new RadixTree<PendingEntry>();
        var consumer = new Consumer("c"u8.ToArray(), 0);
        var random = new Random(7);
        // Ms 1…1000 (a boundary of the low ms byte every 256) with seq 1, as XREADGROUP COUNT 10 delivers them;
        // every third round acknowledged in a shuffled order.
        var rounds = new StreamId[Rounds][];
        var removals = new StreamId[Rounds][];
        for (var r = 0; r < Rounds; r++)
        {
            rounds[r] = [.. Enumerable.Range(1, PerRound).Select(i => Id((ulong)(r * PerRound + i), 1))];
            removals[r] = [.. rounds[r]];
            if (r % 3 == 0) random.Shuffle(removals[r]);
        }

        RunAll(check: true);
        var emptyBytes = tree.EstimatedBytes;
        Assert.Equal(tree.SpareBytes, emptyBytes);
        Assert.InRange(emptyBytes, 1, RadixTree<PendingEntry>.SparesObjectBytes + RadixTree<PendingEntry>.MaxSpareBytes);

        var before = GC.GetAllocatedBytesForCurrentThread();
        RunAll(check: false);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(0, tree.Count);
        tree.CheckInvariants();
        RunAll(check: true);
        Assert.Equal(emptyBytes, tree.EstimatedBytes);

        void RunAll(bool check)
        {
            for (var r = 0; r < Rounds; r++)
            {
                foreach (var id in rounds[r]) tree.TryAdd(id, new PendingEntry(consumer, r, 1));
                if (check)
                {
                    Assert.Equal(PerRound, tree.Count);
                    tree.CheckInvariants();
                }
                foreach (var id in removals[r])
                {
                    tree.Remove(id, out var entry);
                    if (check) Assert.Equal(r, entry.DeliveryTimeMs);
                }
                if (check)
                {
                    Assert.Equal(0, tree.Count);
                    tree.CheckInvariants();
                }
            }
        }
    }

    [Fact]
    public void ValuesParkedInSpares_AreReleased()
    {
        var tree = new RadixTree<object>();
        var weak = FillAndEmpty(tree);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(weak.IsAlive);
        Assert.Equal(0, tree.Count);
        Assert.True(tree.SpareBytes > 0);
        tree.CheckInvariants();

        static WeakReference FillAndEmpty(RadixTree<object> tree)
        {
            for (ulong i = 0; i < 20; i++) tree.Set(Id(i, 1), new object());
            Assert.True(tree.TryGetValue(Id(7, 1), out var value));
            var weak = new WeakReference(value);
            for (ulong i = 0; i < 20; i++) Assert.True(tree.Remove(Id(i, 1), out _));
            return weak;
        }
    }

    [Fact]
    public void Clear_EmptiesTheTree()
    {
        var tree = new RadixTree<int>();
        for (ulong i = 0; i < 1000; i++) tree.Set(Id(i, i), 1);
        tree.Clear();

        Assert.Equal(0, tree.Count);
        Assert.Equal(0, tree.EstimatedBytes);
        Assert.False(tree.TryGetFirst(out _, out _));
        Assert.True(tree.TryAdd(Id(3, 3), 3));
        tree.CheckInvariants();
    }

    [Fact]
    public void Enumerator_YieldsAscendingPairs()
    {
        var tree = new RadixTree<int>();
        tree.Set(Id(2, 0), 20);
        tree.Set(StreamId.Max, 99);
        tree.Set(Id(1, 5), 15);

        Assert.Equal(
            [new(Id(1, 5), 15), new(Id(2, 0), 20), new(StreamId.Max, 99)],
            tree.ToList());
    }

    [Fact]
    public void RemovedReferenceValues_AreReleased()
    {
        var tree = new RadixTree<object>();
        var weak = AddAndRemove(tree);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(weak.IsAlive);
        Assert.Equal(199, tree.Count);

        static WeakReference AddAndRemove(RadixTree<object> tree)
        {
            for (ulong i = 0; i < 200; i++) tree.Set(Id(1, i), new object());
            Assert.True(tree.TryGetValue(Id(1, 77), out var value));
            var weak = new WeakReference(value);
            Assert.True(tree.Remove(Id(1, 77), out _));
            return weak;
        }
    }

    public enum Pattern { SameMsIncreasingSeq, IncreasingMsSeqZero, MsEveryThirdMs, OneToThreeSeqsPerMs }

    /// <summary>
    /// The pending-entries-list case: a million sequential ids. Asserts the tree's own accounting (deterministic)
    /// and reports what the GC saw: retained heap growth and bytes allocated while building. Bursts of a few ids
    /// per ms are the known expensive shape (a small node per ms); the budget there guards the current figure.
    /// </summary>
    [Theory]
    [InlineData(Pattern.SameMsIncreasingSeq, 10)]
    [InlineData(Pattern.IncreasingMsSeqZero, 10)]
    [InlineData(Pattern.MsEveryThirdMs, 16)]
    [InlineData(Pattern.OneToThreeSeqsPerMs, 60)]
    public void MillionSequentialKeys_StayWithinTheirMemoryBudget(Pattern pattern, int bytesPerKey)
    {
        const int Keys = 1_000_000;
        var shared = new object();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();

        var tree = new RadixTree<object>();
        ulong ms = 1700000000000, seq = 0;
        for (var i = 0; i < Keys; i++)
        {
            Assert.True(tree.TryAdd(Id(ms, seq), shared));
            switch (pattern)
            {
                case Pattern.SameMsIncreasingSeq: seq++; break;
                case Pattern.IncreasingMsSeqZero: ms++; break;
                case Pattern.MsEveryThirdMs: ms += 3; break;
                default: // bursts: 1, 2 or 3 ids per ms in turn
                    if (++seq > ms % 3) (ms, seq) = (ms + 1, 0);
                    break;
            }
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        var retained = GC.GetTotalMemory(forceFullCollection: true) - before;
        var estimated = (double)tree.EstimatedBytes / Keys;
        output.WriteLine(
            $"{pattern}: estimated {estimated:F2} B/key, retained (GC.GetTotalMemory) {(double)retained / Keys:F2} B/key, " +
            $"allocated while inserting {(double)allocated / Keys:F2} B/key");
        Assert.Equal(Keys, tree.Count);
        Assert.InRange(estimated, 0, bytesPerKey);
        GC.KeepAlive(tree);
    }

    public enum Shape { Dense, Sparse, Mixed }

    /// <summary>
    /// 200,000 random operations compared one by one with a sorted model (a SortedDictionary for contents plus
    /// a sorted key list for ceiling/floor/random picks). Each run draws keys from several generators so
    /// dense nodes, sparse deep splits and leaves mixed with children all occur.
    /// </summary>
    [Theory]
    [InlineData(1, Shape.Mixed)]
    [InlineData(2, Shape.Dense)]
    [InlineData(3, Shape.Sparse)]
    public void RandomOperations_MatchASortedModel(int seed, Shape shape)
    {
        const int Operations = 200_000;
        var random = new Random(seed);
        var tree = new RadixTree<int>();
        var model = new SortedDictionary<StreamId, int>();
        var sorted = new List<StreamId>();

        for (var op = 0; op < Operations; op++)
        {
            var key = NextKey(random, shape, sorted);
            var value = random.Next();
            var kind = random.Next(100);
            // Keep the model small enough for its O(n) inserts, while letting shapes grow to thousands of keys.
            if (sorted.Count > 6000 && kind < 30) kind += 30;

            if (kind < 20)
            {
                var added = model.TryAdd(key, value);
                if (added) sorted.Insert(~sorted.BinarySearch(key), key);
                Assert.Equal(added, tree.TryAdd(key, value));
            }
            else if (kind < 30)
            {
                if (!model.ContainsKey(key)) sorted.Insert(~sorted.BinarySearch(key), key);
                model[key] = value;
                tree.Set(key, value);
            }
            else if (kind < 50)
            {
                if (sorted.Count > 0 && random.Next(2) == 0) key = sorted[random.Next(sorted.Count)];
                var removed = model.Remove(key, out var expectedValue);
                if (removed) sorted.RemoveAt(sorted.BinarySearch(key));
                Assert.Equal((removed, expectedValue), (tree.Remove(key, out var actualValue), removed ? actualValue : 0));
            }
            else if (kind < 60)
            {
                if (sorted.Count > 0 && random.Next(2) == 0) key = sorted[random.Next(sorted.Count)];
                var expected = model.TryGetValue(key, out var expectedValue);
                Assert.Equal((expected, expectedValue), (tree.TryGetValue(key, out var actualValue), expected ? actualValue : 0));
            }
            else if (kind < 77)
            {
                var i = sorted.BinarySearch(key);
                if (i < 0) i = ~i;
                var expected = i < sorted.Count ? (true, sorted[i], model[sorted[i]]) : (false, default(StreamId), 0);
                Assert.Equal(expected, Ceiling(tree, key));
            }
            else if (kind < 94)
            {
                var i = sorted.BinarySearch(key);
                if (i < 0) i = ~i - 1;
                var expected = i >= 0 ? (true, sorted[i], model[sorted[i]]) : (false, default(StreamId), 0);
                Assert.Equal(expected, Floor(tree, key));
            }
            else if (kind < 97)
            {
                var expected = sorted.Count > 0 ? (true, sorted[0], model[sorted[0]]) : (false, default(StreamId), 0);
                Assert.Equal(expected, tree.TryGetFirst(out var k, out var v) ? (true, k, v) : (false, default(StreamId), 0));
            }
            else
            {
                var expected = sorted.Count > 0 ? (true, sorted[^1], model[sorted[^1]]) : (false, default(StreamId), 0);
                Assert.Equal(expected, tree.TryGetLast(out var k, out var v) ? (true, k, v) : (false, default(StreamId), 0));
            }

            Assert.Equal(model.Count, tree.Count);
            if (op < 20_000 || op % 1000 == 0) tree.CheckInvariants();
            if (op % 50_000 == 0) Assert.Equal(sorted, KeysBySeeking(tree));
        }

        tree.CheckInvariants();
        Assert.Equal(sorted, KeysBySeeking(tree));
        Assert.Equal(sorted, KeysBySeekingBackwards(tree));
        Assert.Equal(model.ToList(), tree.ToList());
    }

    private static readonly byte[] EdgeBytes = [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF];

    private static StreamId NextKey(Random random, Shape shape, List<StreamId> present)
    {
        var generator = shape switch
        {
            Shape.Dense => random.Next(3),
            Shape.Sparse => 3 + random.Next(3),
            _ => random.Next(7),
        };
        switch (generator)
        {
            case 0: // one ms, many sequence numbers: last-byte and direct nodes
                return new StreamId(1700000000000, (ulong)random.Next(700));
            case 1: // consecutive ms with small sequences: leaves on ms bytes mixed with children
                return new StreamId(1700000000000 + (ulong)random.Next(2000), (ulong)random.Next(3));
            case 2: // tiny range: heavy churn on few keys
                return new StreamId((ulong)random.Next(4), (ulong)random.Next(4));
            case 3: // anywhere
                return new StreamId(NextUInt64(random), NextUInt64(random));
            case 4: // every byte from a few edge values: splits at every depth, ordering at byte boundaries
                {
                    Span<byte> bytes = stackalloc byte[16];
                    foreach (ref var b in bytes) b = EdgeBytes[random.Next(EdgeBytes.Length)];
                    return StreamId.ReadBigEndian(bytes);
                }
            case 5: // next to a present key: neighbours that differ deep down
                {
                    if (present.Count == 0) return new StreamId(NextUInt64(random), NextUInt64(random));
                    var near = present[random.Next(present.Count)];
                    var delta = (ulong)random.Next(1, 300);
                    return random.Next(2) == 0
                        ? new StreamId(near.Ms, near.Seq + delta)
                        : new StreamId(near.Ms - delta, near.Seq);
                }
            default: // wide ms, sequence 0
                return new StreamId(NextUInt64(random) >> random.Next(64), 0);
        }
    }

    private static ulong NextUInt64(Random random) => (ulong)random.NextInt64() ^ ((ulong)random.Next(2) << 63);
}
