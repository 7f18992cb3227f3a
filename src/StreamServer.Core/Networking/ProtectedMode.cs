using System.Net;
using StreamServer.Configuration;

namespace StreamServer.Networking;

/// <summary>
/// Redis 7's protected mode (clientAcceptHandler): with protected-mode on and no password for the default user,
/// only loopback clients are served; others get <see cref="Denied"/> and are closed. As in Redis 7, the bind
/// addresses play no part (Redis 6.0 dropped the "no bind address" condition of earlier versions).
/// </summary>
public static class ProtectedMode
{
    /// <summary>Redis 7.0's text, verbatim (typo included), without the leading '-'.</summary>
    public const string Denied =
        "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. " +
        "In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to " +
        "Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET " +
        "protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however " +
        "MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. " +
        "2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected " +
        "mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it " +
        "with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to " +
        "do one of the above things in order for the server to start accepting connections from the outside.";

    /// <summary>True when a client from <paramref name="remote"/> ("ip:port") must be refused.</summary>
    public static bool Refuses(ServerOptions options, string remote)
    {
        if (!options.ProtectedMode || options.RequirePass is not null) return false;
        if (!IPEndPoint.TryParse(remote, out var endPoint)) return false; // not TCP (a Unix socket is local)
        var address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        return !IPAddress.IsLoopback(address);
    }
}
