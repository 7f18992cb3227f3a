namespace StreamServer.Storage.Streams;

/// <summary>
/// One delivered, not yet acknowledged entry (Redis's streamNACK). The same object sits in the group's PEL and
/// in its owner's PEL, so a claim moves one reference and an ACK frees both.
/// </summary>
public sealed class PendingEntry
{
    public PendingEntry(StreamId id, Consumer consumer, long deliveryTimeMs, long deliveryCount)
    {
        Id = id;
        Consumer = consumer;
        DeliveryTimeMs = deliveryTimeMs;
        DeliveryCount = deliveryCount;
    }

    public StreamId Id { get; }

    /// <summary>Unix ms of the last delivery (XPENDING's idle is now minus this).</summary>
    public long DeliveryTimeMs { get; set; }

    /// <summary>How many times the entry was delivered (XREADGROUP history reads and claims add one).</summary>
    public long DeliveryCount { get; set; }

    /// <summary>The consumer whose PEL holds this entry.</summary>
    public Consumer Consumer { get; internal set; }
}
