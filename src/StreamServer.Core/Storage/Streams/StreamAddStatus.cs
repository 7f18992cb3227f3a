namespace StreamServer.Storage.Streams;

/// <summary>Outcome of choosing or validating an XADD id, or of an append. The command layer maps each to Redis's error.</summary>
public enum StreamAddStatus : byte
{
    Ok,

    /// <summary>"The ID specified in XADD is equal or smaller than the target stream top item" (also ms-* with the seq exhausted).</summary>
    IdNotGreaterThanLast,

    /// <summary>"The ID specified in XADD must be greater than 0-0".</summary>
    IdZero,

    /// <summary>"The stream has exhausted the last possible ID, unable to add more items".</summary>
    IdSpaceExhausted,

    /// <summary>"Elements are too large to be stored" (fields and values over 1 GiB together).</summary>
    ElementsTooLarge,
}
