using StreamServer.Execution;
using static StreamServer.Execution.CommandFlags;

namespace StreamServer.Commands;

/// <summary>MULTI, EXEC, DISCARD, WATCH, UNWATCH. Queueing itself happens in the dispatcher (Redis's processCommand).</summary>
public static class TransactionCommands
{
    private static readonly ReadOnlyMemory<byte>[] ExecArgs = ["EXEC"u8.ToArray()];

    public static void Register(CommandTable t)
    {
        t.Add("multi", 1, NoScript | Loading | Stale | Fast | AllowBusy, 0, 0, 0, Multi, "transactions", "Starts a transaction.", "1.2.0", "O(1)", "fast", "transaction");
        t.Add("exec", 1, NoScript | Loading | Stale | SkipSlowlog, 0, 0, 0, Exec, "transactions", "Executes all commands in a transaction.", "1.2.0", "Depends on commands in the transaction", "slow", "transaction");
        t.Add("discard", 1, NoScript | Loading | Stale | Fast | AllowBusy, 0, 0, 0, Discard, "transactions", "Discards a transaction.", "2.0.0", "O(N), when N is the number of queued commands", "fast", "transaction");
        t.Add("watch", -2, NoScript | Loading | Stale | Fast | AllowBusy, 1, -1, 1, Watch, "transactions", "Monitors changes to keys to determine the execution of a transaction.", "2.2.0", "O(1) for every key.", "fast", "transaction");
        t.Add("unwatch", 1, NoScript | Loading | Stale | Fast | AllowBusy, 0, 0, 0, Unwatch, "transactions", "Forgets about watched keys of a transaction.", "2.2.0", "O(1)", "fast", "transaction");
    }

    // MULTI
    private static void Multi(CommandContext ctx)
    {
        var client = ctx.Client;
        if (client.InMulti)
        {
            ctx.Error(Errors.NestedMulti);
            return;
        }
        client.InMulti = true;
        client.MultiDirty = false;
        client.MultiQueue = null;
        ctx.Reply.Ok();
    }

    // EXEC
    private static void Exec(CommandContext ctx)
    {
        var client = ctx.Client;
        var server = ctx.Server;
        if (!client.InMulti)
        {
            ctx.Error(Errors.ExecWithoutMulti);
            return;
        }
        if (client.MultiDirty)
        {
            ctx.Error(Errors.ExecAbort);
            DiscardTransaction(server, client);
            return;
        }
        // A watched key whose time ran out since WATCH counts as modified (Redis 7's isWatchedKeyExpired): looking
        // it up expires it, and the expiry touches it. Keys already expired at WATCH time were dropped then.
        if (client.WatchedKeys is { } watched)
        {
            foreach (var (db, key) in watched) server.Keyspace[db].Get(key);
        }
        if (client.WatchDirty)
        {
            ctx.Reply.NullArray();
            DiscardTransaction(server, client);
            return;
        }

        var queued = client.MultiQueue ?? [];
        var nowMs = ctx.NowMs;
        var exec = ctx.Command;
        DiscardTransaction(server, client); // unwatch before running: our own writes must not dirty anything
        ctx.Reply.Array(queued.Count);
        server.RunQueued(client, queued);
        // RunQueued re-bound the shared context to each queued command: point it back at EXEC for what follows.
        ctx.Bind(client, ExecArgs, 0, 1, nowMs);
        ctx.Command = exec;
    }

    // DISCARD
    private static void Discard(CommandContext ctx)
    {
        if (!ctx.Client.InMulti)
        {
            ctx.Error(Errors.DiscardWithoutMulti);
            return;
        }
        DiscardTransaction(ctx.Server, ctx.Client);
        ctx.Reply.Ok();
    }

    // WATCH key [key ...]
    private static void Watch(CommandContext ctx)
    {
        var client = ctx.Client;
        if (client.InMulti)
        {
            ctx.Error(Errors.WatchInsideMulti);
            return;
        }
        if (!client.WatchDirty)
        {
            var db = ctx.Db;
            for (var i = 1; i < ctx.ArgCount; i++)
            {
                // Expire a key whose time already ran out now, so its deletion is not seen as a change (Redis 7).
                db.Get(ctx.Arg(i));
                ctx.Server.Watches.Watch(client, client.DbIndex, ctx.Arg(i).ToArray());
            }
        }
        ctx.Reply.Ok();
    }

    // UNWATCH
    private static void Unwatch(CommandContext ctx)
    {
        ctx.Server.Watches.UnwatchAll(ctx.Client);
        ctx.Reply.Ok();
    }

    /// <summary>Redis's discardTransaction: drops the queue, leaves MULTI, forgets the watched keys.</summary>
    public static void DiscardTransaction(ServerContext server, ClientSession client)
    {
        client.InMulti = false;
        client.MultiDirty = false;
        client.MultiQueue = null;
        server.Watches.UnwatchAll(client);
    }
}
