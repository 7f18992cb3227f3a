using StreamServer.Execution;
using StreamServer.Storage.Streams;
using static StreamServer.Execution.CommandFlags;
using Stream = StreamServer.Storage.Streams.Stream;

namespace StreamServer.Commands;

/// <summary>XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XSETID, XREAD, XINFO STREAM (t_stream.c without consumer groups).</summary>
public static class StreamCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("xadd", -5, Write | DenyOom | Fast, 1, 1, 1, XAdd, "stream", "Appends a new message to a stream. Creates the key if it doesn't exist.", "5.0.0", "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.", "write", "stream", "fast");
        t.Add("xrange", -4, ReadOnly, 1, 1, 1, XRange, "stream", "Returns the messages from a stream within a range of IDs.", "5.0.0", "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).", "read", "stream", "slow");
        t.Add("xrevrange", -4, ReadOnly, 1, 1, 1, XRevRange, "stream", "Returns the messages from a stream within a range of IDs in reverse order.", "5.0.0", "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).", "read", "stream", "slow");
        t.Add("xlen", 2, ReadOnly | Fast, 1, 1, 1, XLen, "stream", "Return the number of messages in a stream.", "5.0.0", "O(1)", "read", "stream", "fast");
        t.Add("xdel", -3, Write | Fast, 1, 1, 1, XDel, "stream", "Returns the number of messages after removing them from a stream.", "5.0.0", "O(1) for each single item to delete in the stream, regardless of the stream size.", "write", "stream", "fast");
        t.Add("xtrim", -4, Write, 1, 1, 1, XTrim, "stream", "Deletes messages from the beginning of a stream.", "5.0.0", "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.", "write", "stream", "slow");
        t.Add("xdelex", -5, Write | Fast, 1, 1, 1, XDelEx, "stream", "Deletes one or multiple entries from the stream.", "8.2.0", "O(1) for each single item to delete in the stream, regardless of the stream size.", "write", "stream", "fast");
        t.Add("xcfgset", -2, Write | Fast, 1, 1, 1, XCfgSet, "stream", "Sets the IDMP configuration parameters for a stream.", "8.6.0", "O(1)", "write", "stream", "fast");
        t.Add("xidmprecord", 5, Write | Fast, 1, 1, 1, XIdmpRecord, "stream", "An internal command for setting IDMP metadata on an existing stream message.", "8.8.0", "O(1)", "write", "stream", "fast");
        t.Add("xsetid", -3, Write | DenyOom | Fast, 1, 1, 1, XSetId, "stream", "An internal command for replicating stream values.", "5.0.0", "O(1)", "write", "stream", "fast");
        t.Add("xread", -4, ReadOnly | Blocking | Movablekeys, 0, 0, 0, XRead, "stream", "Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise.", "5.0.0", "", "read", "stream", "slow", "blocking");
        t.Add("xinfo", -2, None, 0, 0, 0, CommandRegistry.ContainerWithoutSubcommand, "stream", "A container for stream introspection commands.", "5.0.0", "Depends on subcommand.", "slow")
            .Sub("stream", -3, ReadOnly, 2, 2, 1, XInfoStream, "Returns information about a stream.", "5.0.0", "O(1)", "read", "stream", "slow")
            .Sub("help", 2, Loading | Stale, 0, 0, 0, XInfoHelp, "Returns helpful text about the different subcommands.", "5.0.0", "O(1)", "stream", "slow");
    }

    // ---- XADD / XTRIM --------------------------------------------------------------------------------------

    private enum TrimStrategy : byte { None, MaxLen, MinId }

    /// <summary>What streamParseAddOrTrimArgsOrReply gathers.</summary>
    private struct AddTrimArgs
    {
        public TrimStrategy Strategy;
        public bool Approx;
        public long MaxLen;
        public StreamId MinId;
        public long Limit;
        public bool NoMkStream;

        // Where the trim arguments are, for the exact form propagated after a '~' trim (0: absent).
        public int ApproxArg;
        public int ThresholdArg;
        public int LimitArg;

        // XADD only: where the id is, and what it says.
        public int IdArg;
        public bool IdGiven;
        public bool SeqGiven;
        public StreamId Id;

        // KEEPREF | DELREF | ACKED (Redis 8.2): what trimming does about consumer groups.
        public ReferencePolicy Policy;
        public bool PolicyGiven;

        // XADD IDMPAUTO pid | IDMP pid iid (Redis 8.6): where the keyword is (0: absent).
        public int IdmpArg;
        public bool IdmpAuto;
    }

    /// <summary>
    /// Parses <c>[NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]]</c> from argument 2 (and for XADD the id,
    /// where the options end). Writes the error and returns false on a bad argument.
    /// </summary>
    private static bool TryParseAddTrimArgs(CommandContext ctx, bool xadd, out AddTrimArgs args)
    {
        args = default;
        var limitGiven = false;
        var i = 2;
        for (; i < ctx.ArgCount; i++)
        {
            var moreArgs = ctx.ArgCount - 1 - i;
            var opt = ctx.Arg(i);
            if (xadd && opt.Length == 1 && opt[0] == (byte)'*')
            {
                break; // the common case: auto id
            }
            var isMaxLen = ctx.ArgIs(i, "MAXLEN"u8);
            if ((isMaxLen || ctx.ArgIs(i, "MINID"u8)) && moreArgs > 0)
            {
                if (args.Strategy != TrimStrategy.None) { ctx.Error(Errors.StreamTrimBothStrategies); return false; }
                args.Approx = false;
                var next = ctx.Arg(i + 1);
                if (moreArgs >= 2 && next.Length == 1 && (next[0] == (byte)'~' || next[0] == (byte)'='))
                {
                    args.Approx = next[0] == (byte)'~';
                    i++;
                }
                args.ApproxArg = args.Approx ? i : 0;
                args.ThresholdArg = i + 1;
                if (isMaxLen)
                {
                    if (!ctx.TryGetLong(i + 1, out args.MaxLen)) return false;
                    if (args.MaxLen < 0) { ctx.Error(Errors.StreamMaxLenNegative); return false; }
                    args.Strategy = TrimStrategy.MaxLen;
                }
                else
                {
                    if (!StreamReplies.TryParseStrictId(ctx, i + 1, 0, out args.MinId)) return false;
                    args.Strategy = TrimStrategy.MinId;
                }
                i++;
            }
            else if (ctx.ArgIs(i, "LIMIT"u8) && moreArgs > 0)
            {
                if (!ctx.TryGetLong(i + 1, out args.Limit)) return false;
                if (args.Limit < 0) { ctx.Error(Errors.StreamLimitNegative); return false; }
                limitGiven = true;
                args.LimitArg = i;
                i++;
            }
            else if (xadd && ctx.ArgIs(i, "NOMKSTREAM"u8))
            {
                args.NoMkStream = true;
            }
            else if (!args.PolicyGiven && TryParsePolicy(ctx, i, out args.Policy))
            {
                args.PolicyGiven = true;
            }
            else if (xadd && (ctx.ArgIs(i, "IDMPAUTO"u8) && moreArgs > 0 || ctx.ArgIs(i, "IDMP"u8) && moreArgs > 1))
            {
                if (args.IdmpArg != 0) { ctx.Error(Errors.XAddIdmpTwice); return false; }
                args.IdmpArg = i;
                args.IdmpAuto = ctx.Arg(i).Length == 8;
                if (ctx.Arg(i + 1).IsEmpty) { ctx.Error(Errors.IdmpEmptyProducerId); return false; }
                if (!args.IdmpAuto && ctx.Arg(i + 2).IsEmpty) { ctx.Error(Errors.IdmpEmptyIdempotentId); return false; }
                i += args.IdmpAuto ? 1 : 2;
            }
            else if (xadd)
            {
                // Anything else is the id (or a syntax error reported as an invalid id, as Redis does).
                var text = ctx.Arg(i);
                if (!TryParseAddId(text, out args.Id, out args.SeqGiven)) { ctx.Error(Errors.InvalidStreamId); return false; }
                if (args.IdmpArg != 0) { ctx.Error(Errors.XAddIdmpWithExplicitId); return false; }
                args.IdGiven = true;
                break;
            }
            else
            {
                ctx.SyntaxError();
                return false;
            }
        }
        args.IdArg = i;

        if (args.Limit != 0 && args.Strategy == TrimStrategy.None) { ctx.Error(Errors.StreamLimitWithoutStrategy); return false; }
        if (!xadd && args.Strategy == TrimStrategy.None) { ctx.Error(Errors.StreamTrimWithoutStrategy); return false; }
        if (limitGiven)
        {
            if (!args.Approx) { ctx.Error(Errors.StreamLimitWithoutApprox); return false; }
        }
        else if (args.Approx)
        {
            // Without LIMIT an approximate trim removes at most 100 nodes' worth per call.
            args.Limit = 100L * ctx.Server.Options.StreamNodeMaxEntries;
            if (args.Limit <= 0 || args.Limit > 1_000_000) args.Limit = args.Limit <= 0 ? 10_000 : 1_000_000;
        }
        else
        {
            args.Limit = 0;
        }
        return true;
    }

    /// <summary>KEEPREF | DELREF | ACKED at <paramref name="index"/>.</summary>
    internal static bool TryParsePolicy(CommandContext ctx, int index, out ReferencePolicy policy)
    {
        policy = ctx.ArgIs(index, "KEEPREF"u8) ? ReferencePolicy.KeepRef
            : ctx.ArgIs(index, "DELREF"u8) ? ReferencePolicy.DelRef
            : ctx.ArgIs(index, "ACKED"u8) ? ReferencePolicy.Acked
            : (ReferencePolicy)byte.MaxValue;
        if ((byte)policy != byte.MaxValue) return true;
        policy = ReferencePolicy.KeepRef;
        return false;
    }

    /// <summary>An XADD id: strict <c>ms[-seq]</c> or <c>ms-*</c> (sequence chosen by the stream).</summary>
    private static bool TryParseAddId(ReadOnlySpan<byte> text, out StreamId id, out bool seqGiven)
    {
        seqGiven = true;
        if (text.Length >= 2 && text[^1] == (byte)'*' && text[^2] == (byte)'-')
        {
            seqGiven = false;
            var ok = StreamId.TryParseUInt64(text[..^2], out var ms);
            id = new StreamId(ms, 0);
            return ok;
        }
        return StreamReplies.TryParseId(text, 0, strict: true, out id, out _);
    }

    // XADD key [NOMKSTREAM] [KEEPREF | DELREF | ACKED] [IDMPAUTO producer-id | IDMP producer-id idempotent-id]
    //      [<MAXLEN | MINID> [= | ~] threshold [LIMIT count]] <* | id> field value [field value ...]
    private static void XAdd(CommandContext ctx)
    {
        if (!TryParseAddTrimArgs(ctx, xadd: true, out var args)) return;
        var fieldPos = args.IdArg + 1;
        var fieldArgs = ctx.ArgCount - fieldPos;
        if (fieldArgs < 2 || fieldArgs % 2 == 1)
        {
            ctx.Error(Errors.WrongArity("xadd"));
            return;
        }
        // Checked before the key is created, so a rejected 0-0 never leaves an empty stream behind.
        if (args.IdGiven && args.SeqGiven && args.Id.IsZero)
        {
            ctx.Error(Errors.XAddIdZero);
            return;
        }

        var key = ctx.Arg(1);
        if (!StreamReplies.TryGetStream(ctx, key, out var stream)) return;
        var created = stream is null;
        if (stream is null)
        {
            if (args.NoMkStream)
            {
                ctx.Reply.Null();
                return;
            }
            stream = new Stream(ctx.Server.Options.StreamNodeMaxEntries, ctx.Server.Options.StreamNodeMaxBytes);
        }

        // Idempotent production: a (pid, iid) already seen answers with the entry it added, and adds nothing.
        ReadOnlySpan<byte> iid = default;
        if (args.IdmpArg != 0)
        {
            iid = args.IdmpAuto ? IdempotentIdOf(ctx.Args[fieldPos..]) : ctx.Arg(args.IdmpArg + 2);
            if (stream.Idmp is { } idmp && idmp.TryFind(ctx.Arg(args.IdmpArg + 1), iid, ctx.NowMs, out var original))
            {
                idmp.IidsDuplicates++;
                StreamReplies.Id(ctx.Reply, original);
                return;
            }
        }
        if (stream.LastId == StreamId.Max)
        {
            ctx.Error(Errors.StreamIdExhausted);
            return;
        }

        StreamId id;
        var status = !args.IdGiven ? stream.TryNextId((ulong)ctx.NowMs, out id)
            : !args.SeqGiven ? stream.TryAutoSequenceId(args.Id.Ms, out id)
            : stream.ValidateExplicitId(id = args.Id);
        stream.NodeMaxEntries = ctx.Server.Options.StreamNodeMaxEntries;
        stream.NodeMaxBytes = ctx.Server.Options.StreamNodeMaxBytes;
        if (status == StreamAddStatus.Ok) status = stream.Append(id, ctx.Args[fieldPos..]);
        if (status != StreamAddStatus.Ok)
        {
            // Redis 7's streamAppendItem fails ms-* with the sequence exhausted without setting errno, so XADD
            // reports it as "Elements are too large"; we keep its reply.
            if (!args.SeqGiven && args.IdGiven && status == StreamAddStatus.IdNotGreaterThanLast
                && args.Id.Ms == stream.LastId.Ms && stream.LastId.Seq == ulong.MaxValue)
            {
                status = StreamAddStatus.ElementsTooLarge;
            }
            ctx.Error(AddError(status));
            return;
        }

        if (created) ctx.Db.Add(key, stream);
        else ctx.Db.Touch(key);
        StreamReplies.Id(ctx.Reply, id);
        ctx.Notify(NotifyClass.Stream, "xadd"u8, key);
        if (args.IdmpArg != 0)
        {
            stream.Idmp ??= new IdempotencyMap();
            stream.Idmp.Record(ctx.Arg(args.IdmpArg + 1), iid, id, ctx.NowMs);
            stream.Idmp.IidsAdded++;
        }

        if (args.Strategy != TrimStrategy.None && Trim(stream, args) > 0) ctx.Notify(NotifyClass.Stream, "xtrim"u8, key);

        // Propagate what replay must do: the generated id instead of '*' / 'ms-*', and an exact trim (xaddCommand).
        // An IDMP entry replays as a plain XADD with its id, then XIDMPRECORD remembers its (pid, iid).
        if (!ctx.Propagating) return;
        if (!args.IdGiven || !args.SeqGiven || args.Approx)
        {
            if (args.Approx || args.IdmpArg != 0) ctx.ReplacePropagation(DeterministicArgs(ctx, stream, args, args.IdArg, id));
            else
            {
                Span<byte> text = stackalloc byte[StreamId.MaxFormattedLength];
                ctx.ReplacePropagatedArg(args.IdArg, text[..id.Format(text)]);
            }
        }
        if (args.IdmpArg != 0)
            ctx.AlsoPropagate(XIdmpRecordName, key.ToArray(), ctx.Arg(args.IdmpArg + 1).ToArray(), iid.ToArray(), StreamReplies.IdBytes(id));
    }

    private static readonly byte[] XIdmpRecordName = "XIDMPRECORD"u8.ToArray();

    /// <summary>
    /// IDMPAUTO's iid: a digest of the entry's fields and values (each length-prefixed, so no two different entries
    /// encode alike), 16 bytes of SHA-256.
    /// </summary>
    private static byte[] IdempotentIdOf(ReadOnlySpan<ReadOnlyMemory<byte>> fieldsAndValues)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        foreach (var part in fieldsAndValues)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(length, part.Length);
            hash.AppendData(length);
            hash.AppendData(part.Span);
        }
        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return digest[..16].ToArray();
    }

    /// <summary>
    /// The arguments to propagate: copies of the request with the id at <paramref name="idArg"/> (XADD) replaced by
    /// <paramref name="id"/>, and a '~' trim made exact (streamRewriteApproxSpecifier/streamRewriteTrimArgument):
    /// '=' with MAXLEN the length left, or MINID the first entry left. LIMIT is dropped, as a loading Redis ignores it.
    /// </summary>
    private static ReadOnlyMemory<byte>[] DeterministicArgs(CommandContext ctx, Stream stream, in AddTrimArgs args, int idArg, StreamId id)
    {
        var result = new List<ReadOnlyMemory<byte>>(ctx.ArgCount);
        for (var i = 0; i < ctx.ArgCount; i++)
        {
            if (args.Approx && args.LimitArg != 0 && (i == args.LimitArg || i == args.LimitArg + 1)) continue;
            if (args.IdmpArg != 0 && i >= args.IdmpArg && i <= args.IdmpArg + (args.IdmpAuto ? 1 : 2)) continue;
            if (idArg != 0 && i == idArg) result.Add(StreamReplies.IdBytes(id));
            else if (args.Approx && i == args.ApproxArg) result.Add("="u8.ToArray());
            else if (args.Approx && i == args.ThresholdArg)
            {
                result.Add(args.Strategy == TrimStrategy.MaxLen
                    ? System.Text.Encoding.ASCII.GetBytes(stream.Length.ToString(System.Globalization.CultureInfo.InvariantCulture))
                    : StreamReplies.IdBytes(FirstLiveIdOrMax(stream)));
            }
            else result.Add(ctx.ArgMemory(i).ToArray());
        }
        return [.. result];
    }

    /// <summary>streamGetEdgeID(first): the oldest entry's id, or the maximum id when the stream is empty.</summary>
    private static StreamId FirstLiveIdOrMax(Stream stream)
    {
        var it = stream.Range(StreamId.Min, StreamId.Max, 1);
        return it.MoveNext() ? it.Current.Id : StreamId.Max;
    }

    private static string AddError(StreamAddStatus status) => status switch
    {
        StreamAddStatus.IdZero => Errors.XAddIdZero,
        StreamAddStatus.IdSpaceExhausted => Errors.StreamIdExhausted,
        StreamAddStatus.ElementsTooLarge => Errors.StreamElementsTooLarge,
        _ => Errors.XAddIdNotGreater,
    };

    private static long Trim(Stream stream, in AddTrimArgs args) => args.Strategy == TrimStrategy.MaxLen
        ? stream.TrimByMaxLen(args.MaxLen, args.Approx, args.Limit, args.Policy)
        : stream.TrimByMinId(args.MinId, args.Approx, args.Limit, args.Policy);

    // XTRIM key <MAXLEN | MINID> [= | ~] threshold [KEEPREF | DELREF | ACKED] [LIMIT count]
    private static void XTrim(CommandContext ctx)
    {
        if (!TryParseAddTrimArgs(ctx, xadd: false, out var args)) return;
        var key = ctx.Arg(1);
        if (!StreamReplies.TryGetStream(ctx, key, out var stream)) return;
        long removed = 0;
        if (stream is not null)
        {
            removed = Trim(stream, args);
            if (removed > 0)
            {
                ctx.Notify(NotifyClass.Stream, "xtrim"u8, key);
                ctx.Db.Touch(key);
                if (args.Approx && ctx.Propagating) ctx.ReplacePropagation(DeterministicArgs(ctx, stream, args, 0, default));
            }
        }
        ctx.Reply.Integer(removed);
    }

    // ---- XRANGE / XREVRANGE / XLEN -------------------------------------------------------------------------

    // XRANGE key start end [COUNT count]
    private static void XRange(CommandContext ctx) => RangeGeneric(ctx, reverse: false);

    // XREVRANGE key end start [COUNT count]
    private static void XRevRange(CommandContext ctx) => RangeGeneric(ctx, reverse: true);

    private static void RangeGeneric(CommandContext ctx, bool reverse)
    {
        var startArg = reverse ? 3 : 2;
        var endArg = reverse ? 2 : 3;
        if (!StreamReplies.TryParseIntervalId(ctx, startArg, 0, out var start, out var startExclusive)) return;
        if (startExclusive && !start.TryIncrement(out start))
        {
            ctx.Error(Errors.StreamInvalidStartId);
            return;
        }
        if (!StreamReplies.TryParseIntervalId(ctx, endArg, ulong.MaxValue, out var end, out var endExclusive)) return;
        if (endExclusive && !end.TryDecrement(out end))
        {
            ctx.Error(Errors.StreamInvalidEndId);
            return;
        }
        long count = -1;
        for (var j = 4; j < ctx.ArgCount; j++)
        {
            if (ctx.ArgIs(j, "COUNT"u8) && j + 1 < ctx.ArgCount)
            {
                if (!ctx.TryGetLong(j + 1, out count)) return;
                if (count < 0) count = 0;
                j++;
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }

        if (!StreamReplies.TryReadStream(ctx, ctx.Arg(1), out var stream)) return;
        if (stream is null)
        {
            ctx.Reply.EmptyArray();
            return;
        }
        if (count == 0)
        {
            ctx.Reply.NullArray(); // Redis replies a null array to COUNT 0 (or negative) on an existing stream
            return;
        }
        var limit = count < 0 ? 0 : count;
        StreamReplies.Entries(ctx.Reply, reverse ? stream.ReverseRange(start, end, limit) : stream.Range(start, end, limit));
    }

    // XLEN key
    private static void XLen(CommandContext ctx)
    {
        if (!StreamReplies.TryReadStream(ctx, ctx.Arg(1), out var stream)) return;
        ctx.Reply.Integer(stream?.Length ?? 0);
    }

    // ---- XDEL / XSETID -------------------------------------------------------------------------------------

    // XDEL key id [id ...]
    private static void XDel(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        if (!StreamReplies.TryGetStream(ctx, key, out var stream)) return;
        if (stream is null)
        {
            ctx.Reply.Integer(0);
            return;
        }
        // Every id is checked first: an invalid one must not leave the command half done.
        var idCount = ctx.ArgCount - 2;
        Span<StreamId> ids = idCount <= 16 ? stackalloc StreamId[16] : new StreamId[idCount];
        for (var j = 0; j < idCount; j++)
        {
            if (!StreamReplies.TryParseStrictId(ctx, j + 2, 0, out ids[j])) return;
        }
        long deleted = 0;
        for (var j = 0; j < idCount; j++)
        {
            if (stream.Delete(ids[j])) deleted++;
        }
        if (deleted > 0)
        {
            ctx.Db.Touch(key);
            ctx.Notify(NotifyClass.Stream, "xdel"u8, key);
        }
        ctx.Reply.Integer(deleted);
    }

    // XDELEX key [KEEPREF | DELREF | ACKED] IDS numids id [id ...]
    private static void XDelEx(CommandContext ctx)
    {
        if (!TryParsePolicyAndIds(ctx, 2, out var policy, out var firstId, out var numIds)) return;
        var key = ctx.Arg(1);
        if (!StreamReplies.TryGetStream(ctx, key, out var stream)) return;
        var reply = ctx.Reply;
        reply.Array(numIds);
        if (stream is null)
        {
            for (var j = 0; j < numIds; j++) reply.Integer(-1);
            return;
        }
        var changed = false;
        var deleted = false;
        for (var j = 0; j < numIds; j++)
        {
            StreamReplies.TryParseId(ctx.Arg(firstId + j), 0, strict: true, out var id, out _);
            var result = DeleteWithPolicy(stream, id, policy, ref changed);
            deleted |= result == 1;
            reply.Integer(result);
        }
        if (changed) ctx.Db.Touch(key);
        if (deleted) ctx.Notify(NotifyClass.Stream, "xdel"u8, key); // PEL references dropped alone notify nothing
    }

    /// <summary>
    /// One id of XDELEX/XACKDEL: 1 deleted, -1 not in the stream, 2 kept because a group still needs it (ACKED).
    /// DELREF drops the id from every PEL even when the entry is already gone. <paramref name="changed"/> is set when
    /// the stream or a PEL changed.
    /// </summary>
    internal static int DeleteWithPolicy(Stream stream, StreamId id, ReferencePolicy policy, ref bool changed)
    {
        if (policy == ReferencePolicy.DelRef)
        {
            if (stream.DropReferences(id)) changed = true;
        }
        else if (policy == ReferencePolicy.Acked)
        {
            if (!stream.Contains(id)) return -1;
            if (stream.IsReferenced(id)) return 2;
        }
        if (!stream.Delete(id)) return -1;
        changed = true;
        return 1;
    }

    /// <summary>
    /// <c>[KEEPREF | DELREF | ACKED] IDS numids id …</c> from <paramref name="start"/> (XDELEX, XACKDEL), in either
    /// order; every id is checked. Writes Redis's error and returns false when they are not well formed.
    /// </summary>
    internal static bool TryParsePolicyAndIds(CommandContext ctx, int start, out ReferencePolicy policy, out int firstId, out int numIds)
    {
        policy = ReferencePolicy.KeepRef;
        firstId = 0;
        numIds = 0;
        var policyGiven = false;
        for (var i = start; i < ctx.ArgCount; i++)
        {
            if (firstId == 0 && ctx.ArgIs(i, "IDS"u8))
            {
                if (!TryParseIdsBlock(ctx, i, out firstId, out numIds)) return false;
                i = firstId + numIds - 1;
            }
            else if (!policyGiven && TryParsePolicy(ctx, i, out policy))
            {
                policyGiven = true;
            }
            else
            {
                // Something left after the ids that is no option: the count and the ids disagree.
                ctx.Error(firstId != 0 && i == firstId + numIds ? Errors.NumIdsMismatch : Errors.Syntax);
                return false;
            }
        }
        if (firstId == 0)
        {
            ctx.SyntaxError();
            return false;
        }
        return true;
    }

    /// <summary>
    /// <c>IDS numids id …</c> with the IDS keyword at <paramref name="idsArg"/>: numids must be positive and that many
    /// valid ids must follow. Writes the error and returns false otherwise.
    /// </summary>
    internal static bool TryParseIdsBlock(CommandContext ctx, int idsArg, out int firstId, out int numIds)
    {
        firstId = 0;
        numIds = 0;
        if (idsArg + 1 >= ctx.ArgCount)
        {
            ctx.SyntaxError();
            return false;
        }
        if (!CommandContext.TryParseLong(ctx.Arg(idsArg + 1), out var count) || count < 1 || count > int.MaxValue)
        {
            ctx.Error(Errors.NumIdsNotPositive);
            return false;
        }
        if (count > ctx.ArgCount - idsArg - 2)
        {
            ctx.Error(Errors.NumIdsMismatch);
            return false;
        }
        for (var j = 0; j < count; j++)
        {
            if (!StreamReplies.TryParseStrictId(ctx, idsArg + 2 + j, 0, out _)) return false;
        }
        firstId = idsArg + 2;
        numIds = (int)count;
        return true;
    }

    // ---- XCFGSET / XIDMPRECORD (idempotent production, Redis 8.6) ------------------------------------------

    // XCFGSET key [IDMP-DURATION idmp-duration] [IDMP-MAXSIZE idmp-maxsize]
    private static void XCfgSet(CommandContext ctx)
    {
        long duration = -1, maxSize = -1;
        for (var i = 2; i < ctx.ArgCount; i++)
        {
            var moreArgs = ctx.ArgCount - 1 - i;
            if (ctx.ArgIs(i, "IDMP-DURATION"u8) && moreArgs > 0)
            {
                if (!CommandContext.TryParseLong(ctx.Arg(++i), out duration) || duration < 1 || duration > IdempotencyMap.MaxDurationSeconds)
                {
                    ctx.Error(Errors.XCfgSetInvalidDuration);
                    return;
                }
            }
            else if (ctx.ArgIs(i, "IDMP-MAXSIZE"u8) && moreArgs > 0)
            {
                if (!CommandContext.TryParseLong(ctx.Arg(++i), out maxSize) || maxSize < 1 || maxSize > IdempotencyMap.MaxMaxSize)
                {
                    ctx.Error(Errors.XCfgSetInvalidMaxSize);
                    return;
                }
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        if (duration < 0 && maxSize < 0)
        {
            ctx.SyntaxError();
            return;
        }
        var key = ctx.Arg(1);
        if (!StreamReplies.TryGetExistingStream(ctx, key, out var stream)) return;
        stream.Idmp ??= new IdempotencyMap();
        stream.Idmp.Configure(duration < 0 ? stream.Idmp.DurationSeconds : duration, maxSize < 0 ? stream.Idmp.MaxSize : maxSize);
        ctx.Db.Touch(key);
        ctx.Reply.Ok();
    }

    // XIDMPRECORD key pid iid stream-id
    private static void XIdmpRecord(CommandContext ctx)
    {
        if (ctx.Arg(2).IsEmpty)
        {
            ctx.Error(Errors.IdmpEmptyProducerId);
            return;
        }
        if (ctx.Arg(3).IsEmpty)
        {
            ctx.Error(Errors.IdmpEmptyIdempotentId);
            return;
        }
        if (!StreamReplies.TryParseStrictId(ctx, 4, 0, out var id)) return;
        var key = ctx.Arg(1);
        if (!StreamReplies.TryGetExistingStream(ctx, key, out var stream)) return;
        // An entry trimmed or deleted since it was added still answers its duplicates (its id is what XADD returned),
        // so any id the stream has generated is accepted; one it never reached is not.
        if (id.IsZero || id > stream.LastId)
        {
            ctx.Error(Errors.XIdmpRecordUnknownEntry);
            return;
        }
        var idmp = stream.Idmp ??= new IdempotencyMap();
        if (idmp.TryFind(ctx.Arg(2), ctx.Arg(3), ctx.NowMs, out var existing))
        {
            if (existing != id) ctx.Error(Errors.XIdmpRecordConflict);
            else ctx.Reply.Ok();
            return;
        }
        idmp.Record(ctx.Arg(2), ctx.Arg(3), id, ctx.NowMs);
        idmp.IidsAdded++;
        ctx.Db.Touch(key);
        ctx.Reply.Ok();
    }

    // XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
    private static void XSetId(CommandContext ctx)
    {
        if (!StreamReplies.TryParseStrictId(ctx, 2, 0, out var id)) return;
        long entriesAdded = -1;
        var maxDeleted = StreamId.Min;
        for (var i = 3; i < ctx.ArgCount; i++)
        {
            var moreArgs = ctx.ArgCount - i - 1;
            if (ctx.ArgIs(i, "ENTRIESADDED"u8) && moreArgs > 0)
            {
                if (!ctx.TryGetLong(i + 1, out entriesAdded)) return;
                if (entriesAdded < 0) { ctx.Error(Errors.XSetIdEntriesAddedNegative); return; }
                i++;
            }
            else if (ctx.ArgIs(i, "MAXDELETEDID"u8) && moreArgs > 0)
            {
                if (!StreamReplies.TryParseStrictId(ctx, i + 1, 0, out maxDeleted)) return;
                if (id < maxDeleted) { ctx.Error(Errors.XSetIdSmallerThanMaxDeletedArg); return; }
                i++;
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }

        var key = ctx.Arg(1);
        if (!StreamReplies.TryGetExistingStream(ctx, key, out var stream)) return;
        // With entries present the last id may not go below the top entry (ids stay monotonic).
        if (stream.Length > 0 && id < LastLiveId(stream)) { ctx.Error(Errors.XSetIdSmallerThanTop); return; }
        if (entriesAdded != -1 && stream.Length > entriesAdded) { ctx.Error(Errors.XSetIdEntriesAddedTooSmall); return; }

        stream.LastId = id;
        if (entriesAdded != -1) stream.EntriesAdded = entriesAdded;
        if (!maxDeleted.IsZero) stream.MaxDeletedId = maxDeleted;
        ctx.Db.Touch(key);
        ctx.Notify(NotifyClass.Stream, "xsetid"u8, key);
        ctx.Reply.Ok();
    }

    /// <summary>streamLastValidID: the id of the newest live entry (0-0 when empty).</summary>
    private static StreamId LastLiveId(Stream stream)
    {
        var it = stream.ReverseRange(StreamId.Min, StreamId.Max, 1);
        return it.MoveNext() ? it.Current.Id : StreamId.Min;
    }

    // ---- XREAD ---------------------------------------------------------------------------------------------

    // XREAD [COUNT count] [MAXCOUNT maxcount] [MAXSIZE maxsize] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
    private static void XRead(CommandContext ctx)
    {
        if (!StreamReplies.TryParseReadArgs(ctx, xreadgroup: false, out var args)) return;

        // Resolve every id first ('$' and '+' against the stream as it is now); WRONGTYPE stops the command.
        var n = args.KeyCount;
        Span<StreamId> after = n <= 16 ? stackalloc StreamId[16] : new StreamId[n];
        for (var i = 0; i < n; i++)
        {
            var found = ctx.LookupRead(ctx.Arg(args.FirstKey + i));
            var stream = found as Stream;
            if (found is not null && stream is null)
            {
                // A retry for a key that changed type keeps waiting, as Redis does not wake XREAD for it.
                if (ctx.IsRetry) { after[i] = StreamId.Max; continue; }
                ctx.WrongType();
                return;
            }
            var idText = ctx.Arg(args.FirstId + i);
            if (idText.Length == 1 && idText[0] == (byte)'$')
            {
                after[i] = stream?.LastId ?? StreamId.Min;
            }
            else if (idText.Length == 1 && idText[0] == (byte)'+')
            {
                after[i] = BeforeLastEntry(stream);
            }
            else if (idText.Length == 1 && idText[0] == (byte)'>')
            {
                ctx.Error(Errors.XReadGreaterIdOutsideGroup);
                return;
            }
            else if (!StreamReplies.TryParseStrictId(ctx, args.FirstId + i, 0, out after[i]))
            {
                return;
            }
        }

        var reply = ctx.Reply;
        var header = StreamReplies.BeginStreams(reply);
        var served = 0;
        var budget = new StreamReplies.ReadBudget(args);
        for (var i = 0; i < n; i++)
        {
            // Looked up again as Redis's xreadCommand does (INFO counts two hits per key).
            if (ctx.LookupRead(ctx.Arg(args.FirstKey + i)) is not Stream stream || stream.Length == 0) continue;
            if (!after[i].TryIncrement(out var start) || start > stream.LastId) continue;
            if (budget.Exhausted) break;
            var mark = reply.Length;
            StreamReplies.StreamKey(reply, ctx.Arg(args.FirstKey + i));
            var written = args.Limited
                ? StreamReplies.Entries(reply, stream.Range(start, StreamId.Max, args.Count), ref budget)
                : StreamReplies.Entries(reply, stream.Range(start, StreamId.Max, args.Count));
            if (written == 0) reply.Truncate(mark);
            else served++;
        }
        if (served > 0 || args.BlockMs < 0 || ctx.InExec)
        {
            StreamReplies.EndStreams(reply, header, served);
            return;
        }

        // Nothing yet: block. The rerun must not see '$' or '+' again, or it would wait for entries after the
        // newest one at that later time and miss what woke it.
        reply.Truncate(header);
        if (ctx.IsRetry)
        {
            ctx.Server.Blocking.Block(ctx.Client, ctx.Client.Blocked!);
            return;
        }
        var rerun = StreamReplies.CopyArgs(ctx);
        for (var i = 0; i < n; i++)
        {
            var idText = ctx.Arg(args.FirstId + i);
            if (idText.Length == 1 && (idText[0] == (byte)'$' || idText[0] == (byte)'+'))
                rerun[args.FirstId + i] = StreamReplies.IdBytes(after[i]);
        }
        StreamReplies.Block(ctx, args, rerun);
    }

    /// <summary>
    /// XREAD's '+' (Redis 7.4): the id just before the stream's last entry, so the read returns that entry;
    /// on an empty or missing stream it is '$'.
    /// </summary>
    private static StreamId BeforeLastEntry(Stream? stream)
    {
        if (stream is null) return StreamId.Min;
        if (stream.Length == 0) return stream.LastId;
        LastLiveId(stream).TryDecrement(out var before);
        return before;
    }

    // ---- XINFO ---------------------------------------------------------------------------------------------

    // XINFO STREAM key [FULL [COUNT count]]
    private static void XInfoStream(CommandContext ctx)
    {
        var key = ctx.Arg(2);
        if (!StreamReplies.TryGetExistingStream(ctx, key, out var stream, read: true)) return;
        var optionCount = ctx.ArgCount - 3;
        var full = optionCount > 0;
        long count = 10;
        if (full)
        {
            if ((optionCount != 1 && optionCount != 3) || !ctx.ArgIs(3, "FULL"u8) || (optionCount == 3 && !ctx.ArgIs(4, "COUNT"u8)))
            {
                ctx.Error(Errors.SubcommandSyntax(ctx.ArgString(1), "xinfo"));
                return;
            }
            if (optionCount == 3)
            {
                if (!ctx.TryGetLong(5, out count)) return;
                if (count < 0) count = 10;
            }
        }

        var reply = ctx.Reply;
        var idmp = stream.Idmp;
        reply.Map((full ? 9 : 10) + (idmp is null ? 0 : 6));
        reply.Bulk("length"u8);
        reply.Integer(stream.Length);
        reply.Bulk("radix-tree-keys"u8);
        reply.Integer(stream.NodeCount);
        reply.Bulk("radix-tree-nodes"u8);
        reply.Integer(RaxNodeCount(stream));
        reply.Bulk("last-generated-id"u8);
        StreamReplies.Id(reply, stream.LastId);
        reply.Bulk("max-deleted-entry-id"u8);
        StreamReplies.Id(reply, stream.MaxDeletedId);
        reply.Bulk("entries-added"u8);
        reply.Integer(stream.EntriesAdded);
        reply.Bulk("recorded-first-entry-id"u8);
        StreamReplies.Id(reply, stream.FirstId);
        if (idmp is not null) WriteIdmpInfo(reply, idmp, ctx.NowMs);
        if (full)
        {
            reply.Bulk("entries"u8);
            StreamReplies.Entries(reply, stream.Range(StreamId.Min, StreamId.Max, count));
            reply.Bulk("groups"u8);
            ConsumerGroupCommands.WriteGroupsFull(reply, stream, count);
            return;
        }
        reply.Bulk("groups"u8);
        reply.Integer(stream.Groups.Count);
        reply.Bulk("first-entry"u8);
        var first = stream.Range(StreamId.Min, StreamId.Max, 1);
        if (first.MoveNext()) StreamReplies.Entry(reply, first.Current);
        else reply.Null();
        reply.Bulk("last-entry"u8);
        var last = stream.ReverseRange(StreamId.Min, StreamId.Max, 1);
        if (last.MoveNext()) StreamReplies.Entry(reply, last.Current);
        else reply.Null();
    }

    /// <summary>XINFO STREAM's IDMP fields (Redis 8.6), shown once the stream has used idempotency.</summary>
    private static void WriteIdmpInfo(Protocol.RespWriter reply, IdempotencyMap idmp, long nowMs)
    {
        var (pids, iids) = idmp.Tracked(nowMs);
        reply.Bulk("idmp-duration"u8);
        reply.Integer(idmp.DurationSeconds);
        reply.Bulk("idmp-maxsize"u8);
        reply.Integer(idmp.MaxSize);
        reply.Bulk("pids-tracked"u8);
        reply.Integer(pids);
        reply.Bulk("iids-tracked"u8);
        reply.Integer(iids);
        reply.Bulk("iids-added"u8);
        reply.Integer(idmp.IidsAdded);
        reply.Bulk("iids-duplicates"u8);
        reply.Integer(idmp.IidsDuplicates);
    }

    /// <summary>
    /// rax's numnodes for the node index (XINFO's radix-tree-nodes): the nodes of a compressed trie over the 16-byte
    /// keys, where a run of single-child positions is one node, and every branching position and leaf is a node.
    /// </summary>
    private static long RaxNodeCount(Stream stream)
    {
        var keys = new List<byte[]>(stream.NodeCount);
        foreach (var node in stream.DescribeNodes())
        {
            var k = new byte[16];
            node.Key.WriteBigEndian(k);
            keys.Add(k);
        }
        if (keys.Count == 0) return 1; // an empty rax is its root
        return CountRaxNodes(keys, 0, keys.Count, 0, nodeStart: true);
    }

    private static long CountRaxNodes(List<byte[]> keys, int lo, int hi, int depth, bool nodeStart)
    {
        while (true)
        {
            if (depth == 16) return 1;
            if (keys[lo][depth] == keys[hi - 1][depth])
            {
                // One child: part of a compressed run unless it starts a node.
                var own = nodeStart ? 1 : 0;
                if (!nodeStart)
                {
                    depth++;
                    continue;
                }
                return own + CountRaxNodes(keys, lo, hi, depth + 1, nodeStart: false);
            }
            long total = 1;
            var start = lo;
            for (var i = lo + 1; i <= hi; i++)
            {
                if (i == hi || keys[i][depth] != keys[start][depth])
                {
                    total += CountRaxNodes(keys, start, i, depth + 1, nodeStart: true);
                    start = i;
                }
            }
            return total;
        }
    }

    // XINFO HELP
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
}
