using System.Text;
using StreamServer.Execution;
using static StreamServer.Execution.CommandFlags;

namespace StreamServer.Commands;

/// <summary>PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET, CLIENT …, READONLY/READWRITE.</summary>
public static class ConnectionCommands
{
    /// <summary>The Redis version whose behaviour we present (HELLO, INFO redis_version).</summary>
    public const string RedisVersion = "8.10.0";

    public static void Register(CommandTable t)
    {
        t.Add("ping", -1, Fast | Sentinel, 0, 0, 0, Ping, "connection", "Returns the server's liveliness response.", categories: ["fast", "connection"]);
        t.Add("echo", 2, Fast, 0, 0, 0, Echo, "connection", "Returns the given string.", categories: ["fast", "connection"]);
        t.Add("hello", -1, NoScript | Loading | Stale | Fast | NoAuth | Sentinel | AllowBusy, 0, 0, 0, Hello, "connection", "Handshakes with the Redis server.", "6.0.0", categories: ["fast", "connection"]);
        t.Add("auth", -2, NoScript | Loading | Stale | Fast | NoAuth | Sentinel | AllowBusy, 0, 0, 0, Auth, "connection", "Authenticates the connection.", categories: ["fast", "connection"]);
        t.Add("select", 2, Loading | Stale | Fast, 0, 0, 0, Select, "connection", "Changes the selected database.", categories: ["fast", "connection"]);
        t.Add("quit", -1, AllowBusy | NoScript | Loading | Stale | Fast | NoAuth, 0, 0, 0, Quit, "connection", "Closes the connection.", categories: ["fast", "connection"]);
        t.Add("reset", 1, NoScript | Loading | Stale | Fast | NoAuth | AllowBusy, 0, 0, 0, Reset, "connection", "Resets the connection.", "6.2.0", categories: ["fast", "connection"]);
        t.Add("readonly", 1, Loading | Stale | Fast, 0, 0, 0, ReadOnlyMode, "cluster", "Enables read-only queries for a connection to a Redis Cluster replica node.", "3.0.0", categories: ["fast", "connection"]);
        t.Add("readwrite", 1, Loading | Stale | Fast, 0, 0, 0, ReadOnlyMode, "cluster", "Enables read-write queries for a connection to a Reids Cluster replica node.", "3.0.0", categories: ["fast", "connection"]);

        t.Add("client", -2, Sentinel, 0, 0, 0, CommandRegistry.ContainerWithoutSubcommand, "connection", "A container for client connection commands.", "2.4.0", "Depends on subcommand.", "slow")
            .Sub("id", 2, NoScript | Loading | Stale | Sentinel, 0, 0, 0, ClientId, "Returns the unique client ID of the connection.", "5.0.0", categories: ["slow", "connection"])
            .Sub("setname", 3, NoScript | Loading | Stale | Sentinel, 0, 0, 0, ClientSetName, "Sets the connection name.", "2.6.9", categories: ["slow", "connection"])
            .Sub("getname", 2, NoScript | Loading | Stale | Sentinel, 0, 0, 0, ClientGetName, "Returns the name of the connection.", "2.6.9", categories: ["slow", "connection"])
            .Sub("setinfo", 4, NoScript | Loading | Stale | Sentinel, 0, 0, 0, ClientSetInfo, "Sets information specific to the client or connection.", "7.2.0", categories: ["slow", "connection"])
            .Sub("info", 2, NoScript | Loading | Stale | Sentinel, 0, 0, 0, ClientInfo, "Returns information about the connection.", "6.2.0", categories: ["slow", "connection"])
            .Sub("list", -2, Admin | NoScript | Loading | Stale | Sentinel, 0, 0, 0, ClientList, "Lists open connections.", "2.4.0", "O(N)", "admin", "slow", "dangerous", "connection")
            .Sub("kill", -3, Admin | NoScript | Loading | Stale | Sentinel, 0, 0, 0, ClientKill, "Terminates open connections.", "2.4.0", "O(N)", "admin", "slow", "dangerous", "connection")
            .Sub("no-evict", 3, Admin | NoScript | Loading | Stale | Sentinel, 0, 0, 0, ClientNoEvict, "Sets the client eviction mode of the connection.", "7.0.0", categories: ["admin", "slow", "dangerous", "connection"])
            .Sub("no-touch", 3, NoScript | Loading | Stale | Sentinel, 0, 0, 0, ClientNoTouch, "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", "7.2.0", categories: ["slow", "connection"])
            .Sub("unblock", -3, Admin | NoScript | Loading | Stale | Sentinel, 0, 0, 0, ClientUnblock, "Unblocks a client blocked by a blocking command from a different connection.", "5.0.0", "O(log N)", "admin", "slow", "dangerous", "connection")
            .Sub("help", 2, Loading | Stale | Sentinel, 0, 0, 0, ClientHelp, "Returns helpful text about the different subcommands.", "5.0.0", categories: ["slow", "connection"]);
    }

