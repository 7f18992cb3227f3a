using StreamServer.Storage;

namespace StreamServer.Tests;

/// <summary>A key is alive up to and including its expiry millisecond, as Redis's keyIsExpired (now &gt; when).</summary>
public class ExpiryTests
{
    private sealed class ManualClock : IClock
    {
        public long NowMs { get; set; }
    }

    /// <summary>A database holding k, which expires at 1,500, with the clock at 1,500.</summary>
    private static (Database Db, ManualClock Clock) KeyExpiringNow()
    {
        var clock = new ManualClock { NowMs = 1_000 };
        var db = new Database(0, clock);
        db.Set("k"u8, new StringObject(1));
        db.SetExpiry("k"u8, 1_500);
        clock.NowMs = 1_500;
        return (db, clock);
    }

    [Fact]
    public void Key_IsAliveAtItsExpiryMillisecond_GoneTheMillisecondAfter_LazyExpiry()
    {
        var (db, clock) = KeyExpiringNow();
        Assert.False(db.IsExpired("k"u8));
        Assert.NotNull(db.Get("k"u8));
        clock.NowMs = 1_501;
        Assert.True(db.IsExpired("k"u8));
        Assert.Null(db.Get("k"u8));
    }

    [Fact]
    public void Key_IsAliveAtItsExpiryMillisecond_GoneTheMillisecondAfter_ActiveExpiry()
    {
        var (db, clock) = KeyExpiringNow();
        Assert.Equal(0, db.ActiveExpireCycle(100));
        Assert.Equal(1, db.Count);
        clock.NowMs = 1_501;
        Assert.Equal(1, db.ActiveExpireCycle(100));
        Assert.Equal(0, db.Count);
    }
}
