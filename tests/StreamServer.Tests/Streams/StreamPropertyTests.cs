using StreamServer.Storage.Streams;
using static StreamServer.Tests.Streams.StreamTestHelpers;
using Stream = StreamServer.Storage.Streams.Stream;

namespace StreamServer.Tests.Streams;

/// <summary>
/// Random operations against a sorted-dictionary model, with tiny nodes so they split, empty and go often.
/// Approximate trims are checked against Redis's whole-node rule applied to the node summaries taken just
/// before the trim (the summaries themselves are checked against the model every few hundred operations).
/// </summary>
public class StreamPropertyTests
{
    private sealed class OperationFailedException(string message, Exception inner) : Exception(message, inner);

    private static readonly string[] FieldNames = ["user", "amount", "a", "", "x"];

    [Theory]
    [InlineData(1, 3, 64)]
    [InlineData(2, 5, 128)]
    [InlineData(3, 4, 96)]
    [InlineData(4, 100, 4096)]
    public void RandomOperations_MatchTheModel(int seed, int maxEntries, int maxBytes)
    {
        const int operations = 100_000;
        var random = new Random(seed);
        var stream = new Stream(maxEntries, maxBytes);
        var model = new SortedDictionary<StreamId, string[]>();
        var lastId = StreamId.Min;
        var maxDeleted = StreamId.Min;
        long entriesAdded = 0;
        ulong clock = 1000;

        for (var op = 0; op < operations; op++)
        {
            var roll = random.Next(100);
            try
            {
                Step(op, roll);
            }
            catch (Exception e) when (e is not OperationFailedException)
            {
                throw new OperationFailedException($"operation {op} (roll {roll}) failed: {e.Message}", e);
            }
        }
        CheckEverything();

        void Step(int op, int roll)
        {
            if (roll < 45) Append();
            else if (roll < 57) Delete();
            else if (roll < 60) TrimMaxLen(approximate: false);
            else if (roll < 66) TrimMaxLen(approximate: true);
            else if (roll < 69) TrimMinId(approximate: false);
            else if (roll < 75) TrimMinId(approximate: true);
            else if (roll < 87) CompareRange(reverse: false);
            else if (roll < 99) CompareRange(reverse: true);
            else SetIdOrLimits();

            Assert.Equal(model.Count, stream.Length);
            Assert.Equal(model.Count == 0 ? StreamId.Min : model.Keys.First(), stream.FirstId);
            Assert.Equal((lastId, maxDeleted, entriesAdded), (stream.LastId, stream.MaxDeletedId, stream.EntriesAdded));
            if (op % 500 == 0) CheckEverything();
        }

        void Append()
        {
            StreamId id;
            StreamAddStatus status;
            var kind = random.Next(10);
            if (kind < 6)
            {
                clock = random.Next(10) == 0 ? clock - (ulong)random.Next(5) : clock + (ulong)random.Next(3);
                status = stream.TryNextId(clock, out id);
                Assert.Equal(StreamAddStatus.Ok, status);
                Assert.Equal(clock > lastId.Ms ? new StreamId(clock, 0) : new StreamId(lastId.Ms, lastId.Seq + 1), id);
            }
            else if (kind < 8)
            {
                var ms = Near(lastId.Ms);
                status = stream.TryAutoSequenceId(ms, out id);
                var expected = ms == lastId.Ms ? new StreamId(ms, lastId.Seq + 1) : new StreamId(ms, 0);
                Assert.Equal(expected > lastId ? StreamAddStatus.Ok : StreamAddStatus.IdNotGreaterThanLast, status);
                if (status != StreamAddStatus.Ok) return;
                Assert.Equal(expected, id);
            }
            else
            {
                id = new StreamId(Near(lastId.Ms), (ulong)random.Next(4));
                status = stream.ValidateExplicitId(id);
                var expected = id.IsZero ? StreamAddStatus.IdZero : id > lastId ? StreamAddStatus.Ok : StreamAddStatus.IdNotGreaterThanLast;
                Assert.Equal(expected, status);
                if (status != StreamAddStatus.Ok)
                {
                    if (!id.IsZero) Assert.Equal(StreamAddStatus.IdNotGreaterThanLast, stream.Append(id, Fv("f", "v")));
                    return;
                }
            }

            var items = RandomFields();
            Assert.Equal(StreamAddStatus.Ok, stream.Append(id, Fv(items)));
            model.Add(id, items);
            lastId = id;
            entriesAdded++;
        }

        // A millisecond one below, equal to or one above the given one (ids stay far from 0 and the maximum).
        ulong Near(ulong ms) => ms == 0 ? (ulong)random.Next(2) : ms + (ulong)random.Next(3) - 1;

        string[] RandomFields()
        {
            var pairs = random.Next(8) == 0 ? random.Next(1, 5) : 2;
            var items = new string[pairs * 2];
            var sameShape = random.Next(3) > 0;
            for (var i = 0; i < pairs; i++)
            {
                items[2 * i] = sameShape ? FieldNames[i] : FieldNames[random.Next(FieldNames.Length)];
                items[2 * i + 1] = random.Next(6) switch
                {
                    0 => "",
                    1 => random.Next(-5000, 5000).ToString(),
                    2 => new string((char)random.Next(256), random.Next(40, 140)),
                    _ => new string((char)random.Next(256), random.Next(1, 12)),
                };
            }
            return items;
        }

        StreamId PickId()
        {
            if (model.Count > 0 && random.Next(4) > 0) return model.Keys.ElementAt(random.Next(model.Count));
            return new StreamId(clock - (ulong)random.Next(200), (ulong)random.Next(3));
        }

        void Delete()
        {
            var id = PickId();
            var expected = model.Remove(id);
            Assert.Equal(expected, stream.Delete(id));
            if (expected && id > maxDeleted) maxDeleted = id;
        }

        void TrimMaxLen(bool approximate)
        {
            // Mostly a few entries (so streams grow to thousands and ranges cross many nodes), sometimes most of them.
            var maxLen = random.Next(1000) == 0 ? random.Next(model.Count + 1) : Math.Max(0, model.Count - random.Next(TrimStep()));
            var limit = approximate && random.Next(3) == 0 ? random.Next(1, 20) : 0;
            long expected;
            if (approximate)
            {
                var length = (long)model.Count;
                expected = 0;
                foreach (var node in stream.DescribeNodes())
                {
                    if (length <= maxLen) break;
                    if (limit > 0 && expected + node.Live > limit) break;
                    if (length - node.Live < maxLen) break;
                    length -= node.Live;
                    expected += node.Live;
                }
            }
            else
            {
                expected = Math.Max(0, model.Count - maxLen);
            }
            Assert.Equal(expected, stream.TrimByMaxLen(maxLen, approximate, limit));
            RemoveOldest(expected, StreamId.Max);
            if (!approximate) Assert.True(model.Count <= maxLen);
        }

        void TrimMinId(bool approximate)
        {
            var minId = random.Next(2000) == 0 ? new StreamId(clock + 10, 0)
                : random.Next(1000) == 0 || model.Count == 0 ? PickId()
                : model.Keys.ElementAt(random.Next(Math.Min(model.Count, TrimStep())));
            var limit = approximate && random.Next(3) == 0 ? random.Next(1, 20) : 0;
            long expected;
            if (approximate)
            {
                expected = 0;
                foreach (var node in stream.DescribeNodes())
                {
                    if (limit > 0 && expected + node.Live > limit) break;
                    if (node.LastEntryId >= minId) break;
                    expected += node.Live;
                }
            }
            else
            {
                expected = model.Keys.Count(k => k < minId);
            }
            Assert.Equal(expected, stream.TrimByMinId(minId, approximate, limit));
            RemoveOldest(expected, minId);
        }

        // Small trims let the stream grow to about 1,500 entries; larger ones then hold it there.
        int TrimStep() => model.Count > 1500 ? 40 : 4;

        // Removes the n oldest model entries, each of which must be below 'bound'.
        void RemoveOldest(long n, StreamId bound)
        {
            foreach (var id in model.Keys.Take((int)n).ToList())
            {
                Assert.True(id < bound);
                model.Remove(id);
            }
        }

        void CompareRange(bool reverse)
        {
            var a = PickId();
            var b = random.Next(5) == 0 ? StreamId.Max : PickId();
            if (random.Next(10) == 0) a = StreamId.Min;
            if (a > b && random.Next(4) > 0) (a, b) = (b, a);
            var count = random.Next(3) == 0 ? 0 : random.Next(1, 8);
            IEnumerable<KeyValuePair<StreamId, string[]>> expected = model.Where(kv => kv.Key >= a && kv.Key <= b);
            if (reverse) expected = expected.Reverse();
            if (count > 0) expected = expected.Take(count);
            var actual = ReadAll(reverse ? stream.ReverseRange(a, b, count) : stream.Range(a, b, count));
            Assert.Equal(expected.Select(kv => new Entry(kv.Key, kv.Value)), actual);
        }

        void SetIdOrLimits()
        {
            if (random.Next(2) == 0)
            {
                lastId = new StreamId(lastId.Ms + (ulong)random.Next(3), lastId.Seq + (ulong)random.Next(3)); // ids stay far below the maximum
                stream.LastId = lastId;
            }
            else
            {
                // CONFIG SET between appends: existing nodes may now be over the limits.
                stream.NodeMaxEntries = random.Next(2) == 0 ? maxEntries : random.Next(1, 8);
                stream.NodeMaxBytes = random.Next(2) == 0 ? maxBytes : random.Next(0, 200);
            }
        }

        void CheckEverything()
        {
            Assert.Equal(model.Select(kv => new Entry(kv.Key, kv.Value)), stream.All());
            var reversed = ReadAll(stream.ReverseRange(StreamId.Min, StreamId.Max));
            reversed.Reverse();
            Assert.Equal(model.Select(kv => new Entry(kv.Key, kv.Value)), reversed);

            // Node summaries: live counts partition the model, keys ascend, each node's last entry bounds its live ones.
            var nodes = stream.DescribeNodes().ToList();
            Assert.Equal(stream.Length, nodes.Sum(n => (long)n.Live));
            using var keys = model.Keys.GetEnumerator();
            var hasKey = keys.MoveNext();
            for (var i = 0; i < nodes.Count; i++)
            {
                Assert.True(nodes[i].LastEntryId >= nodes[i].Key);
                Assert.True(i == 0 || nodes[i].Key > nodes[i - 1].LastEntryId);
                var live = 0;
                for (; hasKey && (i + 1 == nodes.Count || keys.Current < nodes[i + 1].Key); hasKey = keys.MoveNext())
                {
                    Assert.True(keys.Current >= nodes[i].Key && keys.Current <= nodes[i].LastEntryId);
                    live++;
                }
                Assert.Equal(nodes[i].Live, live);
            }
            Assert.True(stream.EstimatedBytes >= nodes.Count * (long)Stream.ArrayOverhead);
        }
    }
}
