using System.Globalization;
using System.Text;
using StreamServer.Execution;
using StreamServer.Protocol;
using StreamServer.Storage.Streams;
using static StreamServer.Execution.CommandFlags;
using Stream = StreamServer.Storage.Streams.Stream;

namespace StreamServer.Commands;

/// <summary>
/// Consumer groups (t_stream.c): XGROUP, XREADGROUP (with blocking), XACK, XPENDING, XCLAIM, XAUTOCLAIM,
/// XINFO GROUPS and XINFO CONSUMERS. Storage is <see cref="ConsumerGroup"/>; this file parses and replies.
/// </summary>
public static class ConsumerGroupCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("xgroup", -2, None, 0, 0, 0, CommandRegistry.ContainerWithoutSubcommand, "stream", "A container for consumer groups commands", "5.0.0", "Depends on subcommand.", "slow")
            .Sub("create", -5, Write | DenyOom, 2, 2, 1, XGroupCreate, "Create a consumer group.", "5.0.0", "O(1)", "write", "stream", "slow")
            .Sub("setid", -5, Write, 2, 2, 1, XGroupSetId, "Set a consumer group to an arbitrary last delivered ID value.", "5.0.0", "O(1)", "write", "stream", "slow")
            .Sub("destroy", 4, Write, 2, 2, 1, XGroupDestroy, "Destroy a consumer group.", "5.0.0", "O(N) where N is the number of entries in the group's pending entries list (PEL).", "write", "stream", "slow")
            .Sub("createconsumer", 5, Write | DenyOom, 2, 2, 1, XGroupCreateConsumer, "Create a consumer in a consumer group.", "6.2.0", "O(1)", "write", "stream", "slow")
            .Sub("delconsumer", 5, Write, 2, 2, 1, XGroupDelConsumer, "Delete a consumer from a consumer group.", "5.0.0", "O(1)", "write", "stream", "slow")
            .Sub("help", 2, Loading | Stale, 0, 0, 0, XGroupHelp, "Show helpful text about the different subcommands", "5.0.0", "O(1)", "stream", "slow");

        t.Add(new CommandDef("xreadgroup", -7, Write | Blocking | Movablekeys, 0, 0, 0, XReadGroup)
        {
            Group = "stream",
            Summary = "Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise.",
            Since = "5.0.0",
            Complexity = "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.",
            Categories = ["write", "stream", "slow", "blocking"],
            KeyFinder = FindReadGroupKeys,
        });
        t.Add("xackdel", -6, Write | Fast, 1, 1, 1, XAckDel, "stream", "Acknowledges and conditionally deletes one or multiple entries for a stream consumer group.", "8.2.0", "O(1) for each entry ID processed.", "write", "stream", "fast");
        t.Add("xnack", -7, Write | Fast, 1, 1, 1, XNack, "stream", "Releases pending messages back to the group's PEL without acknowledging them, making them available for re-delivery.", "8.8.0", "O(1) for each message ID processed.", "write", "stream", "fast");
        t.Add("xack", -4, Write | Fast, 1, 1, 1, XAck, "stream", "Returns the number of messages that were successfully acknowledged by the consumer group member of a stream.", "5.0.0", "O(1) for each message ID processed.", "write", "stream", "fast");
        Add(t, "xpending", -3, ReadOnly, XPending, "Returns the information and entries from a stream consumer group's pending entries list.", "5.0.0",
            "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.",
            ["read", "stream", "slow"]);
        Add(t, "xclaim", -6, Write | Fast, XClaim, "Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member.", "5.0.0",
            "O(log N) with N being the number of messages in the PEL of the consumer group.", ["write", "stream", "fast"]);
        Add(t, "xautoclaim", -6, Write | Fast, XAutoClaim, "Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member.", "6.2.0",
            "O(1) if COUNT is small.", ["write", "stream", "fast"]);

        // XINFO is shared with the stream family (XINFO STREAM): add our subcommands to its container.
        var xinfo = t.Find("xinfo")
            ?? t.Add("xinfo", -2, None, 0, 0, 0, CommandRegistry.ContainerWithoutSubcommand, "stream", "A container for stream introspection commands", "5.0.0", "Depends on subcommand.", "slow")
                .Sub("help", 2, Loading | Stale, 0, 0, 0, XInfoHelp, "Show helpful text about the different subcommands", "5.0.0", "O(1)", "stream", "slow");
        xinfo.Sub("groups", 3, ReadOnly, 2, 2, 1, XInfoGroups, "Returns a list of the consumer groups of a stream.", "5.0.0", "O(1)", "read", "stream", "slow");
        xinfo.AddSubcommand(new CommandDef("consumers", 4, ReadOnly, 2, 2, 1, XInfoConsumers)
        {
            Group = "stream",
            Summary = "Returns a list of the consumers in a consumer group.",
            Since = "5.0.0",
            Complexity = "O(1)",
            Categories = ["read", "stream", "slow"],
            Tips = ["nondeterministic_output"],
        });
    }

    private static void Add(CommandTable t, string name, int arity, CommandFlags flags, CommandHandler handler, string summary, string since, string complexity, string[] categories)
        => t.Add(new CommandDef(name, arity, flags, 1, 1, 1, handler)
        {
            Group = "stream",
            Summary = summary,
            Since = since,
            Complexity = complexity,
            Categories = categories,
            Tips = ["nondeterministic_output"],
        });

    /// <summary>XREADGROUP's keys: after the STREAMS keyword (searched from argument 4), the first half (rounded down) of what follows.</summary>
    private static IReadOnlyList<int>? FindReadGroupKeys(IReadOnlyList<ReadOnlyMemory<byte>> args)
    {
        for (var i = 4; i < args.Count; i++)
        {
            if (!CommandContext.EqualsIgnoreCase(args[i].Span, "STREAMS"u8)) continue;
            var rest = args.Count - i - 1;
            if (rest < 2) return null;
            var keys = new int[rest / 2];
            for (var k = 0; k < keys.Length; k++) keys[k] = i + 1 + k;
            return keys;
        }
        return null;
    }

    // ---- XGROUP ------------------------------------------------------------------------------------------

    // XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD entries-read]
    private static void XGroupCreate(CommandContext ctx)
    {
        var mkStream = false;
        var entriesRead = ConsumerGroup.InvalidEntriesRead;
        for (var i = 5; i < ctx.ArgCount; i++)
        {
            if (ctx.ArgIs(i, "MKSTREAM"u8)) mkStream = true;
            else if (ctx.ArgIs(i, "ENTRIESREAD"u8) && i + 1 < ctx.ArgCount)
            {
                if (!TryParseEntriesRead(ctx, ++i, out entriesRead)) return;
            }
            else
            {
                ctx.Error(Errors.SubcommandSyntax(ctx.ArgString(1), "xgroup"));
                return;
            }
        }
        var key = ctx.Arg(2);
        if (!ctx.TryGet<Stream>(key, out var stream)) return;
        if (stream is null && !mkStream)
        {
            ctx.Error(Errors.XGroupKeyMissing);
            return;
        }
        if (ctx.ArgCount > 8)
        {
            // Options may repeat, but CREATE takes at most 8 arguments (checked after the key, as Redis does).
            ctx.Error(Errors.SubcommandSyntax(ctx.ArgString(1), "xgroup"));
            return;
        }
        StreamId id;
        if (ctx.Arg(4).SequenceEqual("$"u8)) id = stream?.LastId ?? default;
        else if (!StreamReplies.TryParseStrictId(ctx, 4, 0, out id)) return;

        if (stream is null)
        {
            stream = NewStream(ctx);
            ctx.Db.Add(key, stream);
        }
        if (stream.Groups.TryCreate(ctx.Arg(3), id, entriesRead) is null)
        {
            ctx.Error(Errors.BusyGroup);
            return;
        }
        ctx.MarkDirty();
        ctx.Reply.Ok();
        ctx.Notify(NotifyClass.Stream, "xgroup-create"u8, key);
    }

    // XGROUP SETID key group id|$ [ENTRIESREAD entries-read]
    private static void XGroupSetId(CommandContext ctx)
    {
        // As xgroupCommand: every ENTRIESREAD value is parsed first, then the key and group are looked up, and only
        // then is the argument count checked (one ENTRIESREAD at most).
        var entriesRead = ConsumerGroup.InvalidEntriesRead;
        for (var i = 5; i < ctx.ArgCount; i++)
        {
            if (ctx.ArgIs(i, "ENTRIESREAD"u8) && i + 1 < ctx.ArgCount)
            {
                if (!TryParseEntriesRead(ctx, ++i, out entriesRead)) return;
            }
            else
            {
                ctx.Error(Errors.SubcommandSyntax(ctx.ArgString(1), "xgroup"));
                return;
            }
        }
        if (!TryGetGroupForXGroup(ctx, out var stream, out var group)) return;
        if (ctx.ArgCount is not (5 or 7))
        {
            ctx.Error(Errors.SubcommandSyntax(ctx.ArgString(1), "xgroup"));
            return;
        }
        StreamId id;
        if (ctx.Arg(4).SequenceEqual("$"u8)) id = stream.LastId;
        else if (!StreamReplies.TryParseId(ctx, 4, 0, out id)) return;
        group.LastDeliveredId = id;
        group.EntriesRead = entriesRead;
        ctx.MarkDirty();
        ctx.Reply.Ok();
        ctx.Notify(NotifyClass.Stream, "xgroup-setid"u8, ctx.Arg(2));
    }

    // XGROUP DESTROY key group
    private static void XGroupDestroy(CommandContext ctx)
    {
        var key = ctx.Arg(2);
        if (!ctx.TryGet<Stream>(key, out var stream)) return;
        if (stream is null)
        {
            ctx.Error(Errors.XGroupKeyMissing);
            return;
        }
        if (!stream.Groups.Remove(ctx.Arg(3)))
        {
            ctx.Reply.Integer(0);
            return;
        }
        // Blocked XREADGROUP readers of this group re-run and find it gone: they get NOGROUP. Only the waiters
        // are signalled (Redis's signalKeyAsReady): group changes do not invalidate WATCH.
        ctx.Server.Blocking.KeyTouched(ctx.Db.Index, key);
        ctx.MarkDirty();
        ctx.Reply.Integer(1);
        ctx.Notify(NotifyClass.Stream, "xgroup-destroy"u8, key);
    }

    // XGROUP CREATECONSUMER key group consumer
    private static void XGroupCreateConsumer(CommandContext ctx)
    {
        if (!TryGetGroupForXGroup(ctx, out _, out var group)) return;
        group.GetOrCreateConsumer(ctx.Arg(4), ctx.NowMs, out var created);
        if (created)
        {
            ctx.MarkDirty();
            ctx.Notify(NotifyClass.Stream, "xgroup-createconsumer"u8, ctx.Arg(2));
        }
        ctx.Reply.Integer(created ? 1 : 0);
    }

    // XGROUP DELCONSUMER key group consumer
    private static void XGroupDelConsumer(CommandContext ctx)
    {
        if (!TryGetGroupForXGroup(ctx, out _, out var group)) return;
        var consumer = group.FindConsumer(ctx.Arg(4));
        if (consumer is null)
        {
            ctx.Reply.Integer(0);
            return;
        }
        ctx.MarkDirty();
        ctx.Reply.Integer(group.DeleteConsumer(consumer));
        ctx.Notify(NotifyClass.Stream, "xgroup-delconsumer"u8, ctx.Arg(2));
    }

    // XGROUP HELP
    private static void XGroupHelp(CommandContext ctx) => ConnectionCommands.HelpReply(ctx,
    [
        "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        "HELP",
        "    Prints this help.",
    ]);

    private static bool TryParseEntriesRead(CommandContext ctx, int index, out long entriesRead)
    {
        if (!ctx.TryGetLong(index, out entriesRead)) return false;
        if (entriesRead < 0 && entriesRead != ConsumerGroup.InvalidEntriesRead)
        {
            ctx.Error(Errors.EntriesReadRange);
            return false;
        }
        return true;
    }

    /// <summary>The key must hold a stream and the group must exist (XGROUP SETID/CREATECONSUMER/DELCONSUMER); else the error is written.</summary>
    private static bool TryGetGroupForXGroup(CommandContext ctx, out Stream stream, out ConsumerGroup group)
    {
        stream = null!;
        group = null!;
        if (!ctx.TryGet<Stream>(ctx.Arg(2), out var found)) return false;
        if (found is null)
        {
            ctx.Error(Errors.XGroupKeyMissing);
            return false;
        }
        var g = found.Groups.Find(ctx.Arg(3));
        if (g is null)
        {
            ctx.Error(Errors.NoGroupForKey(ctx.ArgString(3), ctx.ArgString(2)));
            return false;
        }
        stream = found;
        group = g;
        return true;
    }

    private static Stream NewStream(CommandContext ctx)
        => new(ctx.Server.Options.StreamNodeMaxEntries, ctx.Server.Options.StreamNodeMaxBytes);

    // ---- XREADGROUP --------------------------------------------------------------------------------------

    /// <summary>XREADGROUP keys whose ids are parsed into a stack buffer; more take an array.</summary>
    private const int StackReadKeys = 16;

    // XREADGROUP GROUP group consumer [COUNT count] [MAXCOUNT maxcount] [MAXSIZE maxsize] [BLOCK milliseconds]
    //            [CLAIM min-idle-time] [NOACK] STREAMS key [key ...] id [id ...]
    private static void XReadGroup(CommandContext ctx)
    {
        if (!StreamReplies.TryParseReadArgs(ctx, xreadgroup: true, out var args)) return;
        var groupName = ctx.Arg(args.GroupArg);
        var consumerName = ctx.Arg(args.GroupArg + 1);
        if (ctx.IsRetry && !CheckStillBlockable(ctx, args, groupName)) return;

        // No array per call: the ids go on the stack (up to a bound) and each group is found again when served.
        var ids = args.KeyCount <= StackReadKeys ? stackalloc StreamId[StackReadKeys] : new StreamId[args.KeyCount];
        for (var i = 0; i < args.KeyCount; i++)
        {
            var key = ctx.Arg(args.FirstKey + i);
            if (!ctx.TryGetRead<Stream>(key, out var stream)) return;
            if (stream?.Groups.Find(groupName) is null)
            {
                ctx.Error(Errors.NoGroupInXReadGroup(ctx.ArgString(args.FirstKey + i), Encoding.UTF8.GetString(groupName)));
                return;
            }
            var idArg = ctx.Arg(args.FirstId + i);
            if (idArg.SequenceEqual("$"u8))
            {
                ctx.Error(Errors.XReadGroupDollarId);
                return;
            }
            // The maximum id stands for '>' as in Redis (so does an explicit maximum id).
            if (idArg.SequenceEqual(">"u8)) ids[i] = StreamId.Max;
            else if (!StreamReplies.TryParseStrictId(ctx, args.FirstId + i, 0, out ids[i])) return;
        }

        var reply = ctx.Reply;
        var now = ctx.NowMs;
        var header = StreamReplies.BeginStreams(reply);
        var served = 0;
        var budget = new StreamReplies.ReadBudget(args);
        for (var i = 0; i < args.KeyCount; i++)
        {
            if (budget.Exhausted) break;
            var key = ctx.Arg(args.FirstKey + i);
            var stream = (Stream)ctx.LookupRead(key)!; // again, as Redis's serving loop (a second hit in INFO)
            var group = stream.Groups.Find(groupName)!;
            var after = ids[i];
            var history = after != StreamId.Max;
            var serve = history;
            if (!history && stream.Length > 0 && stream.LastLiveId > group.LastDeliveredId)
            {
                serve = true;
                after = group.LastDeliveredId;
            }
            // CLAIM (Redis 8.4, '>' only): pending entries idle long enough come first.
            List<StreamId>? claimable = null;
            if (!history && args.ClaimMinIdle >= 0)
            {
                claimable = group.IdleForClaim(args.ClaimMinIdle, args.Count, now);
                if (claimable.Count > 0)
                {
                    serve = true;
                    after = group.LastDeliveredId;
                }
            }
            // A '>' read that finds nothing creates no consumer, whether it blocks or not (redis.io XGROUP
            // CREATECONSUMER: "valid for XREADGROUP only when there is data in the stream"; so does Redis 7.0).
            if (!serve) continue;
            var consumer = group.GetOrCreateConsumer(consumerName, now, out var consumerCreated);
            consumer.SeenTimeMs = now;
            // Replay gets the effects, not the read (streamPropagateConsumerCreation / XCLAIM / streamPropagateGroupID).
            ctx.PreventPropagation();
            if (consumerCreated)
            {
                PropagateConsumerCreation(ctx, key, groupName, consumerName);
                ctx.Notify(NotifyClass.Stream, "xgroup-createconsumer"u8, key);
            }

            served++;
            StreamReplies.StreamKey(reply, key);
            var start = after.TryIncrement(out var next) ? next : after;
            var lastBefore = group.LastDeliveredId;
            var readBefore = group.EntriesRead;
            if (history) WriteHistory(ctx, key, reply, stream, group, consumer, start, args.Count, now, ref budget);
            else if (claimable is not null) WriteClaimedAndNew(ctx, key, reply, stream, group, consumer, claimable, start, args, now, ref budget);
            else WriteNew(ctx, key, reply, stream, group, consumer, start, args.Count, args.NoAck, now, ref budget);
            if (group.LastDeliveredId != lastBefore || group.EntriesRead != readBefore) PropagateGroupId(ctx, key, group);
        }

        if (served > 0 || args.BlockMs < 0 || ctx.InExec)
        {
            StreamReplies.EndStreams(reply, header, served);
            return;
        }
        // Nothing yet: park (a retry is parked already and keeps its place in line).
        if (!ctx.IsRetry) StreamReplies.Block(ctx, args, StreamReplies.CopyArgs(ctx));
        // CLAIM also waits for a pending entry to become idle enough (xreadgroup page: the condition "may become
        // true for some pending entries during the BLOCK milliseconds period").
        if (args.ClaimMinIdle >= 0 && ctx.Client.Blocked is { } blocked)
        {
            long recheck = 0;
            for (var i = 0; i < args.KeyCount; i++)
            {
                var group = ((Stream)ctx.Db.Get(ctx.Arg(args.FirstKey + i))!).Groups.Find(groupName)!;
                var at = group.NextClaimableAt(args.ClaimMinIdle);
                if (at != 0 && (recheck == 0 || at < recheck)) recheck = at;
            }
            blocked.RecheckAtMs = recheck;
        }
    }

    /// <summary>
    /// A blocked reader re-run after its key was touched: a deleted (or retyped) key or a destroyed group ends
    /// the wait with Redis's error instead of the first-call errors.
    /// </summary>
    private static bool CheckStillBlockable(CommandContext ctx, in StreamReplies.ReadArgs args, ReadOnlySpan<byte> groupName)
    {
        for (var i = 0; i < args.KeyCount; i++)
        {
            if (ctx.Db.Get(ctx.Arg(args.FirstKey + i)) is not Stream stream)
            {
                ctx.Error(Errors.UnblockedStreamDeleted);
                return false;
            }
            if (stream.Groups.Find(groupName) is null)
            {
                ctx.Error(Errors.NoGroupWhileBlocked);
                return false;
            }
        }
        return true;
    }

    /// <summary>New entries after <paramref name="start"/> (inclusive): delivered to the consumer, into the PELs unless NOACK.</summary>
    private static void WriteNew(CommandContext ctx, ReadOnlySpan<byte> key, RespWriter reply, Stream stream, ConsumerGroup group, Consumer consumer, StreamId start, long count, bool noAck, long now,
        ref StreamReplies.ReadBudget budget)
    {
        var header = reply.BeginDeferred();
        var written = 0;
        var entries = stream.Range(start, StreamId.Max, count);
        while (entries.MoveNext() && budget.TryTake(entries.Current))
        {
            var entry = entries.Current;
            group.DeliverNew(stream, entry.Id, consumer, now, noAck);
            if (!noAck && ctx.Propagating && group.Pending.TryGetValue(entry.Id, out var pending)) PropagateXClaim(ctx, key, group, entry.Id, pending);
            StreamReplies.Entry(reply, entry);
            written++;
        }
        reply.EndDeferredArray(header, written);
    }

    /// <summary>
    /// XREADGROUP … CLAIM: first the idle pending entries (<paramref name="claimable"/>, longest idle first), claimed
    /// by the consumer, then new entries after <paramref name="start"/> up to what COUNT leaves. Every entry carries
    /// the delivery metadata as XPENDING shows it before this delivery: <c>[id, fields, idle-ms, delivery-count]</c>,
    /// 0 and 0 for a new entry (-1 idle for an entry XNACK released). Claimed entries enter the PEL even with NOACK.
    /// A claimable entry deleted from the stream leaves the PEL and is not reported, as XAUTOCLAIM does.
    /// </summary>
    private static void WriteClaimedAndNew(CommandContext ctx, ReadOnlySpan<byte> key, RespWriter reply, Stream stream, ConsumerGroup group, Consumer consumer,
        List<StreamId> claimable, StreamId start, in StreamReplies.ReadArgs args, long now, ref StreamReplies.ReadBudget budget)
    {
        var header = reply.BeginDeferred();
        var written = 0;
        foreach (var id in claimable)
        {
            var it = stream.Range(id, id, 1);
            if (!it.MoveNext())
            {
                PropagateXClaim(ctx, key, group, consumer.Name, id, now, 0);
                group.Acknowledge(id);
                continue;
            }
            if (!budget.TryTake(it.Current)) break;
            ref var pending = ref group.Pending.GetValueRefOrNullRef(id);
            var idle = pending.IsNacked ? -1 : Math.Max(0, now - pending.DeliveryTimeMs);
            var deliveries = pending.DeliveryCount;
            ConsumerGroup.Claim(id, ref pending, consumer, now, -1, countDelivery: true, now);
            PropagateXClaim(ctx, key, group, id, pending);
            StreamReplies.Entry(reply, it.Current, idle, deliveries);
            written++;
        }
        var left = args.Count == 0 ? 0 : args.Count - written;
        if (args.Count == 0 || left > 0)
        {
            var entries = stream.Range(start, StreamId.Max, left);
            while (!budget.Exhausted && entries.MoveNext() && budget.TryTake(entries.Current))
            {
                var entry = entries.Current;
                group.DeliverNew(stream, entry.Id, consumer, now, args.NoAck);
                if (!args.NoAck && ctx.Propagating && group.Pending.TryGetValue(entry.Id, out var pending)) PropagateXClaim(ctx, key, group, entry.Id, pending);
                StreamReplies.Entry(reply, entry, 0, 0);
                written++;
            }
        }
        reply.EndDeferredArray(header, written);
    }

    /// <summary>The consumer's own pending entries from <paramref name="start"/>; deleted ones come back as <c>[id, nil]</c>.</summary>
    private static void WriteHistory(CommandContext ctx, ReadOnlySpan<byte> key, RespWriter reply, Stream stream, ConsumerGroup group, Consumer consumer, StreamId start, long count, long now,
        ref StreamReplies.ReadBudget budget)
    {
        var header = reply.BeginDeferred();
        var written = 0;
        var cursor = start;
        while ((count == 0 || written < count) && consumer.Pending.SeekCeiling(cursor, out var id, out _))
        {
            if (!WriteEntry(reply, stream, id, ref budget, out var overBudget))
            {
                if (overBudget) break;
                reply.Array(2);
                StreamReplies.Id(reply, id);
                reply.NullArray();
            }
            else
            {
                ref var pending = ref group.Pending.GetValueRefOrNullRef(id);
                pending.DeliveryTimeMs = now;
                pending.DeliveryCount++;
                // Redis does not propagate history reads; we do, so a replayed PEL has the same times and counts.
                PropagateXClaim(ctx, key, group, id, pending);
            }
            written++;
            if (!id.TryIncrement(out cursor)) break;
        }
        reply.EndDeferredArray(header, written);
    }

    // ---- propagation (t_stream.c: streamPropagateXCLAIM, streamPropagateGroupID, streamPropagateConsumerCreation) ----

    private static readonly byte[] XClaimName = "XCLAIM"u8.ToArray(), XGroupName = "XGROUP"u8.ToArray(),
        SetIdName = "SETID"u8.ToArray(), EntriesReadName = "ENTRIESREAD"u8.ToArray(), CreateConsumerName = "CREATECONSUMER"u8.ToArray(),
        ZeroArg = "0"u8.ToArray(), TimeName = "TIME"u8.ToArray(), RetryCountName = "RETRYCOUNT"u8.ToArray(),
        ForceName = "FORCE"u8.ToArray(), JustIdName = "JUSTID"u8.ToArray(), LastIdName = "LASTID"u8.ToArray();

    private static byte[] LongBytes(long value) => Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));

    /// <summary>XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE JUSTID LASTID group-last-id: recreates one PEL entry.</summary>
    private static void PropagateXClaim(CommandContext ctx, ReadOnlySpan<byte> key, ConsumerGroup group, StreamId id, in PendingEntry pending)
        => PropagateXClaim(ctx, key, group, pending.OwnerName, id, pending.DeliveryTimeMs, pending.DeliveryCount);

    private static void PropagateXClaim(CommandContext ctx, ReadOnlySpan<byte> key, ConsumerGroup group, byte[] consumer, StreamId id, long deliveryTime, long deliveryCount)
    {
        if (!ctx.Propagating) return;
        ctx.AlsoPropagate(XClaimName, key.ToArray(), group.Name.ToArray(), consumer.ToArray(), ZeroArg, StreamReplies.IdBytes(id),
            TimeName, LongBytes(deliveryTime), RetryCountName, LongBytes(deliveryCount), ForceName, JustIdName,
            LastIdName, StreamReplies.IdBytes(group.LastDeliveredId));
    }

    /// <summary>XGROUP SETID key group last-id ENTRIESREAD n.</summary>
    private static void PropagateGroupId(CommandContext ctx, ReadOnlySpan<byte> key, ConsumerGroup group)
    {
        if (!ctx.Propagating) return;
        ctx.AlsoPropagate(XGroupName, SetIdName, key.ToArray(), group.Name.ToArray(), StreamReplies.IdBytes(group.LastDeliveredId),
            EntriesReadName, LongBytes(group.EntriesRead));
    }

    /// <summary>XGROUP CREATECONSUMER key group consumer.</summary>
    private static void PropagateConsumerCreation(CommandContext ctx, ReadOnlySpan<byte> key, ReadOnlySpan<byte> group, ReadOnlySpan<byte> consumer)
    {
        if (!ctx.Propagating) return;
        ctx.AlsoPropagate(XGroupName, CreateConsumerName, key.ToArray(), group.ToArray(), consumer.ToArray());
    }

    /// <summary>
    /// As <see cref="WriteEntry(RespWriter, Stream, StreamId)"/> within MAXCOUNT/MAXSIZE: <paramref name="overBudget"/>
    /// (nothing written) when the entry does not fit. A deleted entry (<c>[id, nil]</c>) is written while any budget is left.
    /// </summary>
    private static bool WriteEntry(RespWriter reply, Stream stream, StreamId id, ref StreamReplies.ReadBudget budget, out bool overBudget)
    {
        var it = stream.Range(id, id, 1);
        if (!it.MoveNext())
        {
            overBudget = budget.Exhausted;
            return false;
        }
        overBudget = !budget.TryTake(it.Current);
        if (overBudget) return false;
        StreamReplies.Entry(reply, it.Current);
        return true;
    }

    /// <summary>Writes the live entry <paramref name="id"/> as <c>[id, fields]</c>; false when it no longer exists.</summary>
    private static bool WriteEntry(RespWriter reply, Stream stream, StreamId id)
    {
        var it = stream.Range(id, id, 1);
        if (!it.MoveNext()) return false;
        StreamReplies.Entry(reply, it.Current);
        return true;
    }

    // ---- XACK --------------------------------------------------------------------------------------------

    // XACK key group id [id ...]
    private static void XAck(CommandContext ctx)
    {
        if (!ctx.TryGetRead<Stream>(ctx.Arg(1), out var stream)) return;
        var group = stream?.Groups.Find(ctx.Arg(2));
        if (group is null)
        {
            ctx.Reply.Integer(0);
            return;
        }
        // All or nothing: every id parses before any is acknowledged.
        for (var i = 3; i < ctx.ArgCount; i++)
        {
            if (!StreamReplies.TryParseStrictId(ctx, i, 0, out _)) return;
        }
        var acknowledged = 0;
        for (var i = 3; i < ctx.ArgCount; i++)
        {
            StreamReplies.TryParseId(ctx.Arg(i), 0, strict: true, out var id, out _);
            if (group.Acknowledge(id)) acknowledged++;
        }
        if (acknowledged > 0) ctx.MarkDirty();
        ctx.Reply.Integer(acknowledged);
    }

    // XACKDEL key group [KEEPREF | DELREF | ACKED] IDS numids id [id ...]
    private static void XAckDel(CommandContext ctx)
    {
        if (!StreamCommands.TryParsePolicyAndIds(ctx, 3, out var policy, out var firstId, out var numIds)) return;
        var key = ctx.Arg(1);
        if (!ctx.TryGet<Stream>(key, out var stream)) return;
        var group = stream?.Groups.Find(ctx.Arg(2));
        var reply = ctx.Reply;
        reply.Array(numIds);
        if (stream is null || group is null)
        {
            // Nothing to acknowledge or delete: every id is "no such id" (the page's reply for a missing key).
            for (var j = 0; j < numIds; j++) reply.Integer(-1);
            return;
        }
        var changed = false;
        var deleted = false;
        for (var j = 0; j < numIds; j++)
        {
            StreamReplies.TryParseId(ctx.Arg(firstId + j), 0, strict: true, out var id, out _);
            if (group.Acknowledge(id)) changed = true;
            var result = StreamCommands.DeleteWithPolicy(stream, id, policy, ref changed);
            deleted |= result == 1;
            reply.Integer(result);
        }
        if (changed) ctx.Db.Touch(key);
        if (deleted) ctx.Notify(NotifyClass.Stream, "xdel"u8, key); // as XDELEX: entries deleted, not acknowledgements
    }

    // XNACK key group <SILENT | FAIL | FATAL> IDS numids id [id ...] [RETRYCOUNT count] [FORCE]
    private static void XNack(CommandContext ctx)
    {
        NackMode mode;
        if (ctx.ArgIs(3, "SILENT"u8)) mode = NackMode.Silent;
        else if (ctx.ArgIs(3, "FAIL"u8)) mode = NackMode.Fail;
        else if (ctx.ArgIs(3, "FATAL"u8)) mode = NackMode.Fatal;
        else
        {
            ctx.SyntaxError();
            return;
        }
        if (!ctx.ArgIs(4, "IDS"u8))
        {
            ctx.SyntaxError();
            return;
        }
        if (!StreamCommands.TryParseIdsBlock(ctx, 4, out var firstId, out var numIds)) return;
        long retryCount = -1;
        var force = false;
        for (var j = firstId + numIds; j < ctx.ArgCount; j++)
        {
            if (ctx.ArgIs(j, "RETRYCOUNT"u8) && j + 1 < ctx.ArgCount)
            {
                if (!CommandContext.TryParseLong(ctx.Arg(++j), out retryCount) || retryCount < 0)
                {
                    ctx.Error(Errors.XNackRetryCount);
                    return;
                }
            }
            else if (ctx.ArgIs(j, "FORCE"u8)) force = true;
            else
            {
                // An id past numids means the count and the ids disagree; anything else is a syntax error.
                ctx.Error(StreamReplies.TryParseId(ctx.Arg(j), 0, strict: true, out _, out _) ? Errors.NumIdsMismatch : Errors.Syntax);
                return;
            }
        }
        if (!ctx.TryGetGroup(out var stream, out var group)) return;

        long released = 0;
        for (var j = 0; j < numIds; j++)
        {
            StreamReplies.TryParseId(ctx.Arg(firstId + j), 0, strict: true, out var id, out _);
            if (group.Nack(id, mode, retryCount)) released++;
            else if (force && stream.Contains(id))
            {
                group.AddNacked(id, mode, retryCount);
                released++;
            }
        }
        if (released > 0) ctx.MarkDirty();
        ctx.Reply.Integer(released);
    }

    // ---- XPENDING ----------------------------------------------------------------------------------------

    // XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
    private static void XPending(CommandContext ctx)
    {
        var summary = ctx.ArgCount == 3;
        if (!summary && (ctx.ArgCount < 6 || ctx.ArgCount > 9))
        {
            ctx.SyntaxError();
            return;
        }
        long minIdle = 0, count = 0;
        StreamId start = default, end = default;
        var consumerArg = 0;
        if (!summary)
        {
            var startIndex = 3;
            if (ctx.ArgIs(3, "IDLE"u8))
            {
                if (!ctx.TryGetLong(4, out minIdle)) return;
                if (ctx.ArgCount < 8)
                {
                    ctx.SyntaxError();
                    return;
                }
                startIndex += 2;
            }
            if (!ctx.TryGetLong(startIndex + 2, out count)) return;
            if (count < 0) count = 0;
            if (!StreamReplies.TryParseIntervalId(ctx, startIndex, 0, out start, out var startExclusive)) return;
            if (startExclusive && !start.TryIncrement(out start))
            {
                ctx.Error(Errors.StreamInvalidStartId);
                return;
            }
            if (!StreamReplies.TryParseIntervalId(ctx, startIndex + 1, ulong.MaxValue, out end, out var endExclusive)) return;
            if (endExclusive && !end.TryDecrement(out end))
            {
                ctx.Error(Errors.StreamInvalidEndId);
                return;
            }
            if (startIndex + 3 < ctx.ArgCount) consumerArg = startIndex + 3;
        }

        if (!ctx.TryGetGroup(out var stream, out var group)) return;
        _ = stream;
        var reply = ctx.Reply;
        if (summary)
        {
            reply.Array(4);
            reply.Integer(group.Pending.Count);
            if (group.Pending.Count == 0)
            {
                reply.Null();
                reply.Null();
                reply.NullArray();
                return;
            }
            group.Pending.TryGetFirst(out var first, out _);
            group.Pending.TryGetLast(out var last, out _);
            StreamReplies.Id(reply, first);
            StreamReplies.Id(reply, last);
            var header = reply.BeginDeferred();
            var withPending = 0;
            foreach (var consumer in group.ConsumersInOrder())
            {
                if (consumer.Pending.Count == 0) continue;
                reply.Array(2);
                reply.Bulk(consumer.Name);
                reply.BulkInteger(consumer.Pending.Count);
                withPending++;
            }
            reply.EndDeferredArray(header, withPending);
            return;
        }

        Consumer? owner = null;
        if (consumerArg != 0)
        {
            owner = group.FindConsumer(ctx.Arg(consumerArg));
            if (owner is null)
            {
                reply.EmptyArray();
                return;
            }
        }
        var now = ctx.NowMs;
        var rows = reply.BeginDeferred();
        var written = 0;
        var cursor = start;
        while (count > 0 && group.SeekPending(owner, cursor, out var id, out var pending) && id <= end)
        {
            if (minIdle == 0 || now - pending.DeliveryTimeMs >= minIdle)
            {
                // A released (XNACKed) entry shows no consumer and an idle time of -1 (XNACK page).
                reply.Array(4);
                StreamReplies.Id(reply, id);
                reply.Bulk(pending.OwnerName);
                reply.Integer(pending.IsNacked ? -1 : Math.Max(0, now - pending.DeliveryTimeMs));
                reply.Integer(pending.DeliveryCount);
                written++;
                count--;
            }
            if (!id.TryIncrement(out cursor)) break;
        }
        reply.EndDeferredArray(rows, written);
    }

    /// <summary>The group named by argument 2 in the stream at argument 1 (XPENDING/XCLAIM/XAUTOCLAIM); writes WRONGTYPE or NOGROUP.</summary>
    private static bool TryGetGroup(this CommandContext ctx, out Stream stream, out ConsumerGroup group)
    {
        stream = null!;
        group = null!;
        if (!ctx.TryGetRead<Stream>(ctx.Arg(1), out var found)) return false;
        var g = found?.Groups.Find(ctx.Arg(2));
        if (g is null)
        {
            ctx.Error(Errors.NoGroup(ctx.ArgString(1), ctx.ArgString(2)));
            return false;
        }
        stream = found!;
        group = g;
        return true;
    }

    // ---- XCLAIM / XAUTOCLAIM -----------------------------------------------------------------------------

    // XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
    private static void XClaim(CommandContext ctx)
    {
        if (!ctx.TryGetGroup(out var stream, out var group)) return;
        if (!ctx.TryGetLong(4, out var minIdle, Errors.XClaimMinIdle)) return;
        if (minIdle < 0) minIdle = 0;

        // Ids run until the first argument that is not one; options follow.
        var j = 5;
        while (j < ctx.ArgCount && StreamReplies.TryParseId(ctx.Arg(j), 0, strict: true, out _, out _)) j++;
        var lastIdArg = j - 1;

        var now = ctx.NowMs;
        long retryCount = -1, deliveryTime = -1;
        bool force = false, justId = false;
        StreamId lastId = default;
        for (; j < ctx.ArgCount; j++)
        {
            var moreArgs = ctx.ArgCount - 1 - j;
            if (ctx.ArgIs(j, "FORCE"u8)) force = true;
            else if (ctx.ArgIs(j, "JUSTID"u8)) justId = true;
            else if (ctx.ArgIs(j, "IDLE"u8) && moreArgs > 0)
            {
                if (!ctx.TryGetLong(++j, out var idle, Errors.XClaimIdle)) return;
                deliveryTime = now - idle;
            }
            else if (ctx.ArgIs(j, "TIME"u8) && moreArgs > 0)
            {
                if (!ctx.TryGetLong(++j, out deliveryTime, Errors.XClaimTime)) return;
            }
            else if (ctx.ArgIs(j, "RETRYCOUNT"u8) && moreArgs > 0)
            {
                if (!ctx.TryGetLong(++j, out retryCount, Errors.XClaimRetryCount)) return;
            }
            else if (ctx.ArgIs(j, "LASTID"u8) && moreArgs > 0)
            {
                if (!StreamReplies.TryParseStrictId(ctx, ++j, 0, out lastId)) return;
            }
            else
            {
                ctx.Error(Errors.XClaimUnknownOption(ctx.ArgString(j)));
                return;
            }
        }

        ctx.PreventPropagation();
        var propagateLastId = false;
        if (lastId > group.LastDeliveredId)
        {
            group.LastDeliveredId = lastId;
            propagateLastId = true;
        }
        // A bogus time (negative or in the future) means now, as Redis does rather than failing.
        if (deliveryTime < 0 || deliveryTime > now) deliveryTime = now;

        var reply = ctx.Reply;
        var header = reply.BeginDeferred();
        var claimed = 0;
        Consumer? consumer = null;
        for (var i = 5; i <= lastIdArg; i++)
        {
            StreamReplies.TryParseId(ctx.Arg(i), 0, strict: true, out var id, out _);
            var isPending = group.Pending.TryGetValue(id, out var pending);
            if (!stream.Contains(id))
            {
                // The entry is gone (XDEL/trim): its pending entry goes too.
                if (isPending)
                {
                    PropagateXClaim(ctx, ctx.Arg(1), group, id, pending);
                    propagateLastId = false; // the XCLAIM carries LASTID
                    group.Acknowledge(id);
                }
                continue;
            }
            var forced = false;
            if (!isPending)
            {
                if (!force) continue;
                forced = true;
            }
            else if (minIdle > 0 && now - pending.DeliveryTimeMs < minIdle)
            {
                continue;
            }

            if (consumer is null)
            {
                consumer = group.GetOrCreateConsumer(ctx.Arg(3), now, out var consumerCreated);
                if (consumerCreated) ctx.Notify(NotifyClass.Stream, "xgroup-createconsumer"u8, ctx.Arg(1));
            }
            ref var entry = ref forced ? ref group.AddPending(id, consumer, deliveryTime) : ref group.Pending.GetValueRefOrNullRef(id);
            ConsumerGroup.Claim(id, ref entry, consumer, deliveryTime, retryCount, countDelivery: !justId, now);
            PropagateXClaim(ctx, ctx.Arg(1), group, id, entry);
            propagateLastId = false;

            if (justId) StreamReplies.Id(reply, id);
            else WriteEntry(reply, stream, id);
            claimed++;
        }
        if (propagateLastId) PropagateGroupId(ctx, ctx.Arg(1), group);
        reply.EndDeferredArray(header, claimed);
    }

    // XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
    private static void XAutoClaim(CommandContext ctx)
    {
        if (!ctx.TryGetLong(4, out var minIdle, Errors.XAutoClaimMinIdle)) return;
        if (minIdle < 0) minIdle = 0;
        if (!StreamReplies.TryParseIntervalId(ctx, 5, 0, out var start, out var startExclusive)) return;
        if (startExclusive && !start.TryIncrement(out start))
        {
            ctx.Error(Errors.StreamInvalidStartId);
            return;
        }
        long count = 100;
        var justId = false;
        for (var j = 6; j < ctx.ArgCount; j++)
        {
            var moreArgs = ctx.ArgCount - 1 - j;
            if (ctx.ArgIs(j, "COUNT"u8) && moreArgs > 0)
            {
                const long maxCount = long.MaxValue / 16; // LONG_MAX / max(sizeof(streamID), attempts factor)
                if (!CommandContext.TryParseLong(ctx.Arg(j + 1), out count) || count < 1 || count > maxCount)
                {
                    ctx.Error(Errors.XAutoClaimCount);
                    return;
                }
                j++;
            }
            else if (ctx.ArgIs(j, "JUSTID"u8)) justId = true;
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        if (!ctx.TryGetGroup(out var stream, out var group)) return;

        var claimed = new List<StreamId>();
        var deleted = new List<StreamId>();
        var nextCursor = group.AutoClaim(stream, start, count, minIdle, ctx.Arg(3), countDelivery: !justId, ctx.NowMs, claimed, deleted, out var consumerCreated);
        if (consumerCreated) ctx.Notify(NotifyClass.Stream, "xgroup-createconsumer"u8, ctx.Arg(1));

        // As Redis: not the command, but an XCLAIM per claimed entry and per dropped (deleted) one, which replay
        // also drops since the entry is missing. The dropped entry's owner is gone by now; the claimer stands in.
        ctx.PreventPropagation();
        foreach (var id in deleted) PropagateXClaim(ctx, ctx.Arg(1), group, ctx.Arg(3).ToArray(), id, ctx.NowMs, 0);
        foreach (var id in claimed)
        {
            if (group.Pending.TryGetValue(id, out var pending)) PropagateXClaim(ctx, ctx.Arg(1), group, id, pending);
        }

        var reply = ctx.Reply;
        reply.Array(3);
        StreamReplies.Id(reply, nextCursor);
        reply.Array(claimed.Count);
        foreach (var id in claimed)
        {
            if (justId) StreamReplies.Id(reply, id);
            else WriteEntry(reply, stream, id);
        }
        reply.Array(deleted.Count);
        foreach (var id in deleted) StreamReplies.Id(reply, id);
    }

    // ---- XINFO GROUPS / CONSUMERS ------------------------------------------------------------------------

    // XINFO GROUPS key
    private static void XInfoGroups(CommandContext ctx)
    {
        if (!TryGetExistingStream(ctx, out var stream)) return;
        var reply = ctx.Reply;
        var groups = stream.Groups.InOrder();
        reply.Array(groups.Count);
        foreach (var group in groups)
        {
            reply.Map(6);
            reply.Bulk("name"u8);
            reply.Bulk(group.Name);
            reply.Bulk("consumers"u8);
            reply.Integer(group.ConsumerCount);
            reply.Bulk("pending"u8);
            reply.Integer(group.Pending.Count);
            reply.Bulk("last-delivered-id"u8);
            StreamReplies.Id(reply, group.LastDeliveredId);
            reply.Bulk("entries-read"u8);
            WriteEntriesRead(reply, group);
            reply.Bulk("lag"u8);
            WriteLag(reply, stream, group);
        }
    }

    // XINFO CONSUMERS key group
    private static void XInfoConsumers(CommandContext ctx)
    {
        if (!TryGetExistingStream(ctx, out var stream)) return;
        var group = stream.Groups.Find(ctx.Arg(3));
        if (group is null)
        {
            ctx.Error(Errors.NoGroupForKey(ctx.ArgString(3), ctx.ArgString(2)));
            return;
        }
        var reply = ctx.Reply;
        var now = ctx.NowMs;
        var consumers = group.ConsumersInOrder();
        reply.Array(consumers.Count);
        foreach (var consumer in consumers)
        {
            // Redis 7.2's four fields: "inactive" is -1 for a consumer that never read or claimed anything.
            reply.Map(4);
            reply.Bulk("name"u8);
            reply.Bulk(consumer.Name);
            reply.Bulk("pending"u8);
            reply.Integer(consumer.Pending.Count);
            reply.Bulk("idle"u8);
            reply.Integer(Math.Max(0, now - consumer.SeenTimeMs));
            reply.Bulk("inactive"u8);
            reply.Integer(consumer.ActiveTimeMs < 0 ? -1 : Math.Max(0, now - consumer.ActiveTimeMs));
        }
    }

    // XINFO HELP (when the stream family has not declared XINFO)
    private static void XInfoHelp(CommandContext ctx) => ConnectionCommands.HelpReply(ctx,
    [
        "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        "HELP",
        "    Prints this help.",
    ]);

    /// <summary>XINFO's key lookup: a missing key is "ERR no such key".</summary>
    private static bool TryGetExistingStream(CommandContext ctx, out Stream stream)
        => StreamReplies.TryGetExistingStream(ctx, ctx.Arg(2), out stream, read: true);

    /// <summary>entries-read: the counter, or nil when unknown.</summary>
    public static void WriteEntriesRead(RespWriter reply, ConsumerGroup group)
    {
        if (group.EntriesRead != ConsumerGroup.InvalidEntriesRead) reply.Integer(group.EntriesRead);
        else reply.Null();
    }

    /// <summary>lag: entries not yet delivered, or nil when deletions make it unknown.</summary>
    public static void WriteLag(RespWriter reply, Stream stream, ConsumerGroup group)
    {
        if (group.Lag(stream) is { } lag) reply.Integer(lag);
        else reply.Null();
    }

    /// <summary>
    /// The "groups" part of XINFO STREAM key FULL [COUNT n] (Redis 7.2 fields): each group with its PEL and
    /// consumers, PELs limited to <paramref name="count"/> entries (0: all).
    /// </summary>
    public static void WriteGroupsFull(RespWriter reply, Stream stream, long count)
    {
        var groups = stream.Groups.InOrder();
        reply.Array(groups.Count);
        foreach (var group in groups)
        {
            reply.Map(7);
            reply.Bulk("name"u8);
            reply.Bulk(group.Name);
            reply.Bulk("last-delivered-id"u8);
            StreamReplies.Id(reply, group.LastDeliveredId);
            reply.Bulk("entries-read"u8);
            WriteEntriesRead(reply, group);
            reply.Bulk("lag"u8);
            WriteLag(reply, stream, group);
            reply.Bulk("pel-count"u8);
            reply.Integer(group.Pending.Count);
            reply.Bulk("pending"u8);
            var header = reply.BeginDeferred();
            var written = 0;
            foreach (var (id, pending) in group.Pending)
            {
                if (count > 0 && written == count) break;
                reply.Array(4);
                StreamReplies.Id(reply, id);
                reply.Bulk(pending.OwnerName);
                reply.Integer(pending.DeliveryTimeMs);
                reply.Integer(pending.DeliveryCount);
                written++;
            }
            reply.EndDeferredArray(header, written);

            reply.Bulk("consumers"u8);
            var consumers = group.ConsumersInOrder();
            reply.Array(consumers.Count);
            foreach (var consumer in consumers)
            {
                reply.Map(5);
                reply.Bulk("name"u8);
                reply.Bulk(consumer.Name);
                reply.Bulk("seen-time"u8);
                reply.Integer(consumer.SeenTimeMs);
                reply.Bulk("active-time"u8);
                reply.Integer(consumer.ActiveTimeMs);
                reply.Bulk("pel-count"u8);
                reply.Integer(consumer.Pending.Count);
                reply.Bulk("pending"u8);
                var own = reply.BeginDeferred();
                var ownWritten = 0;
                foreach (var (id, _) in consumer.Pending)
                {
                    if (count > 0 && ownWritten == count) break;
                    group.Pending.TryGetValue(id, out var pending);
                    reply.Array(3);
                    StreamReplies.Id(reply, id);
                    reply.Integer(pending.DeliveryTimeMs);
                    reply.Integer(pending.DeliveryCount);
                    ownWritten++;
                }
                reply.EndDeferredArray(own, ownWritten);
            }
        }
    }
}
