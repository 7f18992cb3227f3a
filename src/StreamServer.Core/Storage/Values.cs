using System.Buffers.Text;

namespace StreamServer.Storage;

/// <summary>
/// A string value. Integers that fit in 64 bits are kept as numbers (Redis's "int" encoding), so INCR needs no
/// allocation; other values as bytes, reused in place when a new value fits the buffer it already has.
/// APPEND and SETRANGE grow the buffer with spare room, as Redis's sds does.
/// </summary>
public sealed class StringObject : RedisObject
{
    private const int EmbstrLimit = 44;

    private byte[]? _bytes;
    private int _length;
    private long _integer;
    private bool _raw;

    public StringObject(ReadOnlySpan<byte> value) => Set(value);

    public StringObject(long value) => SetInteger(value);

    private StringObject() => _bytes = [];

    /// <summary>A value stored as bytes, never as a number (Redis's createStringObject).</summary>
    public static StringObject FromBytes(ReadOnlySpan<byte> value)
    {
        var created = new StringObject();
        created.SetBytes(value);
        return created;
    }

    public override RedisType Type => RedisType.String;

    /// <summary>OBJECT ENCODING: int, embstr (≤ 44 bytes) or raw, as Redis 7 reports them.</summary>
    public override string Encoding => _bytes is null ? "int" : _length <= EmbstrLimit && !_raw ? "embstr" : "raw";

    public bool IsInteger => _bytes is null;

    public long Integer => _integer;

    public int Length => _bytes is null ? FormattedLength(_integer) : _length;

    /// <summary>SET's value: stored as a number when it reads as one (Redis's tryObjectEncoding), else as bytes.</summary>
    public void Set(ReadOnlySpan<byte> value)
    {
        // Redis stores a string that reads as a 64-bit integer (canonical form, ≤ 20 chars) in the int encoding.
        if (value.Length <= 20 && Protocol.RespRequestReader.TryParseInt64(value, out var n))
        {
            SetInteger(n);
            return;
        }
        SetBytes(value);
    }

    /// <summary>Stores the bytes as they are, never as a number (INCRBYFLOAT's result: Redis's createStringObject).</summary>
    public void SetBytes(ReadOnlySpan<byte> value)
    {
        // Reuse the buffer when the value fits without wasting much of it (SET of a same-length value allocates nothing).
        if (_bytes is null || _bytes.Length < value.Length || _bytes.Length > value.Length + (value.Length >> 2) + 16)
            _bytes = new byte[value.Length];
        value.CopyTo(_bytes);
        _length = value.Length;
        _raw = false;
    }

    /// <summary>Replaces the content with bytes that are never re-read as an integer (Redis makes them raw).</summary>
    public void SetRaw(byte[] value)
    {
        _bytes = value;
        _length = value.Length;
        _raw = true;
    }

    public void SetInteger(long value)
    {
        _bytes = null;
        _length = 0;
        _integer = value;
        _raw = false;
    }

    /// <summary>APPEND: adds <paramref name="suffix"/> at the end; returns the new length.</summary>
    public int Append(ReadOnlySpan<byte> suffix)
    {
        var length = Length;
        EnsureRaw(length + suffix.Length);
        suffix.CopyTo(_bytes.AsSpan(length));
        _length = length + suffix.Length;
        return _length;
    }

    /// <summary>SETRANGE: writes <paramref name="value"/> at <paramref name="offset"/>, zero-padding any gap; returns the new length.</summary>
    public int SetRange(int offset, ReadOnlySpan<byte> value)
    {
        var length = Length;
        var end = Math.Max(length, offset + value.Length);
        EnsureRaw(end);
        value.CopyTo(_bytes.AsSpan(offset));
        _length = end;
        return _length;
    }

    /// <summary>Turns the value into raw bytes with room for <paramref name="capacity"/> (Redis's sdsMakeRoomFor growth); new bytes are zero.</summary>
    [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(_bytes))]
    private void EnsureRaw(int capacity)
    {
        if (_bytes is null)
        {
            Span<byte> scratch = stackalloc byte[24];
            var digits = GetBytes(scratch);
            _bytes = new byte[Math.Max(capacity, digits.Length)];
            digits.CopyTo(_bytes);
            _length = digits.Length;
        }
        else if (_bytes.Length < capacity)
        {
            const int maxPrealloc = 1024 * 1024;
            var grown = capacity < maxPrealloc ? (long)capacity * 2 : (long)capacity + maxPrealloc;
            var bytes = new byte[(int)Math.Min(grown, Array.MaxLength)];
            _bytes.AsSpan(0, _length).CopyTo(bytes);
            _bytes = bytes;
        }
        else if (capacity > _length)
        {
            _bytes.AsSpan(_length, capacity - _length).Clear();
        }
        _raw = true;
    }

    /// <summary>The value's bytes; integers are formatted into <paramref name="scratch"/> (24 bytes).</summary>
    public ReadOnlySpan<byte> GetBytes(Span<byte> scratch)
    {
        if (_bytes is not null) return _bytes.AsSpan(0, _length);
        Utf8Formatter.TryFormat(_integer, scratch, out var n);
        return scratch[..n];
    }

    /// <summary>The value as a 64-bit integer, if it is one (Redis's getLongLongFromObject: strict string2ll).</summary>
    public bool TryGetInteger(out long value)
    {
        if (_bytes is null)
        {
            value = _integer;
            return true;
        }
        return Protocol.RespRequestReader.TryParseInt64(_bytes.AsSpan(0, _length), out value);
    }

    public byte[] ToArray()
    {
        Span<byte> scratch = stackalloc byte[24];
        return GetBytes(scratch).ToArray();
    }

    private static int FormattedLength(long value)
    {
        Span<byte> scratch = stackalloc byte[24];
        Utf8Formatter.TryFormat(value, scratch, out var n);
        return n;
    }
}

