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
    /// AOF rewrite bookkeeping (Persistence/AofRewriter): the rewrite generation that captured this value in its
    /// snapshot and its slot there. A stale generation means nothing.
    /// </summary>
    internal int RewriteGeneration;

    internal int RewriteSlot;
}
