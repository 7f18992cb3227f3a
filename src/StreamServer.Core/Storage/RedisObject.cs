namespace StreamServer.Storage;

/// <summary>Redis's value types, as TYPE names them.</summary>
public enum RedisType : byte
{
    String,
    List,
    Set,
    ZSet,
    Hash,
    Stream,
}

/// <summary>A value in the keyspace (Redis's robj). Plain C#: nothing here knows about RESP.</summary>
public abstract class RedisObject
{
    public abstract RedisType Type { get; }

    /// <summary>OBJECT ENCODING's answer.</summary>
    public abstract string Encoding { get; }

    /// <summary>
    /// AOF rewrite bookkeeping (Persistence/AofRewriter): the generation of the rewrite that last dealt with this
    /// value, times 4, plus its state there (being written, written, or stored after the snapshot). Any other
    /// generation means: as at the running rewrite's snapshot, not written yet.
    /// </summary>
    internal int RewriteState;
}
