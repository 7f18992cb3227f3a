using System.Text;
using StreamServer.Storage;

namespace StreamServer.Tests;

/// <summary>KeyTable against a Dictionary under random operations, and the slot stability the rewrite and SCAN rely on.</summary>
public sealed class KeyTableTests
{
    private static byte[] Key(int n) => Encoding.ASCII.GetBytes("key:" + n);

    [Theory]
    [InlineData(1, 50)]
    [InlineData(2, 2000)]
    [InlineData(3, 20000)]
    public void RandomOperations_MatchADictionary_AndEntriesKeepTheirSlotUntilRemoved(int seed, int keySpace)
    {
        var random = new Random(seed);
        var table = new KeyTable();
        var model = new Dictionary<byte[], (RedisObject Value, int Slot)>(ByteArrayComparer.Instance);
        var slotsInUse = new HashSet<int>();
        for (var op = 0; op < 200_000; op++)
        {
            var key = Key(random.Next(keySpace));
            var slot = table.Find(key);
            var present = model.TryGetValue(key, out var expected);
            Assert.Equal(present ? expected.Slot : -1, slot); // found where it was put, or absent
            switch (random.Next(4))
            {
                case 0 or 1 when !present:
                    var value = new StringObject(op);
                    var added = table.Add(key, value);
                    Assert.True(slotsInUse.Add(added), "a slot in use was handed out again");
                    model[key] = (value, added);
                    break;
                case 0 or 1:
                    var replacement = new StringObject(op);
                    table.SetValueAt(slot, replacement);
                    model[key] = (replacement, slot);
                    break;
                case 2 when present:
                    table.RemoveAt(slot);
                    model.Remove(key);
                    slotsInUse.Remove(slot);
                    break;
                default:
                    if (present) Assert.Same(expected.Value, table.ValueAt(slot));
                    break;
            }
            Assert.Equal(model.Count, table.Count);
            if (op % 20_000 == 0) AssertSameContents(table, model);
        }
        AssertSameContents(table, model);
    }

    private static void AssertSameContents(KeyTable table, Dictionary<byte[], (RedisObject Value, int Slot)> model)
    {
        var seen = 0;
        for (var slot = 0; slot < table.SlotCount; slot++)
        {
            if (!table.GetAt(slot, out var key, out var value)) continue;
            seen++;
            Assert.True(model.TryGetValue(key, out var expected), "a key the model does not have");
            Assert.Equal(expected.Slot, slot);
            Assert.Same(expected.Value, value);
            Assert.Same(key, table.KeyAt(slot));
        }
        Assert.Equal(model.Count, seen);
        Assert.False(table.GetAt(table.SlotCount, out _, out _));
        Assert.False(table.GetAt(-1, out _, out _));
        Assert.Equal(model.Count, table.Entries().Count());
        foreach (var (key, (value, slot)) in model)
        {
            Assert.Equal(slot, table.Find(key));
            Assert.Same(value, table.ValueAt(slot));
        }
    }

    [Fact]
    public void Growth_KeepsEverySlot()
    {
        var table = new KeyTable();
        var slots = new Dictionary<int, int>();
        for (var i = 0; i < 100_000; i++)
        {
            slots[i] = table.Add(Key(i), new StringObject(i));
            if (i % 3 == 0) table.RemoveAt(slots[i / 2]); // frees are reused before the arrays grow
        }
        for (var i = 0; i < 100_000; i++)
        {
            var slot = table.Find(Key(i));
            if (slot >= 0) Assert.Equal(slots[i], slot);
        }
    }

    [Fact]
    public void Scan_WhileKeysComeAndGo_ReturnsEveryKeyPresentThroughout_Once()
    {
        var db = new Database(0, SystemClock.Instance);
        for (var i = 0; i < 5000; i++) db.Set(Key(i), new StringObject(i));
        var random = new Random(11);
        var returned = new Dictionary<string, int>();
        var removedOrAdded = new HashSet<string>();
        long cursor = 0;
        var next = 100_000;
        do
        {
            var keys = new List<byte[]>();
            cursor = db.Scan(cursor, 37, keys);
            foreach (var k in keys) returned[Encoding.ASCII.GetString(k)] = returned.GetValueOrDefault(Encoding.ASCII.GetString(k)) + 1;
            for (var n = 0; n < 20; n++)
            {
                // Deletions free slots ahead of and behind the cursor; additions fill them again.
                var victim = Key(random.Next(5000));
                if (db.Delete(victim)) removedOrAdded.Add(Encoding.ASCII.GetString(victim));
                var added = Key(next++);
                db.Set(added, new StringObject(next));
                removedOrAdded.Add(Encoding.ASCII.GetString(added));
            }
        }
        while (cursor != 0);
        for (var i = 0; i < 5000; i++)
        {
            var name = "key:" + i;
            if (removedOrAdded.Contains(name)) continue;
            Assert.Equal(1, returned.GetValueOrDefault(name));
        }
    }
}
