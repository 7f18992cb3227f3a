using StreamServer.Execution;

namespace StreamServer.Commands;

/// <summary>SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, PUBSUB.</summary>
public static class PubSubCommands
{
    public static void Register(CommandTable t)
    {
        _ = t;
    }

    /// <summary>Drops every subscription of the client (RESET, disconnect); with <paramref name="notify"/>, replies per channel as UNSUBSCRIBE does.</summary>
    public static void UnsubscribeAll(CommandContext ctx, bool notify)
    {
        _ = ctx;
        _ = notify;
    }
}
