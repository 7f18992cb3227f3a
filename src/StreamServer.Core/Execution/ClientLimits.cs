using Microsoft.Extensions.Logging;
using StreamServer.Commands;
using StreamServer.Configuration;

namespace StreamServer.Execution;

/// <summary>
/// What Redis enforces on clients outside their commands: the idle <c>timeout</c> (clientsCronHandleTimeout) and
/// <c>client-output-buffer-limit</c> (checkClientOutputBufferLimits). Dispatcher thread only.
/// </summary>
public sealed class ClientLimits(ServerContext server)
{
    private readonly ILogger _log = server.LoggerFactory.CreateLogger("StreamServer");

    /// <summary>
    /// From the dispatcher's cron: closes clients idle for more than <c>timeout</c> seconds — not blocked clients
    /// (XREAD BLOCK, with or without a timeout) nor subscribers, as in Redis — and clients over their output buffer
    /// limit. (Redis checks those limits only when output is appended; checking here too also catches a command
    /// reply, and a client that stays over the soft limit with nothing new to receive.)
    /// </summary>
    public void Cron(long nowMs)
    {
        var timeout = server.Options.Timeout;
        foreach (var client in server.Clients.Values)
        {
            if (client.IsClosed || client.CloseRequested) continue;
            if (timeout > 0 && client.Blocked is null && client.SubscriptionCount == 0 && nowMs / 1000 - client.LastInteractionMs / 1000 > timeout)
            {
                _log.LogDebug("Closing idle client");
                client.Transport.Abort();
                continue;
            }
            CloseIfOverOutputBufferLimit(client, nowMs);
        }
    }

    /// <summary>After output was appended outside a command (a published message): closes the client if it is now over its limit.</summary>
    public bool CloseIfOverOutputBufferLimit(ClientSession client) => CloseIfOverOutputBufferLimit(client, server.Clock.NowMs);

    private bool CloseIfOverOutputBufferLimit(ClientSession client, long nowMs)
    {
        if (client.CloseRequested || !IsOverOutputBufferLimit(client, nowMs)) return false;
        var info = ConnectionCommands.Describe(client, nowMs);
        lock (client.ReplyLock) client.Reply.Clear();
        client.Transport.Abort();
        _log.LogWarning("Client {Client} scheduled to be closed ASAP for overcoming of output buffer limits.", info);
        return true;
    }

    /// <summary>Redis's checkClientOutputBufferLimits: the hard limit at once, the soft one after more than its seconds over it.</summary>
    private bool IsOverOutputBufferLimit(ClientSession client, long nowMs)
    {
        var limit = server.Options.ClientOutputBufferLimits[(int)client.OutputClass];
        if (limit.HardBytes == 0 && limit.SoftBytes == 0) return false;
        var used = client.OutputBufferBytes;
        var hard = limit.HardBytes > 0 && used >= limit.HardBytes;
        var soft = limit.SoftBytes > 0 && used >= limit.SoftBytes;
        if (soft)
        {
            if (client.SoftLimitReachedMs == 0)
            {
                client.SoftLimitReachedMs = nowMs;
                soft = false; // the first time over the soft limit only starts the clock
            }
            else if (nowMs / 1000 - client.SoftLimitReachedMs / 1000 <= limit.SoftSeconds)
            {
                soft = false;
            }
        }
        else
        {
            client.SoftLimitReachedMs = 0;
        }
        return hard || soft;
    }
}
