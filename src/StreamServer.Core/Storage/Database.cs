namespace StreamServer.Storage;

/// <summary>
/// One of the numbered databases (SELECT): key bytes → value, plus absolute expiry times in Unix milliseconds.
/// Expiry is lazy on every lookup, plus an active cycle (<see cref="ActiveExpireCycle"/>) driven by the dispatcher.
/// </summary>
public sealed class Database
{
    // Both replaced (not cleared) by Clear: an AOF rewrite still walking the old ones keeps them (see SnapshotSource).
    private KeyTable _entries = new();
    private Dictionary<byte[], long> _expires = new(ByteArrayComparer.Instance);
    private Dictionary<byte[], long>.AlternateLookup<ReadOnlySpan<byte>> _expiresBySpan;
    private readonly PriorityQueue<byte[], long> _expiryQueue = new();
    private readonly IClock _clock;

    public Database(int index, IClock clock)
    {
        Index = index;
        _clock = clock;
        _expiresBySpan = _expires.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    public int Index { get; }

    public int Count => _entries.Count;

    public int ExpiresCount => _expires.Count;

    /// <summary>Keys removed because their time ran out (INFO expired_keys).</summary>
    public long ExpiredKeys { get; private set; }

    /// <summary>Raised for every key that is written, deleted or expires (WATCH, blocking, keyspace bookkeeping).</summary>
    public event Action<Database, ReadOnlyMemory<byte>>? KeyTouched;

    /// <summary>Raised when a key is added (Redis's dbAdd: keyspace event "new").</summary>
    public event Action<Database, byte[]>? KeyAdded;

    /// <summary>Raised when a key expires (lazily or actively), before the touch and removal events (AOF propagates a DEL).</summary>
    public event Action<Database, byte[]>? KeyExpired;

    /// <summary>True while the AOF loads (<see cref="Keyspace.Loading"/>): no key expires.</summary>
    public bool IsLoading { get; internal set; }

    /// <summary>True while an expiry raises its events: a change that no command made (not counted as dirty).</summary>
    public bool IsExpiring { get; private set; }

    /// <summary>
    /// Set while an AOF rewrite runs (Persistence/AofRewriter): called with an entry's key and value before anything
    /// may change the entry — every lookup (the caller may change the value in place), replacement, removal, expiry,
    /// RENAME, a change of its expiry time — while the entry is still as it was (its expiry time too). The rewrite
    /// writes an entry of its snapshot that it has not written yet there and then. All changes go through
    /// <see cref="BeforeChange"/>, the one place that calls it. Values stored meanwhile get
    /// <see cref="RewriteStoredState"/>: they are not part of the snapshot.
    /// </summary>
    internal Action<byte[], RedisObject>? RewriteAccess;

    internal int RewriteStoredState;

    /// <summary>Raised when a key is deleted or expires, with the value that went.</summary>
    public event Action<Database, byte[], RedisObject>? KeyRemoved;

    public IEnumerable<KeyValuePair<byte[], RedisObject>> Entries => _entries.Entries();

    /// <summary>
    /// The AOF rewrite's snapshot source: the key table and expiry map as they are now. The rewrite walks the table's
    /// slots in chunks (<see cref="KeyTable.GetAt"/>) on the dispatcher; <see cref="Clear"/> replaces both objects
    /// rather than emptying them, so a walk in progress finishes over the flushed entries, which nothing can reach
    /// or change any more.
    /// </summary>
    internal (KeyTable Entries, Dictionary<byte[], long> Expires) SnapshotSource() => (_entries, _expires);

    /// <summary>The one call of <see cref="RewriteAccess"/>: the entry (key, value, expiry) is about to change or be used.</summary>
    private void BeforeChange(byte[] key, RedisObject value) => RewriteAccess?.Invoke(key, value);

    /// <summary>The live value, or null; an expired key is removed on the way (lazy expiry).</summary>
    public RedisObject? Get(ReadOnlySpan<byte> key)
    {
        var slot = _entries.Find(key);
        if (slot < 0) return null;
        var value = _entries.ValueAt(slot);
        if (_expires.Count != 0 && !IsLoading && _expiresBySpan.TryGetValue(key, out var when) && when < _clock.NowMs)
        {
            Expire(slot);
            return null;
        }
        if (RewriteAccess is not null) BeforeChange(_entries.KeyAt(slot), value);
        return value;
    }

    public bool Exists(ReadOnlySpan<byte> key) => Get(key) is not null;

    /// <summary>True when the key is present but its time has run out; removes nothing (safe while enumerating <see cref="Entries"/>).</summary>
    public bool IsExpired(ReadOnlySpan<byte> key)
        => _expires.Count != 0 && !IsLoading && _expiresBySpan.TryGetValue(key, out var when) && when < _clock.NowMs;

    /// <summary>Adds or replaces the value; keeps the expiry only if <paramref name="keepTtl"/>.</summary>
    public void Set(ReadOnlySpan<byte> key, RedisObject value, bool keepTtl = false)
    {
        var slot = _entries.Find(key);
        if (slot >= 0)
        {
            var actualKey = _entries.KeyAt(slot);
            if (RewriteAccess is not null)
            {
                BeforeChange(actualKey, _entries.ValueAt(slot));
                value.RewriteState = RewriteStoredState;
            }
            _entries.SetValueAt(slot, value);
            if (!keepTtl) _expires.Remove(actualKey);
            Touch(actualKey);
        }
        else
        {
            Add(key, value);
        }
    }

    /// <summary>Adds a value under a key known to be absent; returns the stored key.</summary>
    public byte[] Add(ReadOnlySpan<byte> key, RedisObject value)
    {
        if (RewriteAccess is not null) value.RewriteState = RewriteStoredState;
        var actualKey = key.ToArray();
        _entries.Add(actualKey, value);
        Touch(actualKey);
        KeyAdded?.Invoke(this, actualKey);
        return actualKey;
    }

    public bool Delete(ReadOnlySpan<byte> key)
    {
        if (Get(key) is null) return false;
        var slot = _entries.Find(key);
        var actualKey = _entries.KeyAt(slot);
        var value = Remove(slot);
        Touch(actualKey);
        KeyRemoved?.Invoke(this, actualKey, value);
        return true;
    }

    /// <summary>Removes the entry in <paramref name="slot"/> and its expiry; returns the value.</summary>
    private RedisObject Remove(int slot)
    {
        var key = _entries.KeyAt(slot);
        var value = _entries.ValueAt(slot);
        BeforeChange(key, value);
        _entries.RemoveAt(slot);
        if (_expires.Count != 0) _expires.Remove(key);
        return value;
    }

    /// <summary>
    /// RENAME: moves the live value (and its expiry) under <paramref name="source"/> to <paramref name="destination"/>,
    /// deleting whatever the destination held. The value object moves as it is: only the destination's old value
    /// is reported removed.
    /// </summary>
    public void Rename(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination)
    {
        if (Get(source) is null) return;
        var slot = _entries.Find(source);
        var sourceKey = _entries.KeyAt(slot);
        var when = _expires.TryGetValue(sourceKey, out var w) ? w : -1;
        var value = Remove(slot);
        Touch(sourceKey);
        Delete(destination);
        var destinationKey = Add(destination, value);
        if (when != -1) SetExpiry(destinationKey, when);
    }

    /// <summary>Signals that a value changed in place (WATCH, blocked readers).</summary>
    public void Touch(ReadOnlySpan<byte> key)
    {
        if (KeyTouched is null) return;
        var slot = _entries.Find(key);
        if (slot >= 0) Touch(_entries.KeyAt(slot));
        else KeyTouched(this, key.ToArray());
    }

    private void Touch(byte[] key) => KeyTouched?.Invoke(this, key);

    /// <summary>Absolute expiry in Unix ms, or -1 when the key has none.</summary>
    public long GetExpiry(ReadOnlySpan<byte> key) => _expires.Count != 0 && _expiresBySpan.TryGetValue(key, out var when) ? when : -1;

    public void SetExpiry(ReadOnlySpan<byte> key, long unixMs)
    {
        var slot = _entries.Find(key);
        if (slot < 0) return;
        var actualKey = _entries.KeyAt(slot);
        BeforeChange(actualKey, _entries.ValueAt(slot));
        _expires[actualKey] = unixMs;
        _expiryQueue.Enqueue(actualKey, unixMs);
        if (_expiryQueue.Count > 2 * _expires.Count + 1024) RebuildExpiryQueue();
    }

    public bool RemoveExpiry(ReadOnlySpan<byte> key)
    {
        if (_expires.Count == 0) return false;
        if (RewriteAccess is not null && _entries.Find(key) is var slot and >= 0) BeforeChange(_entries.KeyAt(slot), _entries.ValueAt(slot));
        return _expiresBySpan.Remove(key);
    }

    /// <summary>FLUSHDB: new, empty tables (an AOF rewrite walking the old ones finishes over them, see <see cref="SnapshotSource"/>).</summary>
    public void Clear()
    {
        var entries = _entries;
        _entries = new KeyTable();
        _expires = new Dictionary<byte[], long>(ByteArrayComparer.Instance);
        _expiresBySpan = _expires.GetAlternateLookup<ReadOnlySpan<byte>>();
        _expiryQueue.Clear();
        if (KeyRemoved is null && KeyTouched is null) return;
        foreach (var (key, value) in entries.Entries())
        {
            KeyRemoved?.Invoke(this, key, value);
            Touch(key);
        }
    }

    /// <summary>Removes expired keys, at most <paramref name="budget"/> of them; returns how many went.</summary>
    public int ActiveExpireCycle(int budget)
    {
        if (IsLoading) return 0;
        var now = _clock.NowMs;
        var removed = 0;
        while (removed < budget && _expiryQueue.TryPeek(out var key, out var when) && when < now)
        {
            _expiryQueue.Dequeue();
            // The queue may hold stale times (EXPIRE changed, PERSIST, key deleted): the expires map is the truth.
            if (_expires.TryGetValue(key, out var actual) && actual < now && _entries.Find(key) is var slot and >= 0)
            {
                Expire(slot);
                removed++;
            }
        }
        return removed;
    }

    private void Expire(int slot)
    {
        var key = _entries.KeyAt(slot);
        IsExpiring = true;
        try
        {
            KeyExpired?.Invoke(this, key);
            var value = Remove(_entries.Find(key)); // found again: the event's handlers may have changed the table
            ExpiredKeys++;
            Touch(key);
            KeyRemoved?.Invoke(this, key, value);
        }
        finally
        {
            IsExpiring = false;
        }
    }

    private void RebuildExpiryQueue()
    {
        _expiryQueue.Clear();
        foreach (var (key, when) in _expires) _expiryQueue.Enqueue(key, when);
    }

    /// <summary>A live key chosen at random, or null when empty (RANDOMKEY).</summary>
    public byte[]? RandomKey(Random random)
    {
        for (var attempt = 0; attempt < 100 && _entries.Count > 0; attempt++)
        {
            // A random slot; a free one (after deletions) moves on to the next occupied slot, wrapping around.
            var slots = _entries.SlotCount;
            var slot = random.Next(slots);
            byte[]? chosen = null;
            for (var n = 0; n < slots && !_entries.GetAt(slot, out chosen, out _); n++) slot = slot + 1 == slots ? 0 : slot + 1;
            if (chosen is not null && Get(chosen) is not null) return chosen;
        }
        return null;
    }

    /// <summary>
    /// One SCAN step: up to <paramref name="count"/> keys from slot <paramref name="cursor"/> on; returns the slot to
    /// continue from, or 0 at the end. Entries keep their slot until removed (<see cref="KeyTable"/>), so every key
    /// present for the whole scan is returned, once.
    /// </summary>
    public long Scan(long cursor, int count, List<byte[]> into)
    {
        var slots = _entries.SlotCount;
        var slot = cursor;
        for (; slot < slots && into.Count < count; slot++)
        {
            if (_entries.GetAt((int)slot, out var key, out _)) into.Add(key);
        }
        return slot >= slots ? 0 : slot;
    }
}

/// <summary>The time source (Unix milliseconds); tests and AOF replay can substitute it.</summary>
public interface IClock
{
    long NowMs { get; }
}

public sealed class SystemClock : IClock
{
    public static readonly SystemClock Instance = new();

    public long NowMs => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
