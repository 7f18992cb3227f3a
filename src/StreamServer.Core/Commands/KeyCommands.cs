using StreamServer.Configuration;
using StreamServer.Execution;
using StreamServer.Storage;
using static StreamServer.Execution.CommandFlags;

namespace StreamServer.Commands;

/// <summary>
/// The generic keyspace commands (Redis 7's db.c, expire.c and object.c): DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN,
/// RENAME, RENAMENX, TOUCH, RANDOMKEY, OBJECT, and the EXPIRE/TTL family. They work on every value type.
/// </summary>
public static class KeyCommands
{
    /// <summary>Redis's OBJ_SHARED_REFCOUNT: what OBJECT REFCOUNT reports for the shared integers 0..9999.</summary>
    private const long SharedRefCount = int.MaxValue;
    private const long SharedIntegers = 10000;

    public static void Register(CommandTable t)
    {
        t.Add("del", -2, Write, 1, -1, 1, Del, "generic", "Deletes one or more keys.", complexity: "O(N) where N is the number of keys that will be removed.", categories: ["keyspace", "write", "slow"]);
        t.Add("unlink", -2, Write | Fast, 1, -1, 1, Del, "generic", "Asynchronously deletes one or more keys.", "4.0.0", "O(1) for each key removed regardless of its size.", "keyspace", "write", "fast");
        t.Add("exists", -2, ReadOnly | Fast, 1, -1, 1, Exists, "generic", "Determines whether one or more keys exist.", complexity: "O(N) where N is the number of keys to check.", categories: ["keyspace", "read", "fast"]);
        t.Add("type", 2, ReadOnly | Fast, 1, 1, 1, Type, "generic", "Determines the type of value stored at a key.", categories: ["keyspace", "read", "fast"]);
        t.Add("keys", 2, ReadOnly, 0, 0, 0, Keys, "generic", "Returns all key names that match a pattern.", complexity: "O(N) with N being the number of keys in the database.", categories: ["keyspace", "read", "slow", "dangerous"]);
        t.Add("scan", -2, ReadOnly, 0, 0, 0, Scan, "generic", "Iterates over the key names in the database.", "2.8.0", "O(1) for every call. O(N) for a complete iteration.", "keyspace", "read", "slow");
        t.Add("randomkey", 1, ReadOnly, 0, 0, 0, RandomKey, "generic", "Returns a random key name from the database.", categories: ["keyspace", "read", "slow"]);
        t.Add("rename", 3, Write, 1, 2, 1, Rename, "generic", "Renames a key and overwrites the destination.", categories: ["keyspace", "write", "slow"]);
        t.Add("renamenx", 3, Write | Fast, 1, 2, 1, RenameNx, "generic", "Renames a key only when the target key name doesn't exist.", categories: ["keyspace", "write", "fast"]);
        t.Add("touch", -2, ReadOnly | Fast, 1, -1, 1, Touch, "generic", "Returns the number of existing keys out of those specified after updating the time they were last accessed.", "3.2.1", "O(N) where N is the number of keys that will be touched.", "keyspace", "read", "fast");

        t.Add("expire", -3, Write | Fast, 1, 1, 1, Expire, "generic", "Sets the expiration time of a key in seconds.", categories: ["keyspace", "write", "fast"]);
        t.Add("pexpire", -3, Write | Fast, 1, 1, 1, PExpire, "generic", "Sets the expiration time of a key in milliseconds.", "2.6.0", categories: ["keyspace", "write", "fast"]);
        t.Add("expireat", -3, Write | Fast, 1, 1, 1, ExpireAt, "generic", "Sets the expiration time of a key to a Unix timestamp.", "1.2.0", categories: ["keyspace", "write", "fast"]);
        t.Add("pexpireat", -3, Write | Fast, 1, 1, 1, PExpireAt, "generic", "Sets the expiration time of a key to a Unix milliseconds timestamp.", "2.6.0", categories: ["keyspace", "write", "fast"]);
        t.Add("ttl", 2, ReadOnly | Fast, 1, 1, 1, Ttl, "generic", "Returns the expiration time in seconds of a key.", categories: ["keyspace", "read", "fast"]);
        t.Add("pttl", 2, ReadOnly | Fast, 1, 1, 1, PTtl, "generic", "Returns the expiration time in milliseconds of a key.", "2.6.0", categories: ["keyspace", "read", "fast"]);
        t.Add("expiretime", 2, ReadOnly | Fast, 1, 1, 1, ExpireTime, "generic", "Returns the expiration time of a key as a Unix timestamp.", "7.0.0", categories: ["keyspace", "read", "fast"]);
        t.Add("pexpiretime", 2, ReadOnly | Fast, 1, 1, 1, PExpireTime, "generic", "Returns the expiration time of a key as a Unix milliseconds timestamp.", "7.0.0", categories: ["keyspace", "read", "fast"]);
        t.Add("persist", 2, Write | Fast, 1, 1, 1, Persist, "generic", "Removes the expiration time of a key.", "2.2.0", categories: ["keyspace", "write", "fast"]);

        t.Add("object", -2, None, 0, 0, 0, CommandRegistry.ContainerWithoutSubcommand, "generic", "A container for object introspection commands.", "2.2.3", "Depends on subcommand.", "slow")
            .Sub("encoding", 3, ReadOnly, 2, 2, 1, ObjectEncoding, "Returns the internal encoding of a Redis object.", "2.2.3", categories: ["keyspace", "read", "slow"])
            .Sub("freq", 3, ReadOnly, 2, 2, 1, ObjectFreq, "Returns the logarithmic access frequency counter of a Redis object.", "4.0.0", categories: ["keyspace", "read", "slow"])
            .Sub("idletime", 3, ReadOnly, 2, 2, 1, ObjectIdleTime, "Returns the time since the last access to a Redis object.", "2.2.3", categories: ["keyspace", "read", "slow"])
            .Sub("refcount", 3, ReadOnly, 2, 2, 1, ObjectRefCount, "Returns the reference count of a value of a key.", "2.2.3", categories: ["keyspace", "read", "slow"])
            .Sub("help", 2, Loading | Stale, 0, 0, 0, ObjectHelp, "Returns helpful text about the different subcommands.", "6.2.0", categories: ["keyspace", "slow"]);
    }

