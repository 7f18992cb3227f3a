using System.Text;
using StreamServer.Storage;

namespace StreamServer.Tests;

/// <summary>
/// A snapshot of a set or hash shares its collection (CollectionObject): whatever the value does afterwards, the
/// snapshot must still hold the value as it was when taken, and the live value must be as if no snapshot had been
/// taken — while the snapshot is held, after it is released, and while the changes kept aside are being applied.
/// </summary>
public class CollectionSnapshotTests
{
    private static byte[] B(string s) => Encoding.ASCII.GetBytes(s);

    private static HashObject BuildHash(int n)
    {
        var hash = new HashObject();
        for (var i = 0; i < n; i++) hash.Set(B($"f{i}"), B($"v{i}"));
        return hash;
    }

    private static SetObject BuildSet(int n)
    {
        var set = new SetObject();
        for (var i = 0; i < n; i++) set.Add(B($"m{i}"));
        return set;
    }

    private static string Dump(HashObject hash)
    {
        var pairs = hash.Fields.Select(p => Encoding.ASCII.GetString(p.Key) + "=" + Encoding.ASCII.GetString(p.Value)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(hash.Count, pairs.Count);
        Assert.Equal(pairs.Count, pairs.Distinct().Count());
        foreach (var pair in hash.Fields) Assert.True(hash.TryGetValue(pair.Key, out var v) && v.SequenceEqual(pair.Value));
        return string.Join(',', pairs);
    }

    private static string Dump(SetObject set)
    {
        var members = set.Members.Select(Encoding.ASCII.GetString).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(set.Count, members.Count);
        Assert.Equal(members.Count, members.Distinct().Count());
        foreach (var m in set.Members) Assert.True(set.Contains(m));
        return string.Join(',', members);
    }

    /// <summary>Field changes as the hash commands make them: new, overwritten, removed, removed and set again, a miss.</summary>
    private static void ChangeHash(HashObject hash, int round)
    {
        Assert.True(hash.Set(B($"new{round}"), B("x")));
        Assert.False(hash.Set(B("f1"), B($"changed{round}")));
        Assert.Equal(round == 0, hash.Remove(B("f2")));
        Assert.False(hash.Remove(B("missing")));
        Assert.True(hash.Remove(B($"f{3 + 2 * round}")));
        Assert.True(hash.Set(B($"f{3 + 2 * round}"), B("again")));
        Assert.True(hash.Remove(B($"f{4 + 2 * round}")));
    }

    private static void ChangeSet(SetObject set, int round)
    {
        Assert.True(set.Add(B($"new{round}")));
        Assert.False(set.Add(B("m1")));
        Assert.Equal(round == 0, set.Remove(B("m2")));
        Assert.False(set.Remove(B("missing")));
        Assert.True(set.Remove(B($"m{3 + 2 * round}")));
        Assert.True(set.Add(B($"m{3 + 2 * round}")));
        Assert.True(set.Remove(B($"m{4 + 2 * round}")));
    }

    [Theory]
    [InlineData(50)]
    [InlineData(5000)] // more changes than one access applies (CollectionObject.ApplyPerAccess)
    public void HashSnapshot_KeepsTheHashAsTaken_AndTheLiveHashHasEveryChange(int changes)
    {
        var live = BuildHash(3000);
        var twin = BuildHash(3000); // the same hash, never snapshotted: what the live one must stay equal to
        var snapshot = live.TakeSnapshot(new SnapshotLease());
        var taken = Dump((HashObject)snapshot.Value);

        for (var round = 0; round < changes / 5; round++)
        {
            foreach (var h in new[] { live, twin }) ChangeHash(h, round);
        }
        Assert.True(live.HasChangesAsideForTests);
        Assert.Equal(taken, Dump((HashObject)snapshot.Value));
        Assert.Equal(Dump(twin), Dump(live));

        snapshot.Release();
        // Each access applies a bounded part of the changes; the live hash reads the same all along.
        for (var access = 0; live.HasChangesAsideForTests; access++)
        {
            Assert.True(access < 20, "the changes are never all applied");
            Assert.Equal(Dump(twin), Dump(live));
        }
        ChangeHash(live, 1400);
        ChangeHash(twin, 1400);
        Assert.False(live.HasChangesAsideForTests);
        Assert.Equal(Dump(twin), Dump(live));
    }

    [Theory]
    [InlineData(50)]
    [InlineData(5000)]
    public void SetSnapshot_KeepsTheSetAsTaken_AndTheLiveSetHasEveryChange(int changes)
    {
        var live = BuildSet(3000);
        var twin = BuildSet(3000);
        var snapshot = live.TakeSnapshot(new SnapshotLease());
        var taken = Dump((SetObject)snapshot.Value);

        for (var round = 0; round < changes / 5; round++)
        {
            foreach (var s in new[] { live, twin }) ChangeSet(s, round);
        }
        Assert.True(live.HasChangesAsideForTests);
        Assert.Equal(taken, Dump((SetObject)snapshot.Value));
        Assert.Equal(Dump(twin), Dump(live));

        snapshot.Release();
        for (var access = 0; live.HasChangesAsideForTests; access++)
        {
            Assert.True(access < 20, "the changes are never all applied");
            Assert.Equal(Dump(twin), Dump(live));
        }
        ChangeSet(live, 1400);
        ChangeSet(twin, 1400);
        Assert.Equal(Dump(twin), Dump(live));
    }

    [Fact]
    public void EndedLease_ReleasesTheSnapshot_AndChangesGoInPlaceAgain()
    {
        var live = BuildHash(100);
        var lease = new SnapshotLease();
        live.TakeSnapshot(lease);
        live.Set(B("a"), B("1"));
        Assert.True(live.HasChangesAsideForTests);
        lease.End();
        live.Set(B("b"), B("2"));
        Assert.False(live.HasChangesAsideForTests);
        Assert.Equal(102, live.Count);
    }

    [Fact]
    public void SecondSnapshot_WhileTheFirstIsHeld_EachKeepsItsOwnState()
    {
        // An abandoned rewrite's thread may still read the first when the next rewrite takes the second.
        var live = BuildSet(100);
        var first = live.TakeSnapshot(new SnapshotLease());
        live.Add(B("after-first"));
        var second = live.TakeSnapshot(new SnapshotLease());
        live.Add(B("after-second"));
        live.Remove(B("m0"));
        first.Release(); // the second still reads: changes stay aside
        live.Add(B("after-release"));
        Assert.True(live.HasChangesAsideForTests);

        Assert.Equal(100, ((SetObject)first.Value).Count);
        Assert.False(((SetObject)first.Value).Contains(B("after-first")));
        Assert.Equal(101, ((SetObject)second.Value).Count);
        Assert.True(((SetObject)second.Value).Contains(B("after-first")));
        Assert.False(((SetObject)second.Value).Contains(B("after-second")));
        Assert.True(((SetObject)second.Value).Contains(B("m0")));
        Assert.Equal(102, live.Count);
        Assert.False(live.Contains(B("m0")));

        second.Release();
        Assert.Equal(102, live.Count);
        Assert.False(live.HasChangesAsideForTests);
        Assert.True(live.Contains(B("after-release")));
    }

    [Fact]
    public void SecondSnapshot_OfTheSameCollection_KeepsTheFirstHeld()
    {
        var live = BuildHash(10);
        var first = live.TakeSnapshot(new SnapshotLease());
        var second = live.TakeSnapshot(new SnapshotLease()); // no change between: both share one collection
        second.Release();
        live.Set(B("f0"), B("changed"));
        Assert.True(((HashObject)first.Value).TryGetValue(B("f0"), out var v) && v.SequenceEqual(B("v0")));
        Assert.True(live.TryGetValue(B("f0"), out var now) && now.SequenceEqual(B("changed")));
    }

    /// <summary>
    /// The reader releases its snapshot on its own thread at any moment, also while a change is being recorded: a
    /// change must land either in the collection or in the changes kept aside, never in a list that was just applied
    /// and dropped. (An SADD recorded into such a list was lost without a trace, and one that failed on the dropped
    /// state answered an error; the kill -9 crash test found one acknowledged SADD missing that way.)
    /// </summary>
    [Fact]
    public void ChangesWhileTheReaderReleasesOnItsThread_NoneIsLost()
    {
        var set = new SetObject();
        var hash = new HashObject();
        var members = new HashSet<string>(StringComparer.Ordinal);
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < 100; i++)
        {
            set.Add(Encoding.ASCII.GetBytes("base" + i));
            members.Add("base" + i);
            hash.Set(Encoding.ASCII.GetBytes("base" + i), "v"u8);
            fields["base" + i] = "v";
        }
        var random = new Random(7);
        for (var round = 0; round < 3000; round++)
        {
            var setSnapshot = set.TakeSnapshot(new SnapshotLease());
            var hashSnapshot = hash.TakeSnapshot(new SnapshotLease());
            var spins = random.Next(0, 2000);
            var releaser = new Thread(() =>
            {
                Thread.SpinWait(spins);
                setSnapshot.Release();
                hashSnapshot.Release();
            });
            releaser.Start();
            for (var k = 0; k < 20; k++)
            {
                var name = $"r{round}-{k}";
                Assert.True(set.Add(Encoding.ASCII.GetBytes(name)));
                members.Add(name);
                var old = "base" + random.Next(100);
                Assert.Equal(members.Remove(old), set.Remove(Encoding.ASCII.GetBytes(old)));
                Assert.True(hash.Set(Encoding.ASCII.GetBytes(name), "x"u8));
                fields[name] = "x";
                Assert.Equal(fields.Remove(old), hash.Remove(Encoding.ASCII.GetBytes(old)));
            }
            releaser.Join();
        }
        Assert.Equal(members.Count, set.Count);
        Assert.Equal(members.Order(StringComparer.Ordinal), set.Members.Select(m => Encoding.ASCII.GetString(m)).Order(StringComparer.Ordinal));
        Assert.Equal(fields.Count, hash.Count);
        Assert.Equal(fields.Keys.Order(StringComparer.Ordinal), hash.Fields.Select(f => Encoding.ASCII.GetString(f.Key)).Order(StringComparer.Ordinal));
    }
}
