using StreamServer.Storage;

namespace StreamServer.Tests;

/// <summary>A key is alive up to and including its expiry millisecond, as Redis's keyIsExpired (now &gt; when).</summary>
public class ExpiryTests
{
    private sealed class ManualClock : IClock
    {
        public long NowMs { get; set; }
    }

    [Fact]
    public void Key_IsAliveAtItsExpiryMillisecond_GoneTheMillisecondAfter_LazyExpiry()
    {
        var clock = new ManualClock { NowMs = 1_000 };
        var db = new Database(0, clock);
        db.Set("k"u8, new StringObject(1));
        db.SetExpiry("k"u8, 1_500);
        clock.NowMs = 1_500;
        Assert.False(db.IsExpired("k"u8));
        Assert.NotNull(db.Get("k"u8));
        clock.NowMs = 1_501;
        Assert.True(db.IsExpired("k"u8));
        Assert.Null(db.Get("k"u8));
    }

    [Fact]
    public void Key_IsAliveAtItsExpiryMillisecond_GoneTheMillisecondAfter_ActiveExpiry()
    {
        var clock = new ManualClock { NowMs = 1_000 };
        var db = new Database(0, clock);
        db.Set("k"u8, new StringObject(1));
        db.SetExpiry("k"u8, 1_500);
        clock.NowMs = 1_500;
        Assert.Equal(0, db.ActiveExpireCycle(100));
        Assert.Equal(1, db.Count);
        clock.NowMs = 1_501;
        Assert.Equal(1, db.ActiveExpireCycle(100));
        Assert.Equal(0, db.Count);
    }
}
