using System.Buffers.Text;

namespace StreamServer.Storage;

/// <summary>
/// A string value. Integers that fit in 64 bits are kept as numbers (Redis's "int" encoding), so INCR needs no
/// allocation; other values as bytes, reused in place when a new value has the same length.
/// </summary>
public sealed class StringObject : RedisObject
{
    private byte[]? _bytes;
    private long _integer;

    public StringObject(ReadOnlySpan<byte> value) => Set(value);

    public StringObject(long value) => SetInteger(value);

    public override RedisType Type => RedisType.String;

    /// <summary>OBJECT ENCODING: int, embstr (≤ 44 bytes) or raw, as Redis 7 reports them.</summary>
    public override string Encoding => _bytes is null ? "int" : _bytes.Length <= 44 && !_grown ? "embstr" : "raw";

    private bool _grown;

    public bool IsInteger => _bytes is null;

    public long Integer => _integer;

    public int Length => _bytes?.Length ?? FormattedLength(_integer);

    public void Set(ReadOnlySpan<byte> value)
    {
        // Redis stores a string that reads as a 64-bit integer (canonical form, ≤ 20 chars) in the int encoding.
        if (value.Length <= 20 && Protocol.RespRequestReader.TryParseInt64(value, out var n))
        {
            SetInteger(n);
            return;
        }
        _bytes = _bytes is not null && _bytes.Length == value.Length ? _bytes : new byte[value.Length];
        value.CopyTo(_bytes);
        _grown = false;
    }

    /// <summary>Replaces the content with bytes that are never re-read as an integer (APPEND, SETRANGE: Redis makes them raw).</summary>
    public void SetRaw(byte[] value)
    {
        _bytes = value;
        _grown = true;
    }

    public void SetInteger(long value)
    {
        _bytes = null;
        _integer = value;
        _grown = false;
    }

    /// <summary>The value's bytes; integers are formatted into <paramref name="scratch"/> (24 bytes).</summary>
    public ReadOnlySpan<byte> GetBytes(Span<byte> scratch)
    {
        if (_bytes is not null) return _bytes;
        Utf8Formatter.TryFormat(_integer, scratch, out var n);
        return scratch[..n];
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

/// <summary>A set of byte strings.</summary>
public sealed class SetObject : RedisObject
{
    public HashSet<byte[]> Members { get; } = new(ByteArrayComparer.Instance);

    public override RedisType Type => RedisType.Set;

    /// <summary>Whether Redis would hold this set in a hash table (small sets are scanned in one step, as Redis does).</summary>
    public bool IsHashTable => Encoding == "hashtable";

    /// <summary>A member chosen uniformly at random; the set must not be empty. O(n): sets here are small bookkeeping sets.</summary>
    public byte[] RandomMember(Random random)
    {
        var skip = random.Next(Members.Count);
        foreach (var member in Members)
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
            if (Members.Count <= 512 && AllIntegers()) return "intset";
            if (Members.Count <= 128 && AllSmall()) return "listpack";
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

/// <summary>A hash of byte-string fields to byte-string values.</summary>
public sealed class HashObject : RedisObject
{
    public Dictionary<byte[], byte[]> Fields { get; } = new(ByteArrayComparer.Instance);

    public override RedisType Type => RedisType.Hash;

    /// <summary>Whether Redis would hold this hash in a hash table (small hashes are scanned in one step, as Redis does).</summary>
    public bool IsHashTable => Encoding == "hashtable";

    /// <summary>A field chosen uniformly at random; the hash must not be empty.</summary>
    public KeyValuePair<byte[], byte[]> RandomField(Random random)
    {
        var skip = random.Next(Fields.Count);
        foreach (var pair in Fields)
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
            if (Fields.Count <= 128)
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
