using StreamServer.Execution;
using StreamServer.Protocol;
using StreamServer.Storage.Streams;
using Stream = StreamServer.Storage.Streams.Stream;

namespace StreamServer.Commands;

/// <summary>
/// What the stream families share (XADD/XRANGE/XREAD here, XREADGROUP/XCLAIM/… in the consumer-group family):
/// id parsing as t_stream.c's streamParseID family, entry replies, the XREAD/XREADGROUP option and
/// <c>STREAMS key … id …</c> grammar, and parking a reader on its keys.
/// </summary>
public static class StreamReplies
{
    // ---- ids ---------------------------------------------------------------------------------------------

    /// <summary>
    /// streamParseID: <c>ms</c> or <c>ms-seq</c>; unless <paramref name="strict"/>, <c>-</c> is 0-0 and <c>+</c> the
    /// maximum id. A missing sequence takes <paramref name="missingSeq"/>.
    /// </summary>
    public static bool TryParseId(ReadOnlySpan<byte> text, ulong missingSeq, bool strict, out StreamId id, out bool seqGiven)
    {
        seqGiven = true;
        if (text.Length == 1 && (text[0] == (byte)'-' || text[0] == (byte)'+'))
        {
            id = text[0] == (byte)'-' ? StreamId.Min : StreamId.Max;
            return !strict;
        }
        if (StreamId.TryParse(text, missingSeq, out id, out var hadSeq))
        {
            seqGiven = hadSeq;
            return true;
        }
        return false;
    }

    /// <summary>streamParseStrictIDOrReply: an id, not <c>-</c>/<c>+</c>; writes the error when invalid.</summary>
    public static bool TryParseStrictId(CommandContext ctx, int index, ulong missingSeq, out StreamId id)
    {
        if (TryParseId(ctx.Arg(index), missingSeq, strict: true, out id, out _)) return true;
        ctx.Error(Errors.InvalidStreamId);
        return false;
    }

    /// <summary>streamParseIDOrReply: an id, <c>-</c> or <c>+</c>; writes the error when invalid.</summary>
    public static bool TryParseId(CommandContext ctx, int index, ulong missingSeq, out StreamId id)
    {
        if (TryParseId(ctx.Arg(index), missingSeq, strict: false, out id, out _)) return true;
        ctx.Error(Errors.InvalidStreamId);
        return false;
    }

    /// <summary>
    /// streamParseIntervalIDOrReply: as <see cref="TryParseId(CommandContext, int, ulong, out StreamId)"/>, or
    /// <c>(id</c> for an exclusive bound (then strict: <c>(-</c> and <c>(+</c> are invalid).
    /// </summary>
    public static bool TryParseIntervalId(CommandContext ctx, int index, ulong missingSeq, out StreamId id, out bool exclusive)
    {
        var text = ctx.Arg(index);
        exclusive = text.Length > 1 && text[0] == (byte)'(';
        if (exclusive) text = text[1..];
        if (TryParseId(text, missingSeq, strict: exclusive, out id, out _)) return true;
        ctx.Error(Errors.InvalidStreamId);
        return false;
    }

    // ---- replies -----------------------------------------------------------------------------------------

    /// <summary>An id as a bulk string (addReplyStreamID).</summary>
    public static void Id(RespWriter reply, StreamId id)
    {
        Span<byte> text = stackalloc byte[StreamId.MaxFormattedLength];
        reply.Bulk(text[..id.Format(text)]);
    }

    /// <summary>One entry: <c>[id, [field, value, …]]</c>.</summary>
    public static void Entry(RespWriter reply, StreamEntry entry)
    {
        reply.Array(2);
        Id(reply, entry.Id);
        Fields(reply, entry);
    }

    private static void Fields(RespWriter reply, StreamEntry entry)
    {
        reply.Array(entry.FieldCount * 2);
        foreach (var pair in entry.Fields)
        {
            reply.Bulk(pair.Field);
            reply.Bulk(pair.Value);
        }
    }

