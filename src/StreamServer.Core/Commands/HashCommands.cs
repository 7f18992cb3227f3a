using System.Buffers.Text;
using System.Globalization;
using System.Text;
using StreamServer.Configuration;
using StreamServer.Execution;
using StreamServer.Storage;
using static StreamServer.Execution.CommandFlags;

namespace StreamServer.Commands;

/// <summary>HSET, HSETNX, HGET, HMGET, HMSET, HGETALL, HDEL, HEXISTS, HLEN, HKEYS, HVALS, HSTRLEN, HINCRBY, HINCRBYFLOAT, HSCAN, HRANDFIELD.</summary>
public static class HashCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("hset", -4, Write | DenyOom | Fast, 1, 1, 1, HSet, "hash", "Creates or modifies the value of a field in a hash.", "2.0.0", "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.", "write", "hash", "fast");
        t.Add("hmset", -4, Write | DenyOom | Fast, 1, 1, 1, HSet, "hash", "Sets the values of multiple fields.", "2.0.0", "O(N) where N is the number of fields being set.", "write", "hash", "fast");
        t.Add("hsetnx", 4, Write | DenyOom | Fast, 1, 1, 1, HSetNx, "hash", "Sets the value of a field in a hash only when the field doesn't exist.", "2.0.0", "O(1)", "write", "hash", "fast");
        t.Add("hget", 3, ReadOnly | Fast, 1, 1, 1, HGet, "hash", "Returns the value of a field in a hash.", "2.0.0", "O(1)", "read", "hash", "fast");
        t.Add("hmget", -3, ReadOnly | Fast, 1, 1, 1, HMGet, "hash", "Returns the values of all fields in a hash.", "2.0.0", "O(N) where N is the number of fields being requested.", "read", "hash", "fast");
        t.Add("hgetall", 2, ReadOnly, 1, 1, 1, HGetAll, "hash", "Returns all fields and values in a hash.", "2.0.0", "O(N) where N is the size of the hash.", "read", "hash", "slow");
        t.Add("hdel", -3, Write | Fast, 1, 1, 1, HDel, "hash", "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", "2.0.0", "O(N) where N is the number of fields to be removed.", "write", "hash", "fast");
        t.Add("hexists", 3, ReadOnly | Fast, 1, 1, 1, HExists, "hash", "Determines whether a field exists in a hash.", "2.0.0", "O(1)", "read", "hash", "fast");
        t.Add("hlen", 2, ReadOnly | Fast, 1, 1, 1, HLen, "hash", "Returns the number of fields in a hash.", "2.0.0", "O(1)", "read", "hash", "fast");
        t.Add("hkeys", 2, ReadOnly, 1, 1, 1, HKeys, "hash", "Returns all fields in a hash.", "2.0.0", "O(N) where N is the size of the hash.", "read", "hash", "slow");
        t.Add("hvals", 2, ReadOnly, 1, 1, 1, HVals, "hash", "Returns all values in a hash.", "2.0.0", "O(N) where N is the size of the hash.", "read", "hash", "slow");
        t.Add("hstrlen", 3, ReadOnly | Fast, 1, 1, 1, HStrLen, "hash", "Returns the length of the value of a field.", "3.2.0", "O(1)", "read", "hash", "fast");
        t.Add("hincrby", 4, Write | DenyOom | Fast, 1, 1, 1, HIncrBy, "hash", "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.", "2.0.0", "O(1)", "write", "hash", "fast");
        t.Add("hincrbyfloat", 4, Write | DenyOom | Fast, 1, 1, 1, HIncrByFloat, "hash", "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.", "2.6.0", "O(1)", "write", "hash", "fast");
        t.Add("hscan", -3, ReadOnly, 1, 1, 1, HScan, "hash", "Iterates over fields and values of a hash.", "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.", "read", "hash", "slow");
        t.Add("hrandfield", -2, ReadOnly, 1, 1, 1, HRandField, "hash", "Returns one or more random fields from a hash.", "6.2.0", "O(N) where N is the number of fields returned", "read", "hash", "slow");
    }

    // HSET key field value [field value ...]   (HMSET: the same, replying +OK)
    private static void HSet(CommandContext ctx)
    {
        if (ctx.ArgCount % 2 == 1)
        {
            ctx.Error(Errors.WrongArity(ctx.Command.FullName));
            return;
        }
        var key = ctx.Arg(1);
        if (!TryGetOrCreate(ctx, key, out var hash)) return;
        var added = 0;
        for (var i = 2; i < ctx.ArgCount; i += 2)
        {
            if (hash.Set(ctx.Arg(i), ctx.Arg(i + 1))) added++;
        }
        ctx.Db.Touch(key);
        if (ctx.Command.Name == "hmset") ctx.Reply.Ok();
        else ctx.Reply.Integer(added);
        ctx.Notify(NotifyClass.Hash, "hset"u8, key);
    }

    // HSETNX key field value
    private static void HSetNx(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        if (!TryGetOrCreate(ctx, key, out var hash)) return;
        if (hash.ContainsField(ctx.Arg(2)))
        {
            ctx.Reply.Integer(0);
            return;
        }
        hash.Set(ctx.Arg(2), ctx.Arg(3));
        ctx.Db.Touch(key);
        ctx.Reply.Integer(1);
        ctx.Notify(NotifyClass.Hash, "hset"u8, key);
    }

    // HGET key field
    private static void HGet(CommandContext ctx)
    {
        if (!ctx.TryGetRead<HashObject>(ctx.Arg(1), out var hash)) return;
        if (hash is not null && hash.TryGetValue(ctx.Arg(2), out var value)) ctx.Reply.Bulk(value);
        else ctx.Reply.Null();
    }

    // HMGET key field [field ...]
    private static void HMGet(CommandContext ctx)
    {
        if (!ctx.TryGetRead<HashObject>(ctx.Arg(1), out var hash)) return;
        ctx.Reply.Array(ctx.ArgCount - 2);
        for (var i = 2; i < ctx.ArgCount; i++)
        {
            if (hash is not null && hash.TryGetValue(ctx.Arg(i), out var value)) ctx.Reply.Bulk(value);
            else ctx.Reply.Null();
        }
    }

    // HGETALL key
    private static void HGetAll(CommandContext ctx)
    {
        if (!ctx.TryGetRead<HashObject>(ctx.Arg(1), out var hash)) return;
        ctx.Reply.Map(hash?.Fields.Count ?? 0);
        if (hash is null) return;
        foreach (var (field, value) in hash.Fields)
        {
            ctx.Reply.Bulk(field);
            ctx.Reply.Bulk(value);
        }
    }

    // HDEL key field [field ...]
    private static void HDel(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        if (!ctx.TryGet<HashObject>(key, out var hash)) return;
        var deleted = 0;
        if (hash is not null)
        {
            for (var i = 2; i < ctx.ArgCount; i++)
            {
                if (hash.Remove(ctx.Arg(i))) deleted++;
            }
            if (deleted > 0)
            {
                ctx.Notify(NotifyClass.Hash, "hdel"u8, key);
                if (hash.Fields.Count == 0)
                {
                    ctx.Db.Delete(key);
                    ctx.Notify(NotifyClass.Generic, "del"u8, key);
                }
                else ctx.Db.Touch(key);
            }
        }
        ctx.Reply.Integer(deleted);
    }

    // HEXISTS key field
    private static void HExists(CommandContext ctx)
    {
        if (!ctx.TryGetRead<HashObject>(ctx.Arg(1), out var hash)) return;
        ctx.Reply.Integer(hash is not null && hash.ContainsField(ctx.Arg(2)) ? 1 : 0);
    }

    // HLEN key
    private static void HLen(CommandContext ctx)
    {
        if (!ctx.TryGetRead<HashObject>(ctx.Arg(1), out var hash)) return;
        ctx.Reply.Integer(hash?.Fields.Count ?? 0);
    }

    // HKEYS key
    private static void HKeys(CommandContext ctx)
    {
        if (!ctx.TryGetRead<HashObject>(ctx.Arg(1), out var hash)) return;
        ctx.Reply.Array(hash?.Fields.Count ?? 0);
        if (hash is null) return;
        foreach (var (field, _) in hash.Fields) ctx.Reply.Bulk(field);
    }

    // HVALS key
    private static void HVals(CommandContext ctx)
    {
        if (!ctx.TryGetRead<HashObject>(ctx.Arg(1), out var hash)) return;
        ctx.Reply.Array(hash?.Fields.Count ?? 0);
        if (hash is null) return;
        foreach (var (_, value) in hash.Fields) ctx.Reply.Bulk(value);
    }

    // HSTRLEN key field
    private static void HStrLen(CommandContext ctx)
    {
        if (!ctx.TryGetRead<HashObject>(ctx.Arg(1), out var hash)) return;
        var length = hash is not null && hash.TryGetValue(ctx.Arg(2), out var value) ? value.Length : 0;
        ctx.Reply.Integer(length);
    }

    // HINCRBY key field increment
    private static void HIncrBy(CommandContext ctx)
    {
        if (!ctx.TryGetLong(3, out var increment)) return;
        var key = ctx.Arg(1);
        if (!ctx.TryGet<HashObject>(key, out var hash)) return;
        long current = 0;
        if (hash is not null && hash.TryGetValue(ctx.Arg(2), out var old)
            && !CommandContext.TryParseLong(old, out current))
        {
            ctx.Error(Errors.HashValueNotInteger);
            return;
        }
        if ((increment < 0 && current < 0 && increment < long.MinValue - current)
            || (increment > 0 && current > 0 && increment > long.MaxValue - current))
        {
            ctx.Error(Errors.Overflow);
            return;
        }
        var result = current + increment;
        Span<byte> text = stackalloc byte[24];
        Utf8Formatter.TryFormat(result, text, out var n);
        SetField(ctx, key, hash, ctx.Arg(2), text[..n]);
        ctx.Reply.Integer(result);
        ctx.Notify(NotifyClass.Hash, "hincrby"u8, key);
    }

    // HINCRBYFLOAT key field increment
    private static void HIncrByFloat(CommandContext ctx)
    {
        if (!ctx.TryGetDouble(3, out var increment)) return;
        if (double.IsInfinity(increment))
        {
            ctx.Error(Errors.NaNOrInfinity);
            return;
        }
        var key = ctx.Arg(1);
        if (!ctx.TryGet<HashObject>(key, out var hash)) return;
        byte[]? old = null;
        if (hash is not null && hash.TryGetValue(ctx.Arg(2), out old)
            && !CommandContext.TryParseDouble(old, out _))
        {
            ctx.Error(Errors.HashValueNotFloat);
            return;
        }
        var result = AddFloat(old ?? "0"u8, ctx.Arg(3));
        if (result is null)
        {
            ctx.Error(Errors.IncrementNaNOrInfinity);
            return;
        }
        SetField(ctx, key, hash, ctx.Arg(2), result);
        ctx.Reply.Bulk(result);
        ctx.Notify(NotifyClass.Hash, "hincrbyfloat"u8, key);
    }

    /// <summary>Stores one field (creating the hash when <paramref name="hash"/> is null) and touches the key.</summary>
    private static void SetField(CommandContext ctx, ReadOnlySpan<byte> key, HashObject? hash, ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
    {
        if (hash is null)
        {
            hash = new HashObject();
            hash.Set(field, value);
            ctx.Db.Add(key, hash);
            return;
        }
        hash.Set(field, value);
        ctx.Db.Touch(key);
    }

    /// <summary>
    /// <paramref name="a"/> + <paramref name="b"/> computed in long double and printed in Redis's human form
    /// (%.17Lf without trailing zeros), as Redis 7.0's HINCRBYFLOAT; null when either is not a number or the sum is
    /// not finite.
    /// </summary>
    internal static byte[]? AddFloat(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (!LongDouble.TryParse(a, out var x) || !LongDouble.TryParse(b, out var y)) return null;
        var sum = x + y;
        return sum.IsFinite ? Encoding.ASCII.GetBytes(sum.ToHumanString()) : null;
    }

    // HSCAN key cursor [MATCH pattern] [COUNT count]
    private static void HScan(CommandContext ctx)
    {
        if (!SetCommands.TryParseCursor(ctx, 2, out var cursor)) return;
        if (!ctx.TryGetRead<HashObject>(ctx.Arg(1), out var hash)) return;
        if (hash is null)
        {
            SetCommands.EmptyScan(ctx);
            return;
        }
        if (!SetCommands.TryParseScanOptions(ctx, 3, out var count, out var pattern)) return;
        var found = new List<KeyValuePair<byte[], byte[]>>();
        var next = SetCommands.ScanStep(hash.Fields, hash.Fields.Count, cursor, hash.IsHashTable ? count : int.MaxValue, found);
        if (!pattern.IsEmpty) found.RemoveAll(p => !Glob.Match(pattern.Span, p.Key));
        ctx.Reply.Array(2);
        ctx.Reply.Bulk(next.ToString(CultureInfo.InvariantCulture));
        ctx.Reply.Array(found.Count * 2);
        foreach (var (field, value) in found)
        {
            ctx.Reply.Bulk(field);
            ctx.Reply.Bulk(value);
        }
    }

    // HRANDFIELD key [count [WITHVALUES]]
    private static void HRandField(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        var random = ctx.Server.Random;
        if (ctx.ArgCount == 2)
        {
            if (!ctx.TryGetRead<HashObject>(key, out var single)) return;
            if (single is null) ctx.Reply.Null();
            else ctx.Reply.Bulk(single.RandomField(random).Key);
            return;
        }
        if (!SetCommands.TryGetRandomCount(ctx, 2, out var count)) return;
        var withValues = false;
        if (ctx.ArgCount > 4 || (ctx.ArgCount == 4 && !ctx.ArgIs(3, "WITHVALUES"u8)))
        {
            ctx.SyntaxError();
            return;
        }
        if (ctx.ArgCount == 4)
        {
            withValues = true;
            if (count < -long.MaxValue / 2 || count > long.MaxValue / 2)
            {
                ctx.Error(Errors.OutOfRange);
                return;
            }
        }
        if (!ctx.TryGetRead<HashObject>(key, out var hash)) return;
        if (hash is null || count == 0)
        {
            ctx.Reply.EmptyArray();
            return;
        }
        var all = hash.Fields.ToArray();
        IEnumerable<KeyValuePair<byte[], byte[]>> chosen;
        int n;
        if (count < 0)
        {
            n = checked((int)-count);
            var picks = new KeyValuePair<byte[], byte[]>[n];
            for (var i = 0; i < n; i++) picks[i] = all[random.Next(all.Length)];
            chosen = picks;
        }
        else if (count >= all.Length)
        {
            n = all.Length;
            chosen = all;
        }
        else
        {
            n = (int)count;
            for (var i = 0; i < n; i++)
            {
                var j = random.Next(i, all.Length);
                (all[i], all[j]) = (all[j], all[i]);
            }
            chosen = all[..n];
        }
        var reply = ctx.Reply;
        reply.Array(withValues && !reply.IsResp3 ? n * 2 : n);
        foreach (var (field, value) in chosen)
        {
            if (withValues && reply.IsResp3) reply.Array(2);
            reply.Bulk(field);
            if (withValues) reply.Bulk(value);
        }
    }

    /// <summary>The hash under <paramref name="key"/>, created empty when missing; WRONGTYPE written otherwise.</summary>
    private static bool TryGetOrCreate(CommandContext ctx, ReadOnlySpan<byte> key, out HashObject hash)
    {
        if (!ctx.TryGet<HashObject>(key, out var found))
        {
            hash = null!;
            return false;
        }
        if (found is null)
        {
            found = new HashObject();
            ctx.Db.Add(key, found);
        }
        hash = found;
        return true;
    }
}
