using StreamServer.Commands;
using StreamServer.Execution;
using StreamServer.Protocol;
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
        if (aof.RewriteInProgress)
        {
            ctx.Error(Errors.RewriteInProgress);
            return;
        }
        if (ctx.InExec)
        {
            // As Redis (server.in_exec): the snapshot must not fall between a transaction's commands; cron starts it.
            aof.ScheduleRewrite();
            ctx.Reply.SimpleString("Background append only file rewriting scheduled");
            return;
        }
        if (!aof.BackgroundRewrite())
        {
            ctx.Error(Errors.RewriteCannotStart);
            return;
        }
        ctx.Reply.SimpleString("Background append only file rewriting started");
    }

    // WAITAOF numlocal numreplicas timeout
    private static void WaitAof(CommandContext ctx)
    {
        // As Redis's waitaofCommand: every argument is parsed before the AOF is looked at.
        if (!CommandContext.TryParseLong(ctx.Arg(1), out var numLocal))
        {
            ctx.Error(Errors.NotInteger);
            return;
        }
        if (numLocal is < 0 or > 1)
        {
            ctx.Error(Errors.RangeMustBetween(0, 1));
            return;
        }
        if (!CommandContext.TryParseLong(ctx.Arg(2), out var numReplicas) || numReplicas < 0)
        {
            ctx.Error(Errors.NotPositive);
            return;
        }
        if (!ctx.TryGetTimeoutMs(3, out var timeout)) return;
        var aof = AofManager.For(ctx.Server);
        if (numLocal > 0 && aof?.Writer is null)
        {
            ctx.Error(Errors.WaitAofAppendOnlyDisabled);
            return;
        }

        // There are no replicas: numreplicas > 0 is never reached, so it waits out the timeout (forever for 0).
        var client = ctx.Client;
        var local = aof?.LocalFsyncCovers(client) == true ? 1 : 0;
        if ((local >= numLocal && numReplicas == 0) || ctx.InExec)
        {
            ReplyWaitAof(ctx.Reply, local);
            return;
        }
        var state = new BlockState
        {
            DeadlineMs = timeout == 0 ? 0 : ctx.NowMs + timeout,
            Command = ctx.Command,
            OnTimeout = reply => ReplyWaitAof(reply, aof?.LocalFsyncCovers(client) == true ? 1 : 0),
        };
        ctx.Server.Blocking.Block(client, state);
        if (numLocal > 0) aof!.WaitForFsync(client, state, servedByFsync: numReplicas == 0);
    }

    /// <summary>WAITAOF's reply: [numlocal fsynced, numreplicas acked] (no replicas yet).</summary>
    internal static void ReplyWaitAof(RespWriter reply, int local)
    {
        reply.Array(2);
        reply.Integer(local);
        reply.Integer(0);
    }
}