    /// <summary>One entry with its delivery metadata (XREADGROUP … CLAIM): <c>[id, [field, value, …], idle-ms, delivery-count]</c>.</summary>
    public static void Entry(RespWriter reply, StreamEntry entry, long idleMs, long deliveryCount)
    {
        reply.Array(4);
        Id(reply, entry.Id);
        Fields(reply, entry);
        reply.Integer(idleMs);
        reply.Integer(deliveryCount);
    }

    /// <summary>Every entry the iterator yields, as an array (streamReplyWithRange); returns how many.</summary>
    public static int Entries(RespWriter reply, StreamIterator entries)
    {
        var header = reply.BeginDeferred();
        var count = 0;
        while (entries.MoveNext())
        {
            Entry(reply, entries.Current);
            count++;
        }
        reply.EndDeferredArray(header, count);
        return count;
    }

    /// <summary>
    /// The XREAD/XREADGROUP reply is, per stream with something to say, <c>key → entries</c>: a RESP3 map, or in
    /// RESP2 an array of <c>[key, entries]</c> pairs. Begin, then <see cref="StreamKey"/> before each stream's
    /// entries, then <see cref="EndStreams"/>, which writes a null array instead when no stream was written.
    /// </summary>
    public static int BeginStreams(RespWriter reply) => reply.BeginDeferred();

    public static void StreamKey(RespWriter reply, ReadOnlySpan<byte> key)
    {
        if (!reply.IsResp3) reply.Array(2);
        reply.Bulk(key);
    }

    public static void EndStreams(RespWriter reply, int position, int streams)
    {
        if (streams == 0)
        {
            reply.Truncate(position);
            reply.NullArray();
        }
        else if (reply.IsResp3) reply.EndDeferredMap(position, streams);
        else reply.EndDeferredArray(position, streams);
    }

    // ---- XREAD / XREADGROUP arguments --------------------------------------------------------------------

    /// <summary>The parsed options of XREAD/XREADGROUP; keys are args [FirstKey, FirstKey+KeyCount), their ids follow.</summary>
    public struct ReadArgs
    {
        /// <summary>COUNT (0: no limit; negative counts read as 0 as in Redis).</summary>
        public long Count;

        /// <summary>BLOCK in ms; -1 when not given (0 = forever).</summary>
        public long BlockMs;

        public int FirstKey;
        public int KeyCount;

        /// <summary>XREADGROUP: the index of the group name (the consumer follows); 0 when absent.</summary>
        public int GroupArg;

        public bool NoAck;

        /// <summary>MAXCOUNT (Redis 8.10): entries in the whole reply, across streams; 0 when not given.</summary>
        public long MaxCount;

        /// <summary>MAXSIZE (Redis 8.10): bytes of entry data in the whole reply; 0 when not given.</summary>
        public long MaxSize;

        /// <summary>XREADGROUP CLAIM min-idle-time (Redis 8.4); -1 when not given.</summary>
        public long ClaimMinIdle;

        public readonly int FirstId => FirstKey + KeyCount;

        public readonly bool Limited => MaxCount > 0 || MaxSize > 0;
    }

    /// <summary>
    /// What MAXCOUNT/MAXSIZE leave for the rest of a read, shared by all its streams. An entry fits while the count
    /// lasts and its bytes (id, fields and values) fit in what is left of MAXSIZE; the first entry of a read always
    /// fits, so an entry larger than MAXSIZE is still delivered, alone.
    /// </summary>
    public struct ReadBudget
    {
        private long _count;
        private long _bytes;
        private bool _any;

        public ReadBudget(in ReadArgs args)
        {
            _count = args.MaxCount > 0 ? args.MaxCount : long.MaxValue;
            _bytes = args.MaxSize > 0 ? args.MaxSize : long.MaxValue;
            _any = false;
        }

        public readonly bool Exhausted => _count == 0 || (_any && _bytes <= 0);

