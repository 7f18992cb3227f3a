using StreamServer.Configuration;
using StreamServer.Execution;
using StreamServer.Networking;
using static StreamServer.Execution.CommandFlags;

namespace StreamServer.Commands;

/// <summary>SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, PUBSUB.</summary>
public static class PubSubCommands
{
    public static void Register(CommandTable t)
    {
        // A closing connection drops its subscriptions (Connection.Unregister runs this on the dispatcher thread).
        Connection.PubSubCleanup = client => PubSubRegistry.OwnerOf(client)?.RemoveClient(client);

        t.Add("subscribe", -2, PubSub | NoScript | Loading | Stale, 0, 0, 0, Subscribe, "pubsub", "Listens for messages published to channels.", "2.0.0", "O(N) where N is the number of channels to subscribe to.", "pubsub", "slow");
        t.Add("unsubscribe", -1, PubSub | NoScript | Loading | Stale, 0, 0, 0, Unsubscribe, "pubsub", "Stops listening to messages posted to channels.", "2.0.0", "O(N) where N is the number of channels to unsubscribe.", "pubsub", "slow");
        t.Add("psubscribe", -2, PubSub | NoScript | Loading | Stale, 0, 0, 0, PSubscribe, "pubsub", "Listens for messages published to channels that match one or more patterns.", "2.0.0", "O(N) where N is the number of patterns to subscribe to.", "pubsub", "slow");
        t.Add("punsubscribe", -1, PubSub | NoScript | Loading | Stale, 0, 0, 0, PUnsubscribe, "pubsub", "Stops listening to messages published to channels that match one or more patterns.", "2.0.0", "O(N) where N is the number of patterns to unsubscribe.", "pubsub", "slow");
        t.Add("publish", 3, PubSub | Loading | Stale | Fast, 0, 0, 0, Publish, "pubsub", "Posts a message to a channel.", "2.0.0", "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).", "pubsub", "fast");
        t.Add("pubsub", -2, None, 0, 0, 0, CommandRegistry.ContainerWithoutSubcommand, "pubsub", "A container for Pub/Sub commands.", "2.8.0", "Depends on subcommand.", "slow")
            .Sub("channels", -2, PubSub | Loading | Stale, 0, 0, 0, Channels, "Returns the active channels.", "2.8.0", "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)", "pubsub", "slow")
            .Sub("numsub", -2, PubSub | Loading | Stale, 0, 0, 0, NumSub, "Returns a count of subscribers to channels.", "2.8.0", "O(N) for the NUMSUB subcommand, where N is the number of requested channels", "pubsub", "slow")
            .Sub("numpat", 2, PubSub | Loading | Stale, 0, 0, 0, NumPat, "Returns a count of unique pattern subscriptions.", "2.8.0", "O(1)", "pubsub", "slow")
            .Sub("help", 2, Loading | Stale, 0, 0, 0, Help, "Returns helpful text about the different subcommands.", "6.2.0", "O(1)", "slow");
    }

    // SUBSCRIBE channel [channel ...]
    private static void Subscribe(CommandContext ctx)
    {
        var registry = ctx.Server.PubSub;
        for (var i = 1; i < ctx.ArgCount; i++)
        {
            registry.Subscribe(ctx.Client, ctx.Arg(i));
            Confirm(ctx, "subscribe"u8, ctx.Arg(i));
        }
    }

    // UNSUBSCRIBE [channel [channel ...]]
    private static void Unsubscribe(CommandContext ctx)
    {
        if (ctx.ArgCount == 1)
        {
            UnsubscribeAllChannels(ctx, notify: true);
            return;
        }
        for (var i = 1; i < ctx.ArgCount; i++)
        {
            ctx.Server.PubSub.Unsubscribe(ctx.Client, ctx.Arg(i));
            Confirm(ctx, "unsubscribe"u8, ctx.Arg(i));
        }
    }

    // PSUBSCRIBE pattern [pattern ...]
    private static void PSubscribe(CommandContext ctx)
    {
        var registry = ctx.Server.PubSub;
        for (var i = 1; i < ctx.ArgCount; i++)
        {
            registry.PSubscribe(ctx.Client, ctx.Arg(i));
            Confirm(ctx, "psubscribe"u8, ctx.Arg(i));
        }
    }

