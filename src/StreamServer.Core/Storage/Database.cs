namespace StreamServer.Storage;

/// <summary>
/// One of the numbered databases (SELECT): key bytes → value, plus absolute expiry times in Unix milliseconds.
/// Expiry is lazy on every lookup, plus an active cycle (<see cref="ActiveExpireCycle"/>) driven by the dispatcher.
/// </summary>
public sealed class Database
{
    private readonly Dictionary<byte[], RedisObject> _entries = new(ByteArrayComparer.Instance);
    private readonly Dictionary<byte[], RedisObject>.AlternateLookup<ReadOnlySpan<byte>> _entriesBySpan;
    private readonly Dictionary<byte[], long> _expires = new(ByteArrayComparer.Instance);
    private readonly Dictionary<byte[], long>.AlternateLookup<ReadOnlySpan<byte>> _expiresBySpan;
    private readonly PriorityQueue<byte[], long> _expiryQueue = new();
    private readonly IClock _clock;

    public Database(int index, IClock clock)
    {
        Index = index;
        _clock = clock;
        _entriesBySpan = _entries.GetAlternateLookup<ReadOnlySpan<byte>>();
        _expiresBySpan = _expires.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    public int Index { get; }

    public int Count => _entries.Count;

    public int ExpiresCount => _expires.Count;

    /// <summary>Keys removed because their time ran out (INFO expired_keys).</summary>
    public long ExpiredKeys { get; private set; }

    /// <summary>Raised for every key that is written, deleted or expires (WATCH, blocking, keyspace bookkeeping).</summary>
    public event Action<Database, ReadOnlyMemory<byte>>? KeyTouched;

    /// <summary>Raised when a key expires (lazily or actively), before the touch and removal events (AOF propagates a DEL).</summary>
    public event Action<Database, byte[]>? KeyExpired;

    /// <summary>True while an expiry raises its events: a change that no command made (not counted as dirty).</summary>
    public bool IsExpiring { get; private set; }

    /// <summary>
    /// Set while an AOF rewrite runs: called with every value a lookup returns (and its key), before the caller can
    /// change it in place, so the rewrite writes the value as it was at the snapshot. Values stored meanwhile get
    /// <see cref="RewriteStoredState"/>: they are not part of the snapshot.
    /// </summary>
    internal Action<byte[], RedisObject>? RewriteAccess;

    internal int RewriteStoredState;

    /// <summary>Raised when a key is deleted or expires, with the value that went.</summary>
    public event Action<Database, byte[], RedisObject>? KeyRemoved;

    public IEnumerable<KeyValuePair<byte[], RedisObject>> Entries => _entries;

    /// <summary>
    /// The AOF rewrite's snapshot: a copy of the table as it is now. The dictionary copies its entries as they are
    /// (stored hash codes, no lookups, no visit to the keys or values); copying keys and values out one by one
    /// touches every object and was slower for millions of keys.
    /// </summary>
    internal Dictionary<byte[], RedisObject> CopyEntries() => new(_entries, _entries.Comparer);

    /// <summary>The AOF rewrite's snapshot of expiry times (null when there are none), safe to read from another thread.</summary>
    internal Dictionary<byte[], long>? CopyExpires() => _expires.Count == 0 ? null : new Dictionary<byte[], long>(_expires, _expires.Comparer);

    /// <summary>The live value, or null; an expired key is removed on the way (lazy expiry).</summary>
    public RedisObject? Get(ReadOnlySpan<byte> key)
    {
        if (!_entriesBySpan.TryGetValue(key, out var actualKey, out var value)) return null;
        if (_expires.Count != 0 && _expiresBySpan.TryGetValue(key, out var when) && when <= _clock.NowMs)
        {
            Expire(actualKey, value);
            return null;
        }
        RewriteAccess?.Invoke(actualKey!, value);
        return value;
    }

    public bool Exists(ReadOnlySpan<byte> key) => Get(key) is not null;

    /// <summary>True when the key is present but its time has run out; removes nothing (safe while enumerating <see cref="Entries"/>).</summary>
    public bool IsExpired(ReadOnlySpan<byte> key)
        => _expires.Count != 0 && _expiresBySpan.TryGetValue(key, out var when) && when <= _clock.NowMs;

    /// <summary>Adds or replaces the value; keeps the expiry only if <paramref name="keepTtl"/>.</summary>
    public void Set(ReadOnlySpan<byte> key, RedisObject value, bool keepTtl = false)
    {
        if (RewriteAccess is not null) value.RewriteState = RewriteStoredState;
        if (_entriesBySpan.TryGetValue(key, out var actualKey, out _))
        {
            _entries[actualKey] = value;
            if (!keepTtl) _expires.Remove(actualKey);
        }
        else
        {
            actualKey = key.ToArray();
            _entries.Add(actualKey, value);
        }
        Touch(actualKey);
    }

    /// <summary>Adds a value under a key known to be absent; returns the stored key.</summary>
    public byte[] Add(ReadOnlySpan<byte> key, RedisObject value)
    {
        if (RewriteAccess is not null) value.RewriteState = RewriteStoredState;
        var actualKey = key.ToArray();
        _entries.Add(actualKey, value);
        Touch(actualKey);
        return actualKey;
    }

    public bool Delete(ReadOnlySpan<byte> key)
    {
        if (Get(key) is null) return false;
        _entriesBySpan.Remove(key, out var removedKey, out var value);
        var actualKey = removedKey!;
        _expires.Remove(actualKey);
        Touch(actualKey);
        KeyRemoved?.Invoke(this, actualKey, value!);
        return true;
    }

    /// <summary>
    /// RENAME: moves the live value (and its expiry) under <paramref name="source"/> to <paramref name="destination"/>,
    /// deleting whatever the destination held. The value object moves as it is: only the destination's old value
    /// is reported removed.
    /// </summary>
    public void Rename(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination)
    {
        if (Get(source) is null) return;
        _entriesBySpan.Remove(source, out var sourceKey, out var value);
        var when = _expires.Remove(sourceKey!, out var w) ? w : -1;
        Touch(sourceKey!);
        Delete(destination);
        var destinationKey = Add(destination, value!);
        if (when != -1) SetExpiry(destinationKey, when);
    }

    /// <summary>Signals that a value changed in place (WATCH, blocked readers).</summary>
    public void Touch(ReadOnlySpan<byte> key)
    {
        if (KeyTouched is null) return;
        if (_entriesBySpan.TryGetValue(key, out var actualKey, out _)) Touch(actualKey);
        else KeyTouched(this, key.ToArray());
    }

    private void Touch(byte[] key) => KeyTouched?.Invoke(this, key);

    /// <summary>Absolute expiry in Unix ms, or -1 when the key has none.</summary>
    public long GetExpiry(ReadOnlySpan<byte> key) => _expiresBySpan.TryGetValue(key, out var when) ? when : -1;

    public void SetExpiry(ReadOnlySpan<byte> key, long unixMs)
    {
        if (!_entriesBySpan.TryGetValue(key, out var actualKey, out _)) return;
        _expires[actualKey] = unixMs;
        _expiryQueue.Enqueue(actualKey, unixMs);
        if (_expiryQueue.Count > 2 * _expires.Count + 1024) RebuildExpiryQueue();
    }

    public bool RemoveExpiry(ReadOnlySpan<byte> key) => _expiresBySpan.Remove(key);

    public void Clear()
    {
        foreach (var (key, value) in _entries)
        {
            KeyRemoved?.Invoke(this, key, value);
            Touch(key);
        }
        _entries.Clear();
        _expires.Clear();
        _expiryQueue.Clear();
    }

    /// <summary>Removes expired keys, at most <paramref name="budget"/> of them; returns how many went.</summary>
    public int ActiveExpireCycle(int budget)
    {
        var now = _clock.NowMs;
        var removed = 0;
        while (removed < budget && _expiryQueue.TryPeek(out var key, out var when) && when <= now)
        {
            _expiryQueue.Dequeue();
            // The queue may hold stale times (EXPIRE changed, PERSIST, key deleted): the expires map is the truth.
            if (_expires.TryGetValue(key, out var actual) && actual <= now && _entries.TryGetValue(key, out var value))
            {
                Expire(key, value);
                removed++;
            }
        }
        return removed;
    }

    private void Expire(byte[] key, RedisObject value)
    {
        IsExpiring = true;
        try
        {
            KeyExpired?.Invoke(this, key);
            _entries.Remove(key);
            _expires.Remove(key);
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
            var skip = random.Next(_entries.Count);
            byte[]? chosen = null;
            foreach (var key in _entries.Keys)
            {
                if (skip-- == 0) { chosen = key; break; }
            }
            if (chosen is not null && Get(chosen) is not null) return chosen;
        }
        return null;
    }

    /// <summary>
    /// One SCAN step: up to <paramref name="count"/> keys from position <paramref name="cursor"/> in the table's entry
    /// order. Entries keep their position until removed, so every key present for the whole scan is returned.
    /// </summary>
    public long Scan(long cursor, int count, List<byte[]> into)
    {
        long position = 0;
        foreach (var key in _entries.Keys)
        {
            if (position++ < cursor) continue;
            into.Add(key);
            if (into.Count >= count) return position >= _entries.Count ? 0 : position;
        }
        return 0;
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
