namespace StreamServer.Storage.Streams;

/// <summary>
/// One delivered, not yet acknowledged entry (Redis's streamNACK), stored by value in the group's PEL under its id.
/// The owner's PEL (<see cref="Consumer.Pending"/>) holds only the id: Redis shares one NACK object between both
/// trees, but a 24-byte value inline in the group PEL plus an id in the consumer's costs less than half of an object
/// referenced twice (see docs/design-notes.md, note 7). Update it in place through
/// <see cref="RadixTree{TValue}.GetValueRefOrNullRef"/>.
/// </summary>
public struct PendingEntry(Consumer? consumer, long deliveryTimeMs, long deliveryCount)
{
    /// <summary>XNACK FATAL's delivery count (LLONG_MAX): the entry failed for good and CLAIM reads pass it over.</summary>
    public const long FatalDeliveryCount = long.MaxValue;

    /// <summary>Unix ms of the last delivery (XPENDING's idle is now minus this); 0 once released by XNACK.</summary>
    public long DeliveryTimeMs = deliveryTimeMs;

    /// <summary>How many times the entry was delivered (XREADGROUP history reads and claims add one).</summary>
    public long DeliveryCount = deliveryCount;

    /// <summary>The consumer whose PEL holds this entry's id; null once XNACK released it back to the group.</summary>
    public Consumer? Consumer = consumer;

    /// <summary>Released by XNACK and not delivered since: owned by no consumer, claimable at once.</summary>
    public readonly bool IsNacked => Consumer is null;

    /// <summary>The owner's name, empty for a released entry (XPENDING shows "").</summary>
    public readonly byte[] OwnerName => Consumer?.Name ?? [];
}

/// <summary>The value of a consumer's PEL: nothing, the id is the key (the delivery data is the group PEL's).</summary>
public readonly struct PendingId;
