using StreamServer.Configuration;
using StreamServer.Execution;
using StreamServer.Storage;
using static StreamServer.Execution.CommandFlags;

namespace StreamServer.Commands;

/// <summary>SADD, SREM, SISMEMBER, SMISMEMBER, SMEMBERS, SCARD, SPOP, SRANDMEMBER, SSCAN.</summary>
public static class SetCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("sadd", -3, Write | DenyOom | Fast, 1, 1, 1, SAdd, "set", "Adds one or more members to a set. Creates the key if it doesn't exist.", "1.0.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", "write", "set", "fast");
        t.Add("srem", -3, Write | Fast, 1, 1, 1, SRem, "set", "Removes one or more members from a set. Deletes the set if the last member was removed.", "1.0.0", "O(N) where N is the number of members to be removed.", "write", "set", "fast");
        t.Add("sismember", 3, ReadOnly | Fast, 1, 1, 1, SIsMember, "set", "Determines whether a member belongs to a set.", "1.0.0", "O(1)", "read", "set", "fast");
        t.Add("smismember", -3, ReadOnly | Fast, 1, 1, 1, SMIsMember, "set", "Determines whether multiple members belong to a set.", "6.2.0", "O(N) where N is the number of elements being checked for membership", "read", "set", "fast");
        t.Add("smembers", 2, ReadOnly, 1, 1, 1, SMembers, "set", "Returns all members of a set.", "1.0.0", "O(N) where N is the set cardinality.", "read", "set", "slow");
        t.Add("scard", 2, ReadOnly | Fast, 1, 1, 1, SCard, "set", "Returns the number of members in a set.", "1.0.0", "O(1)", "read", "set", "fast");
        t.Add("spop", -2, Write | Fast, 1, 1, 1, SPop, "set", "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", "1.0.0", "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.", "write", "set", "fast");
        t.Add("srandmember", -2, ReadOnly, 1, 1, 1, SRandMember, "set", "Get one or multiple random members from a set", "1.0.0", "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.", "read", "set", "slow");
        t.Add("sscan", -3, ReadOnly, 1, 1, 1, SScan, "set", "Iterates over members of a set.", "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.", "read", "set", "slow");
    }

    private static readonly byte[] SRemName = "SREM"u8.ToArray();
    private static readonly byte[] DelName = "DEL"u8.ToArray();

    // SADD key member [member ...]
    private static void SAdd(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        if (!ctx.TryGet<SetObject>(key, out var set)) return;
        var created = set is null;
        if (set is null)
        {
            set = new SetObject();
            ctx.Db.Add(key, set);
        }
        var added = 0;
        for (var i = 2; i < ctx.ArgCount; i++)
        {
            if (set.Add(ctx.Arg(i))) added++;
        }
        if (added > 0 && !created) ctx.Db.Touch(key);
        if (added > 0) ctx.Notify(NotifyClass.Set, "sadd"u8, key);
        ctx.Reply.Integer(added);
    }

    // SREM key member [member ...]
    private static void SRem(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        if (!ctx.TryGet<SetObject>(key, out var set)) return;
        var removed = 0;
        if (set is not null)
        {
            for (var i = 2; i < ctx.ArgCount; i++)
            {
                if (set.Remove(ctx.Arg(i))) removed++;
            }
            if (removed > 0) Modified(ctx, key, set, "srem"u8);
        }
        ctx.Reply.Integer(removed);
    }

    // SISMEMBER key member
    private static void SIsMember(CommandContext ctx)
    {
        if (!ctx.TryGetRead<SetObject>(ctx.Arg(1), out var set)) return;
        ctx.Reply.Integer(set is not null && set.Contains(ctx.Arg(2)) ? 1 : 0);
    }

    // SMISMEMBER key member [member ...]
    private static void SMIsMember(CommandContext ctx)
    {
        if (!ctx.TryGetRead<SetObject>(ctx.Arg(1), out var set)) return;
        ctx.Reply.Array(ctx.ArgCount - 2);
        for (var i = 2; i < ctx.ArgCount; i++)
        {
            ctx.Reply.Integer(set is not null && set.Contains(ctx.Arg(i)) ? 1 : 0);
        }
    }

    // SMEMBERS key
    private static void SMembers(CommandContext ctx)
    {
        if (!ctx.TryGetRead<SetObject>(ctx.Arg(1), out var set)) return;
        if (set is null)
        {
            ctx.Reply.Set(0);
            return;
        }
        ctx.Reply.Set(set.Members.Count);
        foreach (var member in set.Members) ctx.Reply.Bulk(member);
    }

    // SCARD key
    private static void SCard(CommandContext ctx)
    {
        if (!ctx.TryGetRead<SetObject>(ctx.Arg(1), out var set)) return;
        ctx.Reply.Integer(set?.Members.Count ?? 0);
    }

    // SPOP key [count]
    private static void SPop(CommandContext ctx)
    {
        if (ctx.ArgCount > 3)
        {
            ctx.SyntaxError();
            return;
        }
        var key = ctx.Arg(1);
        if (ctx.ArgCount == 2)
        {
            if (!ctx.TryGet<SetObject>(key, out var single)) return;
            if (single is null)
            {
                ctx.Reply.Null();
                return;
            }
            var member = single.RandomMember(ctx.Server.Random);
            single.Remove(member);
            ctx.Reply.Bulk(member);
            Modified(ctx, key, single, "spop"u8);
            ctx.ReplacePropagation(SRemName, ctx.ArgMemory(1).ToArray(), member);
            return;
        }

        if (!CommandContext.TryParseLong(ctx.Arg(2), out var count) || count < 0)
        {
            ctx.Error(Errors.NotPositive);
            return;
        }
        if (!ctx.TryGet<SetObject>(key, out var set)) return;
        if (set is null || count == 0)
        {
            ctx.Reply.Set(0);
            return;
        }
        if (count >= set.Members.Count)
        {
            ctx.Reply.Set(set.Members.Count);
            foreach (var member in set.Members) ctx.Reply.Bulk(member);
            ctx.Db.Delete(key);
            ctx.Notify(NotifyClass.Set, "spop"u8, key);
            ctx.Notify(NotifyClass.Generic, "del"u8, key);
            ctx.ReplacePropagation(DelName, ctx.ArgMemory(1).ToArray());
            return;
        }
        var picked = Sample(set, (int)count, ctx.Server.Random);
        ctx.Reply.Set(picked.Length);
        var propagated = new ReadOnlyMemory<byte>[picked.Length + 2];
        propagated[0] = SRemName;
        propagated[1] = ctx.ArgMemory(1).ToArray();
        var next = 2;
        foreach (var member in picked)
        {
            set.Remove(member);
            ctx.Reply.Bulk(member);
            propagated[next++] = member;
        }
        Modified(ctx, key, set, "spop"u8);
        // Random choices are not replayable: the AOF gets the members that went (Redis's SREM rewrite).
        ctx.ReplacePropagation(propagated);
    }

    // SRANDMEMBER key [count]
    private static void SRandMember(CommandContext ctx)
    {
        if (ctx.ArgCount > 3)
        {
            ctx.SyntaxError();
            return;
        }
        var key = ctx.Arg(1);
        if (ctx.ArgCount == 2)
        {
            if (!ctx.TryGetRead<SetObject>(key, out var single)) return;
            if (single is null) ctx.Reply.Null();
            else ctx.Reply.Bulk(single.RandomMember(ctx.Server.Random));
            return;
        }

        if (!TryGetRandomCount(ctx, 2, out var count)) return;
        if (!ctx.TryGetRead<SetObject>(key, out var set)) return;
        if (set is null || count == 0)
        {
            ctx.Reply.EmptyArray();
            return;
        }
        var random = ctx.Server.Random;
        if (count < 0)
        {
            // A negative count allows the same member more than once.
            var all = set.Members.ToArray();
            ctx.Reply.Array(checked((int)-count));
            for (var i = 0L; i < -count; i++) ctx.Reply.Bulk(all[random.Next(all.Length)]);
            return;
        }
        if (count >= set.Members.Count)
        {
            ctx.Reply.Array(set.Members.Count);
            foreach (var member in set.Members) ctx.Reply.Bulk(member);
            return;
        }
        var picked = Sample(set, (int)count, random);
        ctx.Reply.Array(picked.Length);
        foreach (var member in picked) ctx.Reply.Bulk(member);
    }

    // SSCAN key cursor [MATCH pattern] [COUNT count]
    private static void SScan(CommandContext ctx)
    {
        if (!TryParseCursor(ctx, 2, out var cursor)) return;
        if (!ctx.TryGetRead<SetObject>(ctx.Arg(1), out var set)) return;
        if (set is null)
        {
            EmptyScan(ctx);
            return;
        }
        if (!TryParseScanOptions(ctx, 3, out var count, out var pattern)) return;
        var found = new List<byte[]>();
        var next = ScanStep(set.Members, set.Members.Count, cursor, set.IsHashTable ? count : int.MaxValue, found);
        if (!pattern.IsEmpty) found.RemoveAll(m => !Glob.Match(pattern.Span, m));
        ctx.Reply.Array(2);
        ctx.Reply.Bulk(next.ToString(System.Globalization.CultureInfo.InvariantCulture));
        ctx.Reply.Array(found.Count);
        foreach (var member in found) ctx.Reply.Bulk(member);
    }

    /// <summary>
    /// After members were removed: the command's keyspace event, then an emptied set deletes its key ("del"),
    /// otherwise the key is touched.
    /// </summary>
    private static void Modified(CommandContext ctx, ReadOnlySpan<byte> key, SetObject set, ReadOnlySpan<byte> eventName)
    {
        ctx.Notify(NotifyClass.Set, eventName, key);
        if (set.Members.Count == 0)
        {
            ctx.Db.Delete(key);
            ctx.Notify(NotifyClass.Generic, "del"u8, key);
        }
        else ctx.Db.Touch(key);
    }

    /// <summary><paramref name="count"/> distinct members at random (count below the set's size).</summary>
    private static byte[][] Sample(SetObject set, int count, Random random)
    {
        var all = set.Members.ToArray();
        for (var i = 0; i < count; i++)
        {
            var j = random.Next(i, all.Length);
            (all[i], all[j]) = (all[j], all[i]);
        }
        return all[..count];
    }

    /// <summary>SRANDMEMBER / HRANDFIELD count: any 64-bit value but LONG_MIN, as Redis's getRangeLongFromObjectOrReply.</summary>
    internal static bool TryGetRandomCount(CommandContext ctx, int index, out long count)
    {
        if (!CommandContext.TryParseLong(ctx.Arg(index), out count))
        {
            ctx.Error(Errors.NotInteger);
            return false;
        }
        if (count == long.MinValue)
        {
            ctx.Error(Errors.RangeMustBetween(-long.MaxValue, long.MaxValue));
            return false;
        }
        return true;
    }

    /// <summary>A SCAN cursor as Redis's parseScanCursorOrReply (strtoul: optional sign, digits, nothing after).</summary>
    internal static bool TryParseCursor(CommandContext ctx, int index, out ulong cursor)
    {
        cursor = 0;
        var text = ctx.Arg(index);
        var negative = false;
        var i = 0;
        if (text.Length > 0 && text[0] is (byte)'+' or (byte)'-')
        {
            negative = text[0] == '-';
            i = 1;
        }
        ulong value = 0;
        var valid = i < text.Length || text.Length == 0;
        for (; i < text.Length && valid; i++)
        {
            var c = text[i];
            if (c is < (byte)'0' or > (byte)'9' || value > (ulong.MaxValue - (ulong)(c - '0')) / 10) valid = false;
            else value = value * 10 + (ulong)(c - '0');
        }
        if (!valid)
        {
            ctx.Error(Errors.InvalidCursor);
            return false;
        }
        cursor = negative ? unchecked(0UL - value) : value;
        return true;
    }

    /// <summary>[MATCH pattern] [COUNT count] of SSCAN/HSCAN, as Redis's scanGenericCommand parses them.</summary>
    internal static bool TryParseScanOptions(CommandContext ctx, int from, out int count, out ReadOnlyMemory<byte> pattern)
    {
        count = 10;
        pattern = default;
        for (var i = from; i < ctx.ArgCount; i += 2)
        {
            var more = ctx.ArgCount - i - 1;
            if (ctx.ArgIs(i, "COUNT"u8) && more >= 1)
            {
                if (!ctx.TryGetLong(i + 1, out var n)) return false;
                if (n < 1)
                {
                    ctx.SyntaxError();
                    return false;
                }
                count = (int)Math.Min(n, int.MaxValue);
            }
            else if (ctx.ArgIs(i, "MATCH"u8) && more >= 1)
            {
                var p = ctx.ArgMemory(i + 1);
                pattern = p.Length == 1 && p.Span[0] == '*' ? default : p;
            }
            else
            {
                ctx.SyntaxError();
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// One step over a collection in its enumeration order: the items at positions cursor.. (up to count), and the
    /// cursor to continue from (0 when done).
    /// </summary>
    internal static ulong ScanStep<T>(IEnumerable<T> items, int total, ulong cursor, int count, List<T> into)
    {
        ulong position = 0;
        foreach (var item in items)
        {
            if (position++ < cursor) continue;
            into.Add(item);
            if (into.Count >= count) return position >= (ulong)total ? 0 : position;
        }
        return 0;
    }

    internal static void EmptyScan(CommandContext ctx)
    {
        ctx.Reply.Array(2);
        ctx.Reply.Bulk("0"u8);
        ctx.Reply.EmptyArray();
    }
}