    // PUNSUBSCRIBE [pattern [pattern ...]]
    private static void PUnsubscribe(CommandContext ctx)
    {
        if (ctx.ArgCount == 1)
        {
            UnsubscribeAllPatterns(ctx, notify: true);
            return;
        }
        for (var i = 1; i < ctx.ArgCount; i++)
        {
            ctx.Server.PubSub.PUnsubscribe(ctx.Client, ctx.Arg(i));
            Confirm(ctx, "punsubscribe"u8, ctx.Arg(i));
        }
    }

    // PUBLISH channel message
    private static void Publish(CommandContext ctx)
        => ctx.Reply.Integer(ctx.Server.PubSub.Publish(ctx.Arg(1), ctx.Arg(2), ctx.Client));

    // PUBSUB CHANNELS [pattern]
    private static void Channels(CommandContext ctx)
    {
        if (ctx.ArgCount > 3)
        {
            ctx.Error(Errors.SubcommandSyntax(ctx.ArgString(1), "pubsub"));
            return;
        }
        var pattern = ctx.ArgCount == 3 ? ctx.Arg(2) : default;
        var reply = ctx.Reply;
        var position = reply.BeginDeferred();
        var count = 0;
        foreach (var channel in ctx.Server.PubSub.Channels.Keys)
        {
            if (ctx.ArgCount == 3 && !Glob.Match(pattern, channel)) continue;
            reply.Bulk(channel);
            count++;
        }
        reply.EndDeferredArray(position, count);
    }

    // PUBSUB NUMSUB [channel [channel ...]]
    private static void NumSub(CommandContext ctx)
    {
        ctx.Reply.Array((ctx.ArgCount - 2) * 2);
        for (var i = 2; i < ctx.ArgCount; i++)
        {
            ctx.Reply.Bulk(ctx.Arg(i));
            ctx.Reply.Integer(ctx.Server.PubSub.SubscriberCount(ctx.Arg(i)));
        }
    }

    // PUBSUB NUMPAT
    private static void NumPat(CommandContext ctx) => ctx.Reply.Integer(ctx.Server.PubSub.Patterns.Count);

    // PUBSUB HELP
    private static void Help(CommandContext ctx) => ConnectionCommands.HelpReply(ctx,
    [
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    ]);

    /// <summary>Drops every subscription of the client (RESET, disconnect); with <paramref name="notify"/>, replies per channel as UNSUBSCRIBE does.</summary>
    public static void UnsubscribeAll(CommandContext ctx, bool notify)
    {
        UnsubscribeAllChannels(ctx, notify);
        UnsubscribeAllPatterns(ctx, notify);
    }

    private static void UnsubscribeAllChannels(CommandContext ctx, bool notify)
    {
        var client = ctx.Client;
        if (client.Channels is not { Count: > 0 } channels)
        {
            if (notify) Confirm(ctx, "unsubscribe"u8, null);
            return;
        }
        foreach (var channel in channels.ToArray())
        {
            ctx.Server.PubSub.Unsubscribe(client, channel);
            if (notify) Confirm(ctx, "unsubscribe"u8, channel);
        }
    }

    private static void UnsubscribeAllPatterns(CommandContext ctx, bool notify)
    {
        var client = ctx.Client;
        if (client.Patterns is not { Count: > 0 } patterns)
        {
            if (notify) Confirm(ctx, "punsubscribe"u8, null);
            return;
        }
        foreach (var pattern in patterns.ToArray())
        {
            ctx.Server.PubSub.PUnsubscribe(client, pattern);
            if (notify) Confirm(ctx, "punsubscribe"u8, pattern);
        }
    }

    /// <summary>A (un)subscribe confirmation: kind, name (nil when none), and the client's subscription count after it.</summary>
    private static void Confirm(CommandContext ctx, ReadOnlySpan<byte> kind, byte[]? name) => Confirm(ctx, kind, name.AsSpan(), name is null);

    private static void Confirm(CommandContext ctx, ReadOnlySpan<byte> kind, ReadOnlySpan<byte> name, bool nil = false)
    {
        var reply = ctx.Reply;
        reply.Push(3);
        reply.Bulk(kind);
        if (nil) reply.Null();
        else reply.Bulk(name);
        reply.Integer(ctx.Client.SubscriptionCount);
    }
}