        /// <summary>Takes the entry from the budget when it fits; false (nothing taken) when it does not.</summary>
        public bool TryTake(StreamEntry entry)
        {
            if (_count == 0) return false;
            if (_bytes == long.MaxValue)
            {
                if (_count != long.MaxValue) _count--;
                return true; // no MAXSIZE: nothing to measure
            }
            var size = EntrySize(entry);
            if (_any && size > _bytes) return false;
            _count--;
            _bytes -= size;
            _any = true;
            return true;
        }

        private static long EntrySize(StreamEntry entry)
        {
            Span<byte> text = stackalloc byte[StreamId.MaxFormattedLength];
            long size = entry.Id.Format(text);
            foreach (var pair in entry.Fields) size += pair.Field.Length + pair.Value.Length;
            return size;
        }
    }

    /// <summary>As <see cref="Entries(RespWriter, StreamIterator)"/>, stopping when <paramref name="budget"/> runs out.</summary>
    public static int Entries(RespWriter reply, StreamIterator entries, ref ReadBudget budget)
    {
        var header = reply.BeginDeferred();
        var count = 0;
        while (entries.MoveNext() && budget.TryTake(entries.Current))
        {
            Entry(reply, entries.Current);
            count++;
        }
        reply.EndDeferredArray(header, count);
        return count;
    }

    /// <summary>
    /// Parses <c>[GROUP g c] [COUNT n] [MAXCOUNT n] [MAXSIZE n] [BLOCK ms] [CLAIM ms] [NOACK] STREAMS key … id …</c> as xreadCommand does, writing
    /// Redis's error when it fails. Ids are not looked at here (each family has its special ids).
    /// </summary>
    public static bool TryParseReadArgs(CommandContext ctx, bool xreadgroup, out ReadArgs args)
    {
        args = new ReadArgs { BlockMs = -1, ClaimMinIdle = -1 };
        for (var i = 1; i < ctx.ArgCount; i++)
        {
            var moreArgs = ctx.ArgCount - i - 1;
            if (ctx.ArgIs(i, "BLOCK"u8) && moreArgs > 0)
            {
                i++;
                if (!ctx.TryGetTimeoutMs(i, out var ms)) return false;
                args.BlockMs = ms;
            }
            else if (ctx.ArgIs(i, "COUNT"u8) && moreArgs > 0)
            {
                i++;
                if (!ctx.TryGetLong(i, out var count)) return false;
                args.Count = Math.Max(0, count);
            }
            else if (ctx.ArgIs(i, "STREAMS"u8) && moreArgs > 0)
            {
                var streamArgs = ctx.ArgCount - (i + 1);
                if (streamArgs % 2 != 0)
                {
                    ctx.Error(xreadgroup ? Errors.UnbalancedXReadGroup : Errors.UnbalancedXRead);
                    return false;
                }
                args.FirstKey = i + 1;
                args.KeyCount = streamArgs / 2;
                break;
            }
            else if (ctx.ArgIs(i, "GROUP"u8) && moreArgs >= 2)
            {
                if (!xreadgroup) { ctx.Error(Errors.XReadGroupOptionOnXRead); return false; }
                args.GroupArg = i + 1;
                i += 2;
            }
            else if (ctx.ArgIs(i, "NOACK"u8))
            {
                if (!xreadgroup) { ctx.Error(Errors.XReadNoAckOnXRead); return false; }
                args.NoAck = true;
            }
            else if (ctx.ArgIs(i, "MAXCOUNT"u8) && moreArgs > 0)
            {
                if (!CommandContext.TryParseLong(ctx.Arg(++i), out args.MaxCount) || args.MaxCount < 1) { ctx.Error(Errors.XReadMaxCount); return false; }
            }
            else if (ctx.ArgIs(i, "MAXSIZE"u8) && moreArgs > 0)
            {
                if (!CommandContext.TryParseLong(ctx.Arg(++i), out args.MaxSize) || args.MaxSize < 1) { ctx.Error(Errors.XReadMaxSize); return false; }
            }
            else if (ctx.ArgIs(i, "CLAIM"u8) && moreArgs > 0)
            {
                if (!xreadgroup) { ctx.Error(Errors.XReadClaimOnXRead); return false; }
                if (!CommandContext.TryParseLong(ctx.Arg(++i), out args.ClaimMinIdle) || args.ClaimMinIdle < 0) { ctx.Error(Errors.XReadGroupClaimMinIdle); return false; }
            }
            else
            {
                ctx.SyntaxError();
                return false;
            }
        }
        if (args.FirstKey == 0)
        {
            ctx.SyntaxError();
            return false;
        }
        if (xreadgroup && args.GroupArg == 0)
        {
            ctx.Error(Errors.XReadGroupMissingGroup);
            return false;
        }
        return true;
    }