    // PING [message]
    private static void Ping(CommandContext ctx)
    {
        if (ctx.ArgCount > 2)
        {
            ctx.Error(Errors.WrongArity("ping"));
            return;
        }
        if (ctx.Client.SubscriptionCount > 0 && !ctx.Reply.IsResp3)
        {
            // RESP2 subscriber context: PING answers as a message-like array (Redis's pubsub ping).
            ctx.Reply.Array(2);
            ctx.Reply.Bulk("pong"u8);
            if (ctx.ArgCount == 1) ctx.Reply.Bulk(""u8);
            else ctx.Reply.Bulk(ctx.Arg(1));
            return;
        }
        if (ctx.ArgCount == 1) ctx.Reply.Raw("+PONG\r\n"u8);
        else ctx.Reply.Bulk(ctx.Arg(1));
    }

    // ECHO message
    private static void Echo(CommandContext ctx) => ctx.Reply.Bulk(ctx.Arg(1));

    // HELLO [protover [AUTH username password] [SETNAME clientname]]
    private static void Hello(CommandContext ctx)
    {
        var client = ctx.Client;
        var version = ctx.Reply.Protocol;
        var next = 1;
        if (ctx.ArgCount >= 2)
        {
            if (!CommandContext.TryParseLong(ctx.Arg(1), out var v))
            {
                ctx.Error("ERR Protocol version is not an integer or out of range");
                return;
            }
            if (v < 2 || v > 3)
            {
                ctx.Error("NOPROTO unsupported protocol version");
                return;
            }
            version = (int)v;
            next = 2;
        }
        string? setName = null;
        for (var i = next; i < ctx.ArgCount; i++)
        {
            var more = ctx.ArgCount - i - 1;
            if (ctx.ArgIs(i, "AUTH"u8) && more >= 2)
            {
                if (!CheckPassword(ctx, ctx.Arg(i + 1), ctx.Arg(i + 2))) return;
                i += 2;
            }
            else if (ctx.ArgIs(i, "SETNAME"u8) && more >= 1)
            {
                setName = ctx.ArgString(i + 1);
                if (!ValidClientName(setName))
                {
                    ctx.Error("ERR Client names cannot contain spaces, newlines or special characters.");
                    return;
                }
                i += 1;
            }
            else
            {
                ctx.Error($"ERR Syntax error in HELLO option '{ctx.ArgString(i)}'");
                return;
            }
        }
        if (!client.Authenticated)
        {
            ctx.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
            return;
        }
        if (setName is not null) client.Name = setName.Length == 0 ? null : setName;
        ctx.Reply.Protocol = version;

        var r = ctx.Reply;
        r.Map(7);
        r.Bulk("server"u8); r.Bulk("redis"u8);
        r.Bulk("version"u8); r.Bulk(RedisVersion);
        r.Bulk("proto"u8); r.Integer(version);
        r.Bulk("id"u8); r.Integer(client.Id);
        r.Bulk("mode"u8); r.Bulk("standalone"u8);
        r.Bulk("role"u8); r.Bulk("master"u8);
        r.Bulk("modules"u8); r.EmptyArray();
    }

    // AUTH [username] password
    private static void Auth(CommandContext ctx)
    {
        if (ctx.ArgCount > 3)
        {
            ctx.SyntaxError();
            return;
        }
        if (ctx.ArgCount == 2 && ctx.Server.Options.RequirePass is null)
        {
            ctx.Error(Errors.AuthNotConfigured);
            return;
        }
        var user = ctx.ArgCount == 3 ? ctx.Arg(1) : "default"u8;
        if (CheckPassword(ctx, user, ctx.Arg(ctx.ArgCount - 1))) ctx.Reply.Ok();
    }

