namespace StreamServer.Storage.Streams;

/// <summary>XNACK's mode (Redis 8.8): how releasing a pending entry changes its delivery count.</summary>
public enum NackMode : byte
{
    /// <summary>The delivery did not count: one less.</summary>
    Silent,

    /// <summary>A normal failed delivery: unchanged.</summary>
    Fail,

    /// <summary>Failed for good: LLONG_MAX, and CLAIM reads no longer deliver it.</summary>
    Fatal,
}