    // ---- blocking ----------------------------------------------------------------------------------------

    /// <summary>
    /// Parks the client on the read's keys (Redis's blockForKeys). <paramref name="rerunArgs"/> is the command as it
    /// must run again when a key is written: a copy owned by the block, with '$' (and '+') already made concrete.
    /// On a retry the client is already parked and keeps its place; nothing is written either way.
    /// </summary>
    public static void Block(CommandContext ctx, in ReadArgs args, ReadOnlyMemory<byte>[] rerunArgs)
    {
        var state = new BlockState
        {
            DeadlineMs = args.BlockMs == 0 ? 0 : ctx.NowMs + args.BlockMs,
            Args = rerunArgs,
            Command = ctx.Command,
            OnTimeout = static reply => reply.NullArray(),
        };
        var db = ctx.Client.DbIndex;
        for (var i = 0; i < args.KeyCount; i++)
        {
            var key = rerunArgs[args.FirstKey + i].ToArray();
            var duplicate = false;
            foreach (var (_, k) in state.Keys)
            {
                if (k.AsSpan().SequenceEqual(key)) { duplicate = true; break; }
            }
            if (!duplicate) state.Keys.Add((db, key));
        }
        ctx.Server.Blocking.Block(ctx.Client, state);
    }

    /// <summary>A copy of the command's arguments, safe to keep after the receive buffer moves on.</summary>
    public static ReadOnlyMemory<byte>[] CopyArgs(CommandContext ctx)
    {
        var copy = new ReadOnlyMemory<byte>[ctx.ArgCount];
        for (var i = 0; i < copy.Length; i++) copy[i] = ctx.Arg(i).ToArray();
        return copy;
    }

    /// <summary>The text form of an id as a new array (for rewritten arguments).</summary>
    public static byte[] IdBytes(StreamId id)
    {
        Span<byte> text = stackalloc byte[StreamId.MaxFormattedLength];
        return text[..id.Format(text)].ToArray();
    }

    /// <summary>
    /// The stream under <paramref name="key"/>; false with WRONGTYPE or "ERR no such key" written otherwise.
    /// <paramref name="read"/>: a read lookup, counted in INFO (XINFO), not a write's (XSETID).
    /// </summary>
    public static bool TryGetExistingStream(CommandContext ctx, ReadOnlySpan<byte> key, out Stream stream, bool read = false)
    {
        stream = null!;
        if (!(read ? ctx.TryGetRead<Stream>(key, out var found) : ctx.TryGet(key, out found))) return false;
        if (found is null)
        {
            ctx.Error(Errors.NoSuchKey);
            return false;
        }
        stream = found;
        return true;
    }

    /// <summary>The stream under <paramref name="key"/> (null when missing); false with WRONGTYPE written otherwise.</summary>
    public static bool TryGetStream(CommandContext ctx, ReadOnlySpan<byte> key, out Stream? stream) => ctx.TryGet(key, out stream);

    /// <summary><see cref="TryGetStream"/> as a read lookup (XRANGE, XLEN: counted in INFO keyspace_hits/misses).</summary>
    public static bool TryReadStream(CommandContext ctx, ReadOnlySpan<byte> key, out Stream? stream) => ctx.TryGetRead(key, out stream);
}