    private static bool CheckPassword(CommandContext ctx, ReadOnlySpan<byte> user, ReadOnlySpan<byte> password)
    {
        var required = ctx.Server.Options.RequirePass;
        var ok = user.SequenceEqual("default"u8)
            && (required is null || System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(required), password));
        if (!ok)
        {
            ctx.Error(Errors.WrongPass);
            return false;
        }
        ctx.Client.Authenticated = true;
        return true;
    }

    // SELECT index
    private static void Select(CommandContext ctx)
    {
        if (!CommandContext.TryParseLong(ctx.Arg(1), out var index))
        {
            ctx.Error(Errors.NotInteger);
            return;
        }
        if (index < 0 || index >= ctx.Server.Keyspace.Count)
        {
            ctx.Error(Errors.DbIndexOutOfRange);
            return;
        }
        ctx.Client.DbIndex = (int)index;
        ctx.Reply.Ok();
    }

    // QUIT
    private static void Quit(CommandContext ctx)
    {
        ctx.Reply.Ok();
        ctx.Client.Transport.CloseAfterReply();
        ctx.Client.CloseRequested = true;
    }

    // RESET
    private static void Reset(CommandContext ctx)
    {
        var client = ctx.Client;
        client.InMulti = false;
        client.MultiDirty = false;
        client.MultiQueue = null;
        ctx.Server.Watches.UnwatchAll(client);
        PubSubCommands.UnsubscribeAll(ctx, notify: false);
        ctx.Server.Monitors.Remove(client);
        client.DbIndex = 0;
        client.Name = null;
        client.NoEvict = false;
        client.NoTouch = false;
        ctx.Reply.Protocol = 2;
        client.Authenticated = ctx.Server.Options.RequirePass is null;
        ctx.Reply.SimpleString("RESET"u8);
    }

    // READONLY / READWRITE
    private static void ReadOnlyMode(CommandContext ctx) => ctx.Error("ERR This instance has cluster support disabled");

    // CLIENT ID
    private static void ClientId(CommandContext ctx) => ctx.Reply.Integer(ctx.Client.Id);

    // CLIENT SETNAME connection-name
    private static void ClientSetName(CommandContext ctx)
    {
        var name = ctx.ArgString(2);
        if (!ValidClientName(name))
        {
            ctx.Error("ERR Client names cannot contain spaces, newlines or special characters.");
            return;
        }
        ctx.Client.Name = name.Length == 0 ? null : name;
        ctx.Reply.Ok();
    }

    internal static bool ValidClientName(string name)
    {
        foreach (var c in name)
        {
            if (c < '!' || c > '~') return false;
        }
        return true;
    }

    // CLIENT GETNAME
    private static void ClientGetName(CommandContext ctx)
    {
        if (ctx.Client.Name is null) ctx.Reply.Null();
        else ctx.Reply.Bulk(ctx.Client.Name);
    }

    // CLIENT SETINFO LIB-NAME libname | LIB-VER libver   (Redis 7.2: the option is checked before the value)
    private static void ClientSetInfo(CommandContext ctx)
    {
        var isName = ctx.ArgIs(2, "LIB-NAME"u8);
        if (!isName && !ctx.ArgIs(2, "LIB-VER"u8))
        {
            ctx.Error($"ERR Unrecognized option '{ctx.ArgString(2)}'");
            return;
        }
        var value = ctx.ArgString(3);
        if (!ValidClientName(value))
        {
            ctx.Error($"ERR {ctx.ArgString(2)} cannot contain spaces, newlines or special characters.");
            return;
        }
        var stored = value.Length == 0 ? null : value;
        if (isName) ctx.Client.LibName = stored;
        else ctx.Client.LibVersion = stored;
        ctx.Reply.Ok();
    }

    // CLIENT INFO
    private static void ClientInfo(CommandContext ctx) => ctx.Reply.Verbatim(Encoding.UTF8.GetBytes(Describe(ctx.Client, ctx.NowMs) + "\n"));

    // CLIENT LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id [client-id ...]]
    private static void ClientList(CommandContext ctx)
    {
        HashSet<long>? ids = null;
        string? type = null;
        for (var i = 2; i < ctx.ArgCount; i++)
        {
            if (ctx.ArgIs(i, "TYPE"u8) && i + 1 < ctx.ArgCount)
            {
                type = ctx.ArgString(++i).ToLowerInvariant();
                if (type is not ("normal" or "master" or "replica" or "slave" or "pubsub"))
                {
                    ctx.Error($"ERR Unknown client type '{ctx.ArgString(i)}'");
                    return;
                }
            }
            else if (ctx.ArgIs(i, "ID"u8) && i + 1 < ctx.ArgCount)
            {
                ids = [];
                for (i++; i < ctx.ArgCount; i++)
                {
                    if (!CommandContext.TryParseLong(ctx.Arg(i), out var id) || id <= 0)
                    {
                        ctx.Error("ERR Invalid client ID");
                        return;
                    }
                    ids.Add(id);
                }
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        var sb = new StringBuilder();
        foreach (var c in ctx.Server.Clients.Values.OrderBy(c => c.Id))
        {
            if (ids is not null && !ids.Contains(c.Id)) continue;
            if (type is not null)
            {
                var isPubSub = c.SubscriptionCount > 0;
                if (type == "pubsub" != isPubSub || type is "master" or "replica" or "slave") continue;
            }
            sb.Append(Describe(c, ctx.NowMs)).Append('\n');
        }
        ctx.Reply.Verbatim(Encoding.UTF8.GetBytes(sb.ToString()));
    }

    /// <summary>One CLIENT LIST line, with Redis 7's fields (also how the log names a client, as Redis's catClientInfoString).</summary>
    internal static string Describe(ClientSession c, long now)
    {
        var flags = new StringBuilder();
        if (c.IsMonitor) flags.Append('O');
        if (c.SubscriptionCount > 0) flags.Append('P');
        if (c.InMulti) flags.Append('x');
        if (c.Blocked is not null) flags.Append('b');
        if (c.CloseRequested) flags.Append('c');
        if (c.NoEvict) flags.Append('e');
        if (c.NoTouch) flags.Append('T');
        if (flags.Length == 0) flags.Append('N');
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"id={c.Id} addr={c.Transport.RemoteEndPoint} laddr={c.Transport.LocalEndPoint} fd=8 name={c.Name} age={(now - c.CreatedMs) / 1000} idle={(now - c.LastInteractionMs) / 1000} flags={flags} db={c.DbIndex} sub={c.Channels?.Count ?? 0} psub={c.Patterns?.Count ?? 0} ssub=0 multi={(c.InMulti ? c.MultiQueue?.Count ?? 0 : -1)} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem={c.OutputBufferBytes} tot-mem=1024 events=r cmd={c.LastCommand} user=default redir=-1 resp={c.Reply.Protocol} lib-name={c.LibName} lib-ver={c.LibVersion}");
    }

    // CLIENT KILL ip:port | [ID id] [ADDR ip:port] [LADDR ip:port] [TYPE type] [USER u] [SKIPME yes|no]
    private static void ClientKill(CommandContext ctx)
    {
        var clients = ctx.Server.Clients.Values.ToList();
        if (ctx.ArgCount == 3)
        {
            var addr = ctx.ArgString(2);
            var target = clients.FirstOrDefault(c => c.Transport.RemoteEndPoint == addr);
            if (target is null)
            {
                ctx.Error("ERR No such client");
                return;
            }
            Kill(ctx, target);
            ctx.Reply.Ok();
            return;
        }
        long? id = null;
        string? addrFilter = null, laddrFilter = null, typeFilter = null, userFilter = null;
        var skipMe = true;
        if ((ctx.ArgCount - 2) % 2 != 0)
        {
            ctx.SyntaxError();
            return;
        }
        for (var i = 2; i < ctx.ArgCount; i += 2)
        {
            var value = ctx.ArgString(i + 1);
            if (ctx.ArgIs(i, "ID"u8))
            {
                if (!CommandContext.TryParseLong(ctx.Arg(i + 1), out var v) || v <= 0)
                {
                    ctx.Error("ERR client-id should be greater than 0");
                    return;
                }
                id = v;
            }
            else if (ctx.ArgIs(i, "ADDR"u8)) addrFilter = value;
            else if (ctx.ArgIs(i, "LADDR"u8)) laddrFilter = value;
            else if (ctx.ArgIs(i, "TYPE"u8))
            {
                typeFilter = value.ToLowerInvariant();
                if (typeFilter is not ("normal" or "master" or "replica" or "slave" or "pubsub"))
                {
                    ctx.Error($"ERR Unknown client type '{value}'");
                    return;
                }
            }
            else if (ctx.ArgIs(i, "USER"u8)) userFilter = value;
            else if (ctx.ArgIs(i, "SKIPME"u8))
            {
                if (value.Equals("yes", StringComparison.OrdinalIgnoreCase)) skipMe = true;
                else if (value.Equals("no", StringComparison.OrdinalIgnoreCase)) skipMe = false;
                else
                {
                    ctx.SyntaxError();
                    return;
                }
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        var killed = 0;
        foreach (var c in clients)
        {
            if (id is not null && c.Id != id) continue;
            if (addrFilter is not null && c.Transport.RemoteEndPoint != addrFilter) continue;
            if (laddrFilter is not null && c.Transport.LocalEndPoint != laddrFilter) continue;
            if (typeFilter is not null && (typeFilter == "pubsub") != (c.SubscriptionCount > 0)) continue;
            if (typeFilter is "master" or "replica" or "slave") continue;
            if (userFilter is not null && userFilter != "default") continue;
            if (skipMe && c == ctx.Client) continue;
            Kill(ctx, c);
            killed++;
        }
        ctx.Reply.Integer(killed);
    }

    private static void Kill(CommandContext ctx, ClientSession target)
    {
        target.CloseRequested = true;
        if (target.Blocked is not null)
        {
            ctx.Server.Blocking.Unblock(target);
            ctx.Server.PendingResumes.Add(target);
        }
        target.Transport.CloseAfterReply();
    }

    // CLIENT NO-EVICT ON|OFF
    private static void ClientNoEvict(CommandContext ctx) => OnOff(ctx, v => ctx.Client.NoEvict = v);

    // CLIENT NO-TOUCH ON|OFF
    private static void ClientNoTouch(CommandContext ctx) => OnOff(ctx, v => ctx.Client.NoTouch = v);

    private static void OnOff(CommandContext ctx, Action<bool> set)
    {
        if (ctx.ArgIs(2, "ON"u8)) set(true);
        else if (ctx.ArgIs(2, "OFF"u8)) set(false);
        else
        {
            ctx.SyntaxError();
            return;
        }
        ctx.Reply.Ok();
    }

    // CLIENT UNBLOCK client-id [TIMEOUT|ERROR]
    private static void ClientUnblock(CommandContext ctx)
    {
        if (ctx.ArgCount > 4)
        {
            ctx.SyntaxError();
            return;
        }
        if (!CommandContext.TryParseLong(ctx.Arg(2), out var id))
        {
            ctx.Error(Errors.NotInteger);
            return;
        }
        var error = false;
        if (ctx.ArgCount == 4)
        {
            if (ctx.ArgIs(3, "ERROR"u8)) error = true;
            else if (!ctx.ArgIs(3, "TIMEOUT"u8))
            {
                ctx.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
                return;
            }
        }
        if (!ctx.Server.Clients.TryGetValue(id, out var target) || target.Blocked is null)
        {
            ctx.Reply.Integer(0);
            return;
        }
        var state = target.Blocked;
        ctx.Server.Blocking.Unblock(target);
        lock (target.ReplyLock)
        {
            if (error) target.Reply.Error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
            else if (state.OnTimeout is null) target.Reply.NullArray();
            else state.OnTimeout(target.Reply);
        }
        ctx.Server.PendingResumes.Add(target);
        ctx.Reply.Integer(1);
    }

    // CLIENT HELP
    private static void ClientHelp(CommandContext ctx)
    {
        string[] lines =
        [
            "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "    * ID <client-id>",
            "      Kill connections by client id.",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are:",
            "    * LIB-NAME: the client lib name.",
            "    * LIB-VER: the client lib version.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            "NO-TOUCH (ON|OFF)",
            "    Will not touch LRU/LFU stats when this mode is on.",
            "HELP",
            "    Print this help.",
        ];
        HelpReply(ctx, lines);
    }

    /// <summary>Redis's addReplyHelp: status lines in an array.</summary>
    public static void HelpReply(CommandContext ctx, string[] lines)
    {
        ctx.Reply.Array(lines.Length);
        foreach (var line in lines) ctx.Reply.SimpleString(line);
    }
}