/// <summary>A set of byte strings (changed only through <see cref="Add"/> and <see cref="Remove"/>: see <see cref="CollectionObject"/>).</summary>
public sealed class SetObject : CollectionObject<HashSet<byte[]>, bool>
{
    public SetObject()
        : base(new HashSet<byte[]>(ByteArrayComparer.Instance))
    {
    }

    private SetObject(HashSet<byte[]> members)
        : base(members)
    {
    }

    public override RedisType Type => RedisType.Set;

    /// <summary>The members, to read (with any changes kept aside while a snapshot reads the set).</summary>
    public IReadOnlyCollection<byte[]> Members => Changes() is { } changes ? new MergedCollection<byte[]>(Merged(changes), Count) : Items;

    private IEnumerable<byte[]> Merged(Dictionary<byte[], bool> changes)
    {
        foreach (var member in Items)
        {
            if (!changes.TryGetValue(member, out var present) || present) yield return member;
        }
        foreach (var (member, present) in changes)
        {
            if (present && !Items.Contains(member)) yield return member;
        }
    }

    public bool Contains(ReadOnlySpan<byte> member) => ContainsWith(Changes(), member);

    /// <summary>Adds a copy of <paramref name="member"/>; false when it was there.</summary>
    public bool Add(ReadOnlySpan<byte> member)
    {
        if (ChangesForWrite() is not { } changes) return Items.GetAlternateLookup<ReadOnlySpan<byte>>().Add(member);
        if (ContainsWith(changes, member)) return false;
        Record(changes, member, true, +1);
        return true;
    }

    public bool Remove(ReadOnlySpan<byte> member)
    {
        if (ChangesForWrite() is not { } changes) return Items.GetAlternateLookup<ReadOnlySpan<byte>>().Remove(member);
        if (!ContainsWith(changes, member)) return false;
        Record(changes, member, false, -1);
        return true;
    }

    /// <summary>
    /// Between <see cref="CollectionObject{T, TChange}.ChangesForWrite"/> and <see cref="CollectionObject{T, TChange}.Record"/>
    /// the lookup must use the changes it returned, not <see cref="Contains"/>: the rewrite thread may release its
    /// snapshot in between, and <see cref="Contains"/> would then apply and drop those changes, leaving the change to
    /// be recorded in a list nobody reads (an acknowledged SADD lost; the kill -9 crash test found one).
    /// </summary>
    private bool ContainsWith(Dictionary<byte[], bool>? changes, ReadOnlySpan<byte> member)
        => changes is not null && changes.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(member, out var present)
            ? present
            : Items.GetAlternateLookup<ReadOnlySpan<byte>>().Contains(member);

    protected override int CountOf(HashSet<byte[]> items) => items.Count;

    protected override HashSet<byte[]> Copy(HashSet<byte[]> items) => new(items, items.Comparer);

    protected override int Apply(HashSet<byte[]> items, byte[] key, bool present)
        => present ? (items.Add(key) ? 1 : 0) : (items.Remove(key) ? -1 : 0);

    protected override RedisObject Frozen(HashSet<byte[]> items) => new SetObject(items);

    /// <summary>Whether Redis would hold this set in a hash table (small sets are scanned in one step, as Redis does).</summary>
    public bool IsHashTable => Encoding == "hashtable";

    /// <summary>A member chosen uniformly at random; the set must not be empty. O(n): sets here are small bookkeeping sets.</summary>
    public byte[] RandomMember(Random random)
    {
        var members = Members;
        var skip = random.Next(members.Count);
        foreach (var member in members)
        {
            if (skip-- == 0) return member;
        }
        throw new InvalidOperationException("Empty set");
    }

    /// <summary>Redis 7.0: intset while every member is an integer and there are ≤ 512, listpack ≤ 128 small members, else hashtable.</summary>
    public override string Encoding
    {
        get
        {
            if (_everLarge) return "hashtable";
            if (Count <= 512 && AllIntegers()) return "intset";
            if (Count <= 128 && AllSmall()) return "listpack";
            _everLarge = true;
            return "hashtable";
        }
    }

    private bool _everLarge;

    private bool AllIntegers()
    {
        foreach (var m in Members)
        {
            if (!Protocol.RespRequestReader.TryParseInt64(m, out _)) return false;
        }
        return true;
    }

