using StreamServer.Storage;

namespace StreamServer.Execution;

/// <summary>Channel and pattern subscriptions across clients.</summary>
public sealed class PubSubRegistry
{
    public Dictionary<byte[], List<ClientSession>> Channels { get; } = new(ByteArrayComparer.Instance);

    public Dictionary<byte[], List<ClientSession>> Patterns { get; } = new(ByteArrayComparer.Instance);
}