    /// <summary>TYPE's name for a value type (also SCAN's TYPE filter).</summary>
    public static string TypeName(RedisType type) => type switch
    {
        RedisType.String => "string",
        RedisType.List => "list",
        RedisType.Set => "set",
        RedisType.ZSet => "zset",
        RedisType.Hash => "hash",
        RedisType.Stream => "stream",
        _ => "none",
    };

    // DEL key [key ...]   /   UNLINK key [key ...]
    private static void Del(CommandContext ctx)
    {
        var deleted = 0;
        for (var i = 1; i < ctx.ArgCount; i++)
        {
            if (!ctx.Db.Delete(ctx.Arg(i))) continue;
            deleted++;
            ctx.Notify(NotifyClass.Generic, "del"u8, ctx.Arg(i));
        }
        ctx.Reply.Integer(deleted);
    }

    // EXISTS key [key ...]
    private static void Exists(CommandContext ctx)
    {
        var count = 0;
        for (var i = 1; i < ctx.ArgCount; i++)
        {
            if (Lookup(ctx, ctx.Arg(i)) is not null) count++;
        }
        ctx.Reply.Integer(count);
    }

    // TYPE key
    private static void Type(CommandContext ctx)
    {
        var value = Lookup(ctx, ctx.Arg(1));
        ctx.Reply.SimpleString(value is null ? "none" : TypeName(value.Type));
    }

    // KEYS pattern
    private static void Keys(CommandContext ctx)
    {
        var pattern = ctx.Arg(1);
        var all = pattern.Length == 1 && pattern[0] == '*';
        var db = ctx.Db;
        var position = ctx.Reply.BeginDeferred();
        var count = 0;
        foreach (var (key, _) in db.Entries)
        {
            if (!all && !Glob.Match(pattern, key)) continue;
            if (db.IsExpired(key)) continue;
            ctx.Reply.Bulk(key);
            count++;
        }
        ctx.Reply.EndDeferredArray(position, count);
    }

    // SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
    private static void Scan(CommandContext ctx)
    {
        if (!TryParseCursor(ctx.Arg(1), out var cursor))
        {
            ctx.Error(Errors.InvalidCursor);
            return;
        }
        var count = 10L;
        var pattern = ReadOnlySpan<byte>.Empty;
        var usePattern = false;
        var typeIndex = 0;
        for (var i = 2; i < ctx.ArgCount; i += 2)
        {
            var hasValue = i + 1 < ctx.ArgCount;
            if (hasValue && ctx.ArgIs(i, "COUNT"u8))
            {
                if (!ctx.TryGetLong(i + 1, out count)) return;
                if (count < 1)
                {
                    ctx.SyntaxError();
                    return;
                }
            }
            else if (hasValue && ctx.ArgIs(i, "MATCH"u8))
            {
                pattern = ctx.Arg(i + 1);
                usePattern = !(pattern.Length == 1 && pattern[0] == '*');
            }
            else if (hasValue && ctx.ArgIs(i, "TYPE"u8))
            {
                typeIndex = i + 1;
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }

        var db = ctx.Db;
        var keys = new List<byte[]>();
        var next = cursor > long.MaxValue ? 0 : db.Scan((long)cursor, (int)Math.Min(count, int.MaxValue), keys);
        var typeFilter = typeIndex > 0 ? ctx.Arg(typeIndex) : default;

        ctx.Reply.Array(2);
        Span<byte> digits = stackalloc byte[24];
        ctx.Reply.Bulk(digits[..Format((ulong)next, digits)]);
        var position = ctx.Reply.BeginDeferred();
        var returned = 0;
        foreach (var key in keys)
        {
            if (usePattern && !Glob.Match(pattern, key)) continue;
            var value = db.Get(key); // an expired key goes now, as Redis's scan does
            if (value is null) continue;
            if (typeIndex > 0 && !CommandContext.EqualsIgnoreCase(typeFilter, UpperTypeName(value.Type))) continue;
            ctx.Reply.Bulk(key);
            returned++;
        }
        ctx.Reply.EndDeferredArray(position, returned);
    }

    private static ReadOnlySpan<byte> UpperTypeName(RedisType type) => type switch
    {
        RedisType.String => "STRING"u8,
        RedisType.List => "LIST"u8,
        RedisType.Set => "SET"u8,
        RedisType.ZSet => "ZSET"u8,
        RedisType.Hash => "HASH"u8,
        RedisType.Stream => "STREAM"u8,
        _ => "NONE"u8,
    };

    /// <summary>Redis's parseScanCursorOrReply: strtoul over the whole text (sign allowed, no leading space, no overflow).</summary>
    public static bool TryParseCursor(ReadOnlySpan<byte> text, out ulong cursor)
    {
        cursor = 0;
        if (text.Length == 0) return true; // strtoul("") is 0 with nothing left over
        var negative = false;
        var i = 0;
        if (text[0] is (byte)'+' or (byte)'-')
        {
            negative = text[0] == '-';
            i = 1;
        }
        if (i == text.Length) return false;
        for (; i < text.Length; i++)
        {
            var c = text[i];
            if (c is < (byte)'0' or > (byte)'9') return false;
            var digit = (ulong)(c - '0');
            if (cursor > (ulong.MaxValue - digit) / 10) return false;
            cursor = cursor * 10 + digit;
        }
        if (negative) cursor = unchecked(0 - cursor);
        return true;
    }

    private static int Format(ulong value, Span<byte> destination)
    {
        System.Buffers.Text.Utf8Formatter.TryFormat(value, destination, out var n);
        return n;
    }

    // RANDOMKEY
    private static void RandomKey(CommandContext ctx)
    {
        var key = ctx.Db.RandomKey(ctx.Server.Random);
        if (key is null) ctx.Reply.Null();
        else ctx.Reply.Bulk(key);
    }

    // RENAME key newkey
    private static void Rename(CommandContext ctx) => RenameGeneric(ctx, nx: false);

    // RENAMENX key newkey
    private static void RenameNx(CommandContext ctx) => RenameGeneric(ctx, nx: true);

    private static void RenameGeneric(CommandContext ctx, bool nx)
    {
        var source = ctx.Arg(1);
        var destination = ctx.Arg(2);
        var db = ctx.Db;
        if (db.Get(source) is null)
        {
            ctx.Error(Errors.NoSuchKey);
            return;
        }
        if (source.SequenceEqual(destination))
        {
            if (nx) ctx.Reply.Integer(0);
            else ctx.Reply.Ok();
            return;
        }
        if (nx && db.Exists(destination))
        {
            ctx.Reply.Integer(0);
            return;
        }
        db.Rename(source, destination);
        ctx.Notify(NotifyClass.Generic, "rename_from"u8, source);
        ctx.Notify(NotifyClass.Generic, "rename_to"u8, destination);
        if (nx) ctx.Reply.Integer(1);
        else ctx.Reply.Ok();
    }

    // TOUCH key [key ...]
    private static void Touch(CommandContext ctx)
    {
        var count = 0;
        for (var i = 1; i < ctx.ArgCount; i++)
        {
            if (Lookup(ctx, ctx.Arg(i)) is not null) count++;
        }
        ctx.Reply.Integer(count);
    }

    // EXPIRE key seconds [NX | XX | GT | LT]
    private static void Expire(CommandContext ctx) => ExpireGeneric(ctx, ctx.NowMs, seconds: true);

    // PEXPIRE key milliseconds [NX | XX | GT | LT]
    private static void PExpire(CommandContext ctx) => ExpireGeneric(ctx, ctx.NowMs, seconds: false);

    // EXPIREAT key unix-time-seconds [NX | XX | GT | LT]
    private static void ExpireAt(CommandContext ctx) => ExpireGeneric(ctx, 0, seconds: true);

    // PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]
    private static void PExpireAt(CommandContext ctx) => ExpireGeneric(ctx, 0, seconds: false);

    /// <summary>Redis's expireGenericCommand: a time in the past deletes the key.</summary>
    private static void ExpireGeneric(CommandContext ctx, long baseTime, bool seconds)
    {
        bool nx = false, xx = false, gt = false, lt = false;
        for (var i = 3; i < ctx.ArgCount; i++)
        {
            if (ctx.ArgIs(i, "NX"u8)) nx = true;
            else if (ctx.ArgIs(i, "XX"u8)) xx = true;
            else if (ctx.ArgIs(i, "GT"u8)) gt = true;
            else if (ctx.ArgIs(i, "LT"u8)) lt = true;
            else
            {
                ctx.Error(Errors.UnsupportedOption(ctx.ArgString(i)));
                return;
            }
        }
        if (nx && (xx || gt || lt))
        {
            ctx.Error(Errors.ExpireNxIncompatible);
            return;
        }
        if (gt && lt)
        {
            ctx.Error(Errors.ExpireGtLtIncompatible);
            return;
        }
        if (!ctx.TryGetLong(2, out var when)) return;
        if (seconds)
        {
            if (when > long.MaxValue / 1000 || when < long.MinValue / 1000)
            {
                ctx.Error(Errors.InvalidExpire(ctx.Command.FullName));
                return;
            }
            when *= 1000;
        }
        if (when > long.MaxValue - baseTime)
        {
            ctx.Error(Errors.InvalidExpire(ctx.Command.FullName));
            return;
        }
        when += baseTime;

        var key = ctx.Arg(1);
        var db = ctx.Db;
        if (db.Get(key) is null)
        {
            ctx.Reply.Integer(0);
            return;
        }
        var current = db.GetExpiry(key);
        // No TTL counts as an infinite one for GT and LT.
        if ((nx && current != -1) || (xx && current == -1)
            || (gt && (current == -1 || when <= current))
            || (lt && current != -1 && when >= current))
        {
            ctx.Reply.Integer(0);
            return;
        }
        if (when <= ctx.NowMs && !db.IsLoading) // checkAlreadyExpired: not while loading the AOF
        {
            db.Delete(key);
            ctx.Notify(NotifyClass.Generic, "del"u8, key);
            ctx.Reply.Integer(1);
        }
        else
        {
            db.SetExpiry(key, when);
            db.Touch(key);
            ctx.Reply.Integer(1);
            ctx.Notify(NotifyClass.Generic, "expire"u8, key);
        }
    }

    // TTL key
    private static void Ttl(CommandContext ctx) => TtlGeneric(ctx, milliseconds: false, absolute: false);

    // PTTL key
    private static void PTtl(CommandContext ctx) => TtlGeneric(ctx, milliseconds: true, absolute: false);

    // EXPIRETIME key
    private static void ExpireTime(CommandContext ctx) => TtlGeneric(ctx, milliseconds: false, absolute: true);

    // PEXPIRETIME key
    private static void PExpireTime(CommandContext ctx) => TtlGeneric(ctx, milliseconds: true, absolute: true);

    private static void TtlGeneric(CommandContext ctx, bool milliseconds, bool absolute)
    {
        var key = ctx.Arg(1);
        if (Lookup(ctx, key) is null)
        {
            ctx.Reply.Integer(-2);
            return;
        }
        var when = ctx.Db.GetExpiry(key);
        if (when == -1)
        {
            ctx.Reply.Integer(-1);
            return;
        }
        var ttl = Math.Max(0, absolute ? when : when - ctx.NowMs);
        ctx.Reply.Integer(milliseconds ? ttl : (ttl + 500) / 1000);
    }

    // PERSIST key
    private static void Persist(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        var db = ctx.Db;
        if (db.Get(key) is not null && db.RemoveExpiry(key))
        {
            db.Touch(key);
            ctx.Notify(NotifyClass.Generic, "persist"u8, key);
            ctx.Reply.Integer(1);
        }
        else
        {
            ctx.Reply.Integer(0);
        }
    }

    // OBJECT ENCODING key
    private static void ObjectEncoding(CommandContext ctx)
    {
        var value = ctx.LookupRead(ctx.Arg(2), notify: false);
        if (value is null) ctx.Reply.Null();
        else ctx.Reply.Bulk(value.Encoding);
    }

    // OBJECT FREQ key
    private static void ObjectFreq(CommandContext ctx)
    {
        if (ctx.LookupRead(ctx.Arg(2), notify: false) is null) ctx.Reply.Null();
        else ctx.Error(Errors.LfuNotSelected); // maxmemory-policy is never an LFU one here
    }

    // OBJECT IDLETIME key
    private static void ObjectIdleTime(CommandContext ctx)
    {
        // Access times are not tracked (no LRU eviction): every live key reads as just used.
        if (ctx.LookupRead(ctx.Arg(2), notify: false) is null) ctx.Reply.Null();
        else ctx.Reply.Integer(0);
    }

    // OBJECT REFCOUNT key
    private static void ObjectRefCount(CommandContext ctx)
    {
        var value = ctx.LookupRead(ctx.Arg(2), notify: false);
        if (value is null)
        {
            ctx.Reply.Null();
            return;
        }
        // Redis shares one object for each of the integers 0..9999 and reports it as referenced INT_MAX times.
        var shared = value is StringObject { IsInteger: true } s && s.Integer is >= 0 and < SharedIntegers;
        ctx.Reply.Integer(shared ? SharedRefCount : 1);
    }

    // OBJECT HELP
    private static void ObjectHelp(CommandContext ctx)
    {
        string[] lines =
        [
            "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
            "HELP",
            "    Prints this help.",
        ];
        ConnectionCommands.HelpReply(ctx, lines);
    }

    /// <summary>A read lookup (Redis's lookupKeyRead): counts a keyspace hit or miss, a miss publishes "keymiss".</summary>
    private static RedisObject? Lookup(CommandContext ctx, ReadOnlySpan<byte> key) => ctx.LookupRead(key);
}
