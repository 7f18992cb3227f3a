using System.Text;
using StreamServer.Execution;
using StreamServer.Storage;
using static StreamServer.Execution.CommandFlags;

namespace StreamServer.Commands;

/// <summary>
/// GET, SET and its variants (SETNX, SETEX, PSETEX, GETSET, GETDEL, GETEX), MGET, MSET, MSETNX, the INCR/DECR
/// family, INCRBYFLOAT, APPEND, STRLEN, GETRANGE/SUBSTR, SETRANGE: Redis 7's t_string.c.
/// </summary>
public static class StringCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("get", 2, ReadOnly | Fast, 1, 1, 1, Get, "string", "Returns the string value of a key.", categories: ["read", "string", "fast"]);
        t.Add("set", -3, Write | DenyOom, 1, 1, 1, Set, "string", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", categories: ["write", "string", "slow"]);
        t.Add("setnx", 3, Write | DenyOom | Fast, 1, 1, 1, SetNx, "string", "Set the string value of a key only when the key doesn't exist.", categories: ["write", "string", "fast"]);
        t.Add("setex", 4, Write | DenyOom, 1, 1, 1, SetEx, "string", "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", "2.0.0", categories: ["write", "string", "slow"]);
        t.Add("psetex", 4, Write | DenyOom, 1, 1, 1, PSetEx, "string", "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", "2.6.0", categories: ["write", "string", "slow"]);
        t.Add("getset", 3, Write | DenyOom | Fast, 1, 1, 1, GetSet, "string", "Returns the previous string value of a key after setting it to a new value.", categories: ["write", "string", "fast"]);
        t.Add("getdel", 2, Write | Fast, 1, 1, 1, GetDel, "string", "Returns the string value of a key after deleting the key.", "6.2.0", categories: ["write", "string", "fast"]);
        t.Add("getex", -2, Write | Fast, 1, 1, 1, GetEx, "string", "Returns the string value of a key after setting its expiration time.", "6.2.0", categories: ["write", "string", "fast"]);
        t.Add("mget", -2, ReadOnly | Fast, 1, -1, 1, MGet, "string", "Atomically returns the string values of one or more keys.", complexity: "O(N) where N is the number of keys to retrieve.", categories: ["read", "string", "fast"]);
        t.Add("mset", -3, Write | DenyOom, 1, -1, 2, MSet, "string", "Atomically creates or modifies the string values of one or more keys.", "1.0.1", "O(N) where N is the number of keys to set.", "write", "string", "slow");
        t.Add("msetnx", -3, Write | DenyOom, 1, -1, 2, MSetNx, "string", "Atomically modifies the string values of one or more keys only when all keys don't exist.", "1.0.1", "O(N) where N is the number of keys to set.", "write", "string", "slow");
        t.Add("incr", 2, Write | DenyOom | Fast, 1, 1, 1, Incr, "string", "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", categories: ["write", "string", "fast"]);
        t.Add("decr", 2, Write | DenyOom | Fast, 1, 1, 1, Decr, "string", "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", categories: ["write", "string", "fast"]);
        t.Add("incrby", 3, Write | DenyOom | Fast, 1, 1, 1, IncrBy, "string", "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", categories: ["write", "string", "fast"]);
        t.Add("decrby", 3, Write | DenyOom | Fast, 1, 1, 1, DecrBy, "string", "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", categories: ["write", "string", "fast"]);
        t.Add("incrbyfloat", 3, Write | DenyOom | Fast, 1, 1, 1, IncrByFloat, "string", "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "2.6.0", categories: ["write", "string", "fast"]);
        t.Add("append", 3, Write | DenyOom | Fast, 1, 1, 1, Append, "string", "Appends a string to the value of a key. Creates the key if it doesn't exist.", "2.0.0", categories: ["write", "string", "fast"]);
        t.Add("strlen", 2, ReadOnly | Fast, 1, 1, 1, StrLen, "string", "Returns the length of a string value.", "2.2.0", categories: ["read", "string", "fast"]);
        t.Add("getrange", 4, ReadOnly, 1, 1, 1, GetRange, "string", "Returns a substring of the string stored at a key.", "2.4.0", "O(N) where N is the length of the returned string.", "read", "string", "slow");
        t.Add("substr", 4, ReadOnly, 1, 1, 1, GetRange, "string", "Returns a substring from a string value.", "1.0.0", "O(N) where N is the length of the returned string.", "read", "string", "slow");
        t.Add("setrange", 4, Write | DenyOom, 1, 1, 1, SetRange, "string", "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", "2.2.0", categories: ["write", "string", "slow"]);
    }

    [Flags]
    private enum SetOptions
    {
        None = 0,
        Nx = 1 << 0,
        Xx = 1 << 1,
        Get = 1 << 2,
        KeepTtl = 1 << 3,
        Persist = 1 << 4,
        Ex = 1 << 5,
        Px = 1 << 6,
        ExAt = 1 << 7,
        PxAt = 1 << 8,
        AnyExpire = Ex | Px | ExAt | PxAt,
    }

    // GET key
    private static void Get(CommandContext ctx)
    {
        if (!TryRead(ctx, ctx.Arg(1), out var value)) return;
        ReplyValue(ctx, value);
    }

    // SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]
    private static void Set(CommandContext ctx)
    {
        if (!TryParseSetOptions(ctx, from: 3, forGetEx: false, out var options, out var expireArg)) return;
        var when = -1L;
        if (expireArg > 0 && !TryGetExpireTime(ctx, expireArg, options, out when)) return;
        SetGeneric(ctx, options, ctx.Arg(1), ctx.Arg(2), when, okReply: null);
    }

    // SETNX key value
    private static void SetNx(CommandContext ctx) => SetGeneric(ctx, SetOptions.Nx, ctx.Arg(1), ctx.Arg(2), -1, okReply: true);

    // SETEX key seconds value
    private static void SetEx(CommandContext ctx)
    {
        if (!TryGetExpireTime(ctx, 2, SetOptions.Ex, out var when)) return;
        SetGeneric(ctx, SetOptions.Ex, ctx.Arg(1), ctx.Arg(3), when, okReply: null);
    }

    // PSETEX key milliseconds value
    private static void PSetEx(CommandContext ctx)
    {
        if (!TryGetExpireTime(ctx, 2, SetOptions.Px, out var when)) return;
        SetGeneric(ctx, SetOptions.Px, ctx.Arg(1), ctx.Arg(3), when, okReply: null);
    }

    // GETSET key value
    private static void GetSet(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        if (!TryRead(ctx, key, out var old)) return;
        ReplyValue(ctx, old);
        Store(ctx.Db, key, ctx.Arg(2), old, keepTtl: false);
        ctx.Notify(NotifyClass.String, "set"u8, key);
    }

    // GETDEL key
    private static void GetDel(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        if (!TryRead(ctx, key, out var value)) return;
        ReplyValue(ctx, value);
        if (value is not null && ctx.Db.Delete(key)) ctx.Notify(NotifyClass.Generic, "del"u8, key);
    }

    // GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST]
    private static void GetEx(CommandContext ctx)
    {
        if (!TryParseSetOptions(ctx, from: 2, forGetEx: true, out var options, out var expireArg)) return;
        var key = ctx.Arg(1);
        if (!TryRead(ctx, key, out var value)) return;
        if (value is null)
        {
            ctx.Reply.Null();
            return;
        }
        var when = -1L;
        if (expireArg > 0 && !TryGetExpireTime(ctx, expireArg, options, out when)) return;

        ReplyValue(ctx, value);
        var db = ctx.Db;
        if ((options & (SetOptions.ExAt | SetOptions.PxAt)) != 0 && when <= ctx.NowMs && !db.IsLoading)
        {
            db.Delete(key);
            ctx.Notify(NotifyClass.Generic, "del"u8, key);
        }
        else if (expireArg > 0)
        {
            db.SetExpiry(key, when);
            db.Touch(key);
            ctx.Notify(NotifyClass.Generic, "expire"u8, key);
        }
        else if ((options & SetOptions.Persist) != 0 && db.RemoveExpiry(key))
        {
            db.Touch(key);
            ctx.Notify(NotifyClass.Generic, "persist"u8, key);
        }
    }

    // MGET key [key ...]
    private static void MGet(CommandContext ctx)
    {
        ctx.Reply.Array(ctx.ArgCount - 1);
        for (var i = 1; i < ctx.ArgCount; i++)
        {
            var value = ctx.LookupRead(ctx.Arg(i));
            if (value is StringObject s) ReplyValue(ctx, s);
            else ctx.Reply.Null();
        }
    }

    // MSET key value [key value ...]
    private static void MSet(CommandContext ctx)
    {
        if (ctx.ArgCount % 2 == 0)
        {
            ctx.Error(Errors.WrongArity(ctx.Command.FullName));
            return;
        }
        StoreAll(ctx);
        ctx.Reply.Ok();
    }

    // MSETNX key value [key value ...]
    private static void MSetNx(CommandContext ctx)
    {
        if (ctx.ArgCount % 2 == 0)
        {
            ctx.Error(Errors.WrongArity(ctx.Command.FullName));
            return;
        }
        for (var i = 1; i < ctx.ArgCount; i += 2)
        {
            if (ctx.Db.Exists(ctx.Arg(i)))
            {
                ctx.Reply.Integer(0);
                return;
            }
        }
        StoreAll(ctx);
        ctx.Reply.Integer(1);
    }

    private static void StoreAll(CommandContext ctx)
    {
        var db = ctx.Db;
        for (var i = 1; i < ctx.ArgCount; i += 2)
        {
            var key = ctx.Arg(i);
            Store(db, key, ctx.Arg(i + 1), db.Get(key), keepTtl: false);
            ctx.Notify(NotifyClass.String, "set"u8, key);
        }
    }

    // INCR key
    private static void Incr(CommandContext ctx) => IncrDecr(ctx, 1);

    // DECR key
    private static void Decr(CommandContext ctx) => IncrDecr(ctx, -1);

    // INCRBY key increment
    private static void IncrBy(CommandContext ctx)
    {
        if (!ctx.TryGetLong(2, out var increment)) return;
        IncrDecr(ctx, increment);
    }

    // DECRBY key decrement
    private static void DecrBy(CommandContext ctx)
    {
        if (!ctx.TryGetLong(2, out var decrement)) return;
        if (decrement == long.MinValue)
        {
            ctx.Error(Errors.DecrementOverflow);
            return;
        }
        IncrDecr(ctx, -decrement);
    }

    private static void IncrDecr(CommandContext ctx, long increment)
    {
        var key = ctx.Arg(1);
        if (!ctx.TryGet<StringObject>(key, out var existing)) return;
        var value = 0L;
        if (existing is not null && !existing.TryGetInteger(out value))
        {
            ctx.Error(Errors.NotInteger);
            return;
        }
        if ((increment < 0 && value < 0 && increment < long.MinValue - value)
            || (increment > 0 && value > 0 && increment > long.MaxValue - value))
        {
            ctx.Error(Errors.Overflow);
            return;
        }
        value += increment;
        if (existing is null)
        {
            ctx.Db.Add(key, new StringObject(value));
        }
        else
        {
            // In place: no allocation; the TTL stays, as with Redis's dbReplaceValue.
            existing.SetInteger(value);
            ctx.Db.Touch(key);
        }
        ctx.Notify(NotifyClass.String, "incrby"u8, key);
        ctx.Reply.Integer(value);
    }

    // INCRBYFLOAT key increment
    private static void IncrByFloat(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        if (!ctx.TryGet<StringObject>(key, out var existing)) return;
        var value = LongDouble.Zero;
        if ((existing is not null && !TryGetLongDouble(existing, out value))
            || !LongDouble.TryParse(ctx.Arg(2), out var increment))
        {
            ctx.Error(Errors.NotFloat);
            return;
        }
        var sum = value + increment;
        if (!sum.IsFinite)
        {
            ctx.Error(Errors.IncrementNaNOrInfinity);
            return;
        }
        var text = Encoding.ASCII.GetBytes(sum.ToHumanString());
        if (existing is null)
        {
            ctx.Db.Add(key, StringObject.FromBytes(text));
        }
        else
        {
            existing.SetBytes(text);
            ctx.Db.Touch(key);
        }
        ctx.Notify(NotifyClass.String, "incrbyfloat"u8, key);
        ctx.Reply.Bulk(text);
    }

    /// <summary>Redis's getLongDoubleFromObject: an int-encoded value converts exactly, other strings go through strtold.</summary>
    public static bool TryGetLongDouble(StringObject value, out LongDouble result)
    {
        if (value.IsInteger)
        {
            result = LongDouble.FromInt64(value.Integer);
            return true;
        }
        Span<byte> scratch = stackalloc byte[24];
        return LongDouble.TryParse(value.GetBytes(scratch), out result);
    }

    // APPEND key value
    private static void Append(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        var suffix = ctx.Arg(2);
        if (!ctx.TryGet<StringObject>(key, out var existing)) return;
        if (existing is null)
        {
            ctx.Db.Add(key, new StringObject(suffix));
            ctx.Notify(NotifyClass.String, "append"u8, key);
            ctx.Reply.Integer(suffix.Length);
            return;
        }
        if (!CheckStringLength(ctx, existing.Length, suffix.Length)) return;
        var length = existing.Append(suffix);
        ctx.Db.Touch(key);
        ctx.Notify(NotifyClass.String, "append"u8, key);
        ctx.Reply.Integer(length);
    }

    // STRLEN key
    private static void StrLen(CommandContext ctx)
    {
        if (!TryRead(ctx, ctx.Arg(1), out var value)) return;
        ctx.Reply.Integer(value?.Length ?? 0);
    }

    // GETRANGE key start end
    private static void GetRange(CommandContext ctx)
    {
        if (!ctx.TryGetLong(2, out var start) || !ctx.TryGetLong(3, out var end)) return;
        if (!TryRead(ctx, ctx.Arg(1), out var value)) return;
        if (value is null)
        {
            ctx.Reply.Bulk([]);
            return;
        }
        Span<byte> scratch = stackalloc byte[24];
        var bytes = value.GetBytes(scratch);
        long length = bytes.Length;
        if (start < 0 && end < 0 && start > end)
        {
            ctx.Reply.Bulk([]);
            return;
        }
        if (start < 0) start = Math.Max(0, length + start);
        if (end < 0) end = Math.Max(0, length + end);
        if (end >= length) end = length - 1;
        if (start > end || length == 0)
        {
            ctx.Reply.Bulk([]);
            return;
        }
        ctx.Reply.Bulk(bytes.Slice((int)start, (int)(end - start + 1)));
    }

    // SETRANGE key offset value
    private static void SetRange(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        var value = ctx.Arg(3);
        if (!ctx.TryGetLong(2, out var offset)) return;
        if (offset < 0)
        {
            ctx.Error(Errors.OffsetOutOfRange);
            return;
        }
        if (!ctx.TryGet<StringObject>(key, out var existing)) return;
        if (value.Length == 0)
        {
            ctx.Reply.Integer(existing?.Length ?? 0);
            return;
        }
        if (!CheckStringLength(ctx, offset, value.Length)) return;
        int length;
        if (existing is null)
        {
            var created = StringObject.FromBytes([]);
            length = created.SetRange((int)offset, value);
            ctx.Db.Add(key, created);
        }
        else
        {
            length = existing.SetRange((int)offset, value);
            ctx.Db.Touch(key);
        }
        ctx.Notify(NotifyClass.String, "setrange"u8, key);
        ctx.Reply.Integer(length);
    }

    /// <summary>Redis's checkStringLength: the result may not exceed proto-max-bulk-len.</summary>
    private static bool CheckStringLength(CommandContext ctx, long size, long append)
    {
        // As Redis's checkStringLength, the sum must not wrap around either.
        var total = unchecked((long)((ulong)size + (ulong)append));
        if (total > ctx.Server.Options.ProtoMaxBulkLen || total > Array.MaxLength || total < size || total < append)
        {
            ctx.Error(Errors.StringTooLong);
            return false;
        }
        return true;
    }

    /// <summary>
    /// Redis's parseExtendedStringArgumentsOrReply for SET (from 3) and GETEX (from 2): each option may repeat, but
    /// conflicting ones are a syntax error. <paramref name="expireArg"/> is the index of the expire value, or 0.
    /// </summary>
    private static bool TryParseSetOptions(CommandContext ctx, int from, bool forGetEx, out SetOptions options, out int expireArg)
    {
        const SetOptions timeConflicts = SetOptions.KeepTtl | SetOptions.Persist;
        options = SetOptions.None;
        expireArg = 0;
        for (var j = from; j < ctx.ArgCount; j++)
        {
            var hasNext = j + 1 < ctx.ArgCount;
            if (!forGetEx && ctx.ArgIs(j, "NX"u8) && (options & SetOptions.Xx) == 0)
            {
                options |= SetOptions.Nx;
            }
            else if (!forGetEx && ctx.ArgIs(j, "XX"u8) && (options & SetOptions.Nx) == 0)
            {
                options |= SetOptions.Xx;
            }
            else if (!forGetEx && ctx.ArgIs(j, "GET"u8))
            {
                options |= SetOptions.Get;
            }
            else if (!forGetEx && ctx.ArgIs(j, "KEEPTTL"u8) && (options & (SetOptions.Persist | SetOptions.AnyExpire)) == 0)
            {
                options |= SetOptions.KeepTtl;
            }
            else if (forGetEx && ctx.ArgIs(j, "PERSIST"u8) && (options & (SetOptions.KeepTtl | SetOptions.AnyExpire)) == 0)
            {
                options |= SetOptions.Persist;
            }
            else if (hasNext && TryExpireKeyword(ctx, j, out var unit) && (options & (timeConflicts | (SetOptions.AnyExpire & ~unit))) == 0)
            {
                options |= unit;
                expireArg = ++j;
            }
            else
            {
                ctx.SyntaxError();
                return false;
            }
        }
        return true;
    }

    private static bool TryExpireKeyword(CommandContext ctx, int index, out SetOptions unit)
    {
        unit = ctx.ArgIs(index, "EX"u8) ? SetOptions.Ex
            : ctx.ArgIs(index, "PX"u8) ? SetOptions.Px
            : ctx.ArgIs(index, "EXAT"u8) ? SetOptions.ExAt
            : ctx.ArgIs(index, "PXAT"u8) ? SetOptions.PxAt
            : SetOptions.None;
        return unit != SetOptions.None;
    }

    /// <summary>Redis's getExpireMillisecondsOrReply: a positive time, as absolute Unix milliseconds.</summary>
    private static bool TryGetExpireTime(CommandContext ctx, int index, SetOptions options, out long when)
    {
        if (!ctx.TryGetLong(index, out when)) return false;
        var seconds = (options & (SetOptions.Ex | SetOptions.ExAt)) != 0;
        if (when <= 0 || (seconds && when > long.MaxValue / 1000))
        {
            ctx.Error(Errors.InvalidExpire(ctx.Command.FullName));
            return false;
        }
        if (seconds) when *= 1000;
        if ((options & (SetOptions.Ex | SetOptions.Px)) != 0) when = unchecked(when + ctx.NowMs);
        if (when <= 0)
        {
            ctx.Error(Errors.InvalidExpire(ctx.Command.FullName));
            return false;
        }
        return true;
    }

    /// <summary>Redis's setGenericCommand. <paramref name="okReply"/>: null for +OK/nil, true for SETNX's :1/:0.</summary>
    private static void SetGeneric(CommandContext ctx, SetOptions options, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long when, bool? okReply)
    {
        var db = ctx.Db;
        // GET reads the old value as Redis's getGenericCommand does (a read lookup, counted in INFO).
        var existing = (options & SetOptions.Get) != 0 ? ctx.LookupRead(key) : db.Get(key);
        if ((options & SetOptions.Get) != 0)
        {
            if (existing is not null and not StringObject)
            {
                ctx.WrongType();
                return;
            }
            ReplyValue(ctx, (StringObject?)existing);
        }
        if (((options & SetOptions.Nx) != 0 && existing is not null) || ((options & SetOptions.Xx) != 0 && existing is null))
        {
            if ((options & SetOptions.Get) != 0) return;
            if (okReply is null) ctx.Reply.Null();
            else ctx.Reply.Integer(0);
            return;
        }
        Store(db, key, value, existing, keepTtl: (options & SetOptions.KeepTtl) != 0);
        ctx.Notify(NotifyClass.String, "set"u8, key);
        if (when > 0)
        {
            db.SetExpiry(key, when);
            ctx.Notify(NotifyClass.Generic, "expire"u8, key);
        }
        if ((options & SetOptions.Get) != 0) return;
        if (okReply is null) ctx.Reply.Ok();
        else ctx.Reply.Integer(1);
    }

    /// <summary>Redis's setKey: a string value replaces what the key held, reusing an existing string in place; the TTL goes unless kept.</summary>
    private static void Store(Database db, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, RedisObject? existing, bool keepTtl)
    {
        if (existing is StringObject s)
        {
            s.Set(value);
            if (!keepTtl) db.RemoveExpiry(key);
            db.Touch(key);
        }
        else if (existing is null)
        {
            db.Add(key, new StringObject(value));
        }
        else
        {
            db.Set(key, new StringObject(value), keepTtl);
        }
    }

    /// <summary>A read lookup (Redis's lookupKeyRead): counts a keyspace hit or miss; false (WRONGTYPE written) for another type.</summary>
    private static bool TryRead(CommandContext ctx, ReadOnlySpan<byte> key, out StringObject? value)
    {
        var found = ctx.LookupRead(key);
        if (found is null or StringObject)
        {
            value = (StringObject?)found;
            return true;
        }
        value = null;
        ctx.WrongType();
        return false;
    }

    /// <summary>The value as a bulk string, or the null reply.</summary>
    private static void ReplyValue(CommandContext ctx, StringObject? value)
    {
        if (value is null)
        {
            ctx.Reply.Null();
            return;
        }
        Span<byte> scratch = stackalloc byte[24];
        ctx.Reply.Bulk(value.GetBytes(scratch));
    }
}
