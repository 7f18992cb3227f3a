using StreamServer.Storage.Streams;
using static StreamServer.Tests.Streams.StreamTestHelpers;
using Stream = StreamServer.Storage.Streams.Stream;

namespace StreamServer.Tests.Streams;

/// <summary>
/// Random consumer-group operations on the storage layer, as the commands perform them; after each, the PEL
/// invariants of t_stream.c must hold.
/// </summary>
public class ConsumerGroupPropertyTests
{
    private sealed class Model
    {
        public readonly Dictionary<StreamId, long> DeliveryCounts = [];
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void RandomGroupOperations_KeepPelsConsistent(int seed)
    {
        const int operations = 50_000; // two seeds: 100,000 operations
        var random = new Random(seed);
        var stream = new Stream(nodeMaxEntries: 8);
        var group = stream.Groups.TryCreate("g"u8, StreamId.Min, 0)!;
        var names = new[] { "c1", "c2", "c3", "c4" };
        var fields = Fv("f", "v");
        var model = new Model();
        ulong nextMs = 1;
        long now = 1_000;

        for (var op = 0; op < operations; op++)
        {
            now += random.Next(0, 3);
            var name = System.Text.Encoding.ASCII.GetBytes(names[random.Next(names.Length)]);
            switch (random.Next(9))
            {
                case 0:
                case 1: // XADD
                    stream.Append(new StreamId(nextMs++, 0), fields);
                    break;
                case 2: // XREADGROUP > COUNT n [NOACK]
                    {
                        var consumer = group.GetOrCreateConsumer(name, now, out _);
                        var start = group.LastDeliveredId.TryIncrement(out var s) ? s : group.LastDeliveredId;
                        var noAck = random.Next(10) == 0;
                        var it = stream.Range(start, StreamId.Max, random.Next(1, 5));
                        while (it.MoveNext()) group.DeliverNew(stream, it.Current.Id, consumer, now, noAck);
                        break;
                    }
                case 3: // XREADGROUP 0 (history)
                    {
                        var consumer = group.FindConsumer(name);
                        if (consumer is null) break;
                        foreach (var (id, _) in consumer.Pending)
                        {
                            if (!stream.Contains(id)) continue;
                            ref var entry = ref group.Pending.GetValueRefOrNullRef(id);
                            entry.DeliveryTimeMs = now;
                            entry.DeliveryCount++;
                        }
                        break;
                    }
                case 4: // XACK of a random pending id (or one that is not)
                    {
                        if (group.Pending.Count > 0 && random.Next(4) != 0)
                        {
                            var id = RandomPending(group, random);
                            Assert.True(group.Acknowledge(id));
                            Assert.False(group.Acknowledge(id));
                        }
                        else Assert.False(group.Acknowledge(new StreamId(nextMs + 10, 0)));
                        break;
                    }
                case 5: // XCLAIM min-idle id
                    {
                        if (group.Pending.Count == 0) break;
                        var id = RandomPending(group, random);
                        group.Pending.TryGetValue(id, out var entry);
                        if (!stream.Contains(id))
                        {
                            group.Acknowledge(id);
                            break;
                        }
                        if (now - entry.DeliveryTimeMs < random.Next(0, 5)) break;
                        ConsumerGroup.Claim(id, ref group.Pending.GetValueRefOrNullRef(id), group.GetOrCreateConsumer(name, now, out _), now, -1, countDelivery: random.Next(2) == 0, now);
                        break;
                    }
                case 6: // XAUTOCLAIM
                    {
                        var start = group.Pending.Count > 0 && random.Next(2) == 0 ? RandomPending(group, random) : StreamId.Min;
                        List<StreamId> claimed = [], deleted = [];
                        var count = random.Next(1, 6);
                        var cursor = group.AutoClaim(stream, start, count, random.Next(0, 4), name, countDelivery: true, now, claimed, deleted, out _);
                        Assert.True(claimed.Count + deleted.Count <= count);
                        Assert.True(cursor.IsZero || cursor >= start);
                        foreach (var id in deleted) Assert.False(stream.Contains(id));
                        break;
                    }
                case 7: // XGROUP DELCONSUMER (rarely)
                    {
                        if (random.Next(5) != 0) break;
                        var consumer = group.FindConsumer(name);
                        if (consumer is null) break;
                        var had = consumer.Pending.Count;
                        var before = group.Pending.Count;
                        Assert.Equal(had, group.DeleteConsumer(consumer));
                        Assert.Equal(before - had, group.Pending.Count);
                        Assert.Null(group.FindConsumer(name));
                        break;
                    }
                case 8: // XDEL or XTRIM
                    {
                        if (stream.Length == 0) break;
                        if (random.Next(3) == 0) stream.TrimByMaxLen(Math.Max(0, stream.Length - random.Next(1, 4)), approximate: random.Next(2) == 0, limit: 0);
                        else stream.Delete(new StreamId((ulong)random.NextInt64(1, (long)nextMs), 0));
                        break;
                    }
            }
            CheckInvariants(stream, group, model);
        }
    }

    private static StreamId RandomPending(ConsumerGroup group, Random random)
    {
        var probe = new StreamId((ulong)random.NextInt64(0, 1L << 20), 0);
        if (group.Pending.SeekCeiling(probe, out var id, out _)) return id;
        group.Pending.TryGetFirst(out id, out _);
        return id;
    }

    private static void CheckInvariants(Stream stream, ConsumerGroup group, Model model)
    {
        // Every consumer PEL id is in the group PEL, owned by that consumer.
        var owned = 0;
        foreach (var consumer in group.ConsumersInOrder())
        {
            foreach (var (id, _) in consumer.Pending)
            {
                Assert.True(group.Pending.TryGetValue(id, out var inGroup));
                Assert.Same(consumer, inGroup.Consumer);
                owned++;
            }
        }
        // Group PEL = union of the consumer PELs (each entry in exactly one, its owner's).
        Assert.Equal(group.Pending.Count, owned);
        var seen = new HashSet<StreamId>();
        foreach (var (id, entry) in group.Pending)
        {
            // The model never XNACKs, so every pending entry has an owner.
            var owner = entry.Consumer;
            Assert.NotNull(owner);
            Assert.True(owner.Pending.TryGetValue(id, out _));
            Assert.Same(owner, group.FindConsumer(owner.Name));
            Assert.True(entry.DeliveryCount >= 1);
            // Delivery counts only grow while an id stays pending.
            if (model.DeliveryCounts.TryGetValue(id, out var before)) Assert.True(entry.DeliveryCount >= before, $"{id}: {before} -> {entry.DeliveryCount}");
            model.DeliveryCounts[id] = entry.DeliveryCount;
            seen.Add(id);
        }
        foreach (var id in model.DeliveryCounts.Keys.ToList())
        {
            if (!seen.Contains(id)) model.DeliveryCounts.Remove(id);
        }
        // Nothing pends beyond what was delivered, and delivery never passes the stream's last id.
        if (group.Pending.TryGetLast(out var lastPending, out _)) Assert.True(lastPending <= group.LastDeliveredId);
        Assert.True(group.LastDeliveredId <= stream.LastId);
        if (group.EntriesRead != ConsumerGroup.InvalidEntriesRead) Assert.InRange(group.EntriesRead, 0, stream.EntriesAdded);
        if (group.Lag(stream) is { } lag) Assert.InRange(lag, 0, stream.EntriesAdded);
    }
}
