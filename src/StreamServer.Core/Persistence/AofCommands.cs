using StreamServer.Commands;
using StreamServer.Execution;
using static StreamServer.Execution.CommandFlags;

namespace StreamServer.Persistence;

/// <summary>BGREWRITEAOF and WAITAOF (WAIT, with no replicas, lives with the server commands and answers 0).</summary>
public static class AofCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("bgrewriteaof", 1, Admin | NoAsyncLoading | NoScript, 0, 0, 0, BgRewriteAof, "server", "Asynchronously rewrites the append-only file to disk.", "1.0.0", "O(1)", "admin", "slow", "dangerous");
        t.Add("waitaof", 4, NoScript, 0, 0, 0, WaitAof, "generic", "Blocks until all of the preceding write commands sent by the connection are written to the append-only file of the master and/or replicas.", "7.2.0", "O(1)", "slow", "connection");
    }

    // BGREWRITEAOF
    private static void BgRewriteAof(CommandContext ctx)
    {
        if (AofManager.For(ctx.Server) is not { } aof)
        {
            ctx.Error("ERR AOF is not available");
            return;
        }
        if (aof.BackgroundRewrite() is { } error)
        {
            ctx.Error(error);
            return;
        }
        ctx.Reply.SimpleString("Background append only file rewriting started");
    }

    // WAITAOF numlocal numreplicas timeout
    private static void WaitAof(CommandContext ctx)
    {
        if (!CommandContext.TryParseLong(ctx.Arg(1), out var numLocal) || numLocal < 0
            || !CommandContext.TryParseLong(ctx.Arg(2), out var numReplicas) || numReplicas < 0)
        {
            ctx.Error(Errors.NotPositive);
            return;
        }
        if (!CommandContext.TryParseLong(ctx.Arg(3), out var timeout))
        {
            ctx.Error(Errors.TimeoutNotInteger);
            return;
        }
        if (timeout < 0)
        {
            ctx.Error(Errors.TimeoutNegative);
            return;
        }
        var writer = AofManager.For(ctx.Server)?.Writer;
        if (numLocal > 0 && writer is null)
        {
            ctx.Error(Errors.WaitAofAppendOnlyDisabled);
            return;
        }
        var client = ctx.Client;
        if (numLocal > 0 && writer is not null && client.AofOffset > writer.SyncedOffset)
        {
            // The reply is held back with the rest of the batch until the fsync that covers the client's last write.
            client.WaitAofFsync = true;
            writer.RequestFsync();
            ctx.Reply.Array(2);
            ctx.Reply.Integer(1);
            ctx.Reply.Integer(0);
            return;
        }
        ctx.Reply.Array(2);
        ctx.Reply.Integer(writer is not null && client.AofOffset <= writer.SyncedOffset ? 1 : 0);
        ctx.Reply.Integer(0);
    }
}