    private bool AllSmall()
    {
        foreach (var m in Members)
        {
            if (m.Length > 64) return false;
        }
        return true;
    }
}

/// <summary>
/// A hash of byte-string fields to byte-string values (changed only through <see cref="Set"/> and <see cref="Remove"/>:
/// see <see cref="CollectionObject"/>). Values are never changed in place: a new value is a new array.
/// </summary>
public sealed class HashObject : CollectionObject<Dictionary<byte[], byte[]>, byte[]?>
{
    public HashObject()
        : base(new Dictionary<byte[], byte[]>(ByteArrayComparer.Instance))
    {
    }

    private HashObject(Dictionary<byte[], byte[]> fields)
        : base(fields)
    {
    }

    public override RedisType Type => RedisType.Hash;

    /// <summary>The fields and their values, to read (with any changes kept aside while a snapshot reads the hash).</summary>
    public IReadOnlyCollection<KeyValuePair<byte[], byte[]>> Fields
        => Changes() is { } changes ? new MergedCollection<KeyValuePair<byte[], byte[]>>(Merged(changes), Count) : Items;

    // Fields in the collection's order (changed ones in their place), then the new ones: SCAN positions stay put.
    private IEnumerable<KeyValuePair<byte[], byte[]>> Merged(Dictionary<byte[], byte[]?> changes)
    {
        foreach (var pair in Items)
        {
            if (!changes.TryGetValue(pair.Key, out var changed)) yield return pair;
            else if (changed is not null) yield return new(pair.Key, changed);
        }
        foreach (var (field, changed) in changes)
        {
            if (changed is not null && !Items.ContainsKey(field)) yield return new(field, changed);
        }
    }

    public bool TryGetValue(ReadOnlySpan<byte> field, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out byte[] value)
        => TryGetWith(Changes(), field, out value);

    /// <summary>The field's value as <paramref name="changes"/> (kept aside, or null) and the collection say.</summary>
    private bool TryGetWith(Dictionary<byte[], byte[]?>? changes, ReadOnlySpan<byte> field, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out byte[] value)
    {
        if (changes is not null && changes.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(field, out var changed))
        {
            value = changed;
            return changed is not null;
        }
        return Items.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(field, out value);
    }

    public bool ContainsField(ReadOnlySpan<byte> field) => TryGetValue(field, out _);

    /// <summary>Sets a field to a fresh copy of <paramref name="value"/>; true when the field is new.</summary>
    public bool Set(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
    {
        var isNew = !ContainsField(field); // before ChangesForWrite: nothing may apply the changes between it and Record
        if (ChangesForWrite() is { } changes) Record(changes, field, value.ToArray(), isNew ? 1 : 0);
        else Items.GetAlternateLookup<ReadOnlySpan<byte>>()[field] = value.ToArray();
        return isNew;
    }

    public bool Remove(ReadOnlySpan<byte> field)
    {
        if (ChangesForWrite() is not { } changes) return Items.GetAlternateLookup<ReadOnlySpan<byte>>().Remove(field);
        // With the changes returned, not ContainsField, which could apply and drop them (SetObject.ContainsWith says why).
        if (!TryGetWith(changes, field, out _)) return false;
        Record(changes, field, null, -1);
        return true;
    }

    protected override int CountOf(Dictionary<byte[], byte[]> items) => items.Count;

    protected override Dictionary<byte[], byte[]> Copy(Dictionary<byte[], byte[]> items) => new(items, items.Comparer);

    protected override int Apply(Dictionary<byte[], byte[]> items, byte[] key, byte[]? value)
    {
        if (value is null) return items.Remove(key) ? -1 : 0;
        ref var slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(items, key, out var existed);
        slot = value;
        return existed ? 0 : 1;
    }

    protected override RedisObject Frozen(Dictionary<byte[], byte[]> items) => new HashObject(items);

    /// <summary>Whether Redis would hold this hash in a hash table (small hashes are scanned in one step, as Redis does).</summary>
    public bool IsHashTable => Encoding == "hashtable";

    /// <summary>A field chosen uniformly at random; the hash must not be empty.</summary>
    public KeyValuePair<byte[], byte[]> RandomField(Random random)
    {
        var fields = Fields;
        var skip = random.Next(fields.Count);
        foreach (var pair in fields)
        {
            if (skip-- == 0) return pair;
        }
        throw new InvalidOperationException("Empty hash");
    }

    /// <summary>listpack while ≤ 128 fields of ≤ 64 bytes (Redis 7 defaults); once converted, hashtable for good.</summary>
    public override string Encoding
    {
        get
        {
            if (_everLarge) return "hashtable";
            if (Count <= 128)
            {
                var small = true;
                foreach (var (k, v) in Fields)
                {
                    if (k.Length > 64 || v.Length > 64) { small = false; break; }
                }
                if (small) return "listpack";
            }
            _everLarge = true;
            return "hashtable";
        }
    }

    private bool _everLarge;
}
