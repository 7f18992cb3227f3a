using System.Runtime.CompilerServices;
using StreamServer.Configuration;
using StreamServer.Storage;

namespace StreamServer.Execution;

/// <summary>
/// Channel and pattern subscriptions across clients (Redis's server.pubsub_channels / pubsub_patterns), and the
/// delivery of published messages into subscribers' reply buffers. Dispatcher thread only.
/// </summary>
public sealed class PubSubRegistry(ClientLimits limits)
{
    /// <summary>Which registry a subscribed client belongs to, so a closing connection can be cleaned up from a static hook.</summary>
    private static readonly ConditionalWeakTable<ClientSession, PubSubRegistry> Owners = new();

    public Dictionary<byte[], List<ClientSession>> Channels { get; } = new(ByteArrayComparer.Instance);

    public Dictionary<byte[], List<ClientSession>> Patterns { get; } = new(ByteArrayComparer.Instance);

    /// <summary>Messages for the client whose command published them, held until its reply is written.</summary>
    private readonly Protocol.RespWriter _callerPushes = new(256);
    private ClientSession? _caller;

    /// <summary>True when a command's own client has messages waiting for the end of the command.</summary>
    public bool HasPushesForCaller => _caller is not null;

    /// <summary>The client whose command is running (set by the dispatcher around each command), or null.</summary>
    public ClientSession? Executing { get; set; }

    /// <summary>The registry <paramref name="client"/> has subscribed through, if any.</summary>
    public static PubSubRegistry? OwnerOf(ClientSession client) => Owners.TryGetValue(client, out var owner) ? owner : null;

    /// <summary>Adds a channel subscription; false when the client already had it.</summary>
    public bool Subscribe(ClientSession client, ReadOnlySpan<byte> channel)
        => Add(client, client.Channels ??= new HashSet<byte[]>(ByteArrayComparer.Instance), Channels, channel);

    public bool Unsubscribe(ClientSession client, ReadOnlySpan<byte> channel) => Remove(client, client.Channels, Channels, channel);

    public bool PSubscribe(ClientSession client, ReadOnlySpan<byte> pattern)
        => Add(client, client.Patterns ??= new HashSet<byte[]>(ByteArrayComparer.Instance), Patterns, pattern);

    public bool PUnsubscribe(ClientSession client, ReadOnlySpan<byte> pattern) => Remove(client, client.Patterns, Patterns, pattern);

    /// <summary>Drops every subscription of a client that went away.</summary>
    public void RemoveClient(ClientSession client)
    {
        if (client.Channels is { } channels)
        {
            foreach (var channel in channels.ToArray()) Unsubscribe(client, channel);
        }
        if (client.Patterns is { } patterns)
        {
            foreach (var pattern in patterns.ToArray()) PUnsubscribe(client, pattern);
        }
        Owners.Remove(client);
    }

    /// <summary>Number of subscribers of a channel (PUBSUB NUMSUB).</summary>
    public int SubscriberCount(ReadOnlySpan<byte> channel)
        => Channels.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(channel, out var clients) ? clients.Count : 0;

    /// <summary>
    /// Delivers a message to the channel's subscribers and to clients whose patterns match it; returns how many
    /// deliveries were made (Redis counts a client once per matching subscription). Other clients are asked to
    /// send what was written; <paramref name="publisher"/> sends it with its own reply. With
    /// <paramref name="afterReply"/> (keyspace events), the copy for the client whose command is running waits until
    /// that command has written its reply (<see cref="DeliverPushesForCaller"/>), as Redis 7.2+ does: a push never
    /// lands inside a reply.
    /// </summary>
    public int Publish(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message, ClientSession? publisher, bool afterReply = false)
    {
        var receivers = 0;
        if (Channels.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(channel, out var subscribers))
        {
            foreach (var client in subscribers)
            {
                if (client.IsClosed) continue;
                receivers++;
                if (client.CloseRequested) continue; // on its way out (QUIT, output buffer limit): counted, as Redis, not written
                lock (client.ReplyLock)
                {
                    var reply = ReplyFor(client, afterReply);
                    reply.Push(3);
                    reply.Bulk("message"u8);
                    reply.Bulk(channel);
                    reply.Bulk(message);
                }
                if (client != publisher && client != Executing && !limits.CloseIfOverOutputBufferLimit(client)) client.Transport.RequestFlush();
            }
        }
        if (Patterns.Count > 0)
        {
            foreach (var (pattern, clients) in Patterns)
            {
                if (!Glob.Match(pattern, channel)) continue;
                foreach (var client in clients)
                {
                    if (client.IsClosed) continue;
                    receivers++;
                    if (client.CloseRequested) continue;
                    lock (client.ReplyLock)
                    {
                        var reply = ReplyFor(client, afterReply);
                        reply.Push(4);
                        reply.Bulk("pmessage"u8);
                        reply.Bulk(pattern);
                        reply.Bulk(channel);
                        reply.Bulk(message);
                    }
                    if (client != publisher && client != Executing && !limits.CloseIfOverOutputBufferLimit(client)) client.Transport.RequestFlush();
                }
            }
        }
        return receivers;
    }

    /// <summary>Where a message for <paramref name="client"/> is written: its reply, or the caller's held pushes.</summary>
    private Protocol.RespWriter ReplyFor(ClientSession client, bool afterReply)
    {
        if (!afterReply || client != Executing) return client.Reply;
        _caller = client;
        _callerPushes.Protocol = client.Reply.Protocol;
        return _callerPushes;
    }

    /// <summary>After a command (not one inside EXEC): its client's held messages follow its reply.</summary>
    public void DeliverPushesForCaller()
    {
        var caller = _caller!;
        _caller = null;
        lock (caller.ReplyLock) caller.Reply.Raw(_callerPushes.WrittenSpan);
        _callerPushes.Clear();
    }

    private bool Add(ClientSession client, HashSet<byte[]> own, Dictionary<byte[], List<ClientSession>> all, ReadOnlySpan<byte> name)
    {
        var lookup = own.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (lookup.Contains(name)) return false;
        var allLookup = all.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (!allLookup.TryGetValue(name, out var storedName, out var clients))
        {
            storedName = name.ToArray();
            all[storedName] = clients = [];
        }
        own.Add(storedName);
        clients.Add(client);
        Owners.AddOrUpdate(client, this);
        return true;
    }

    private static bool Remove(ClientSession client, HashSet<byte[]>? own, Dictionary<byte[], List<ClientSession>> all, ReadOnlySpan<byte> name)
    {
        if (own is null || !own.GetAlternateLookup<ReadOnlySpan<byte>>().Remove(name)) return false;
        var allLookup = all.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (allLookup.TryGetValue(name, out var storedName, out var clients))
        {
            clients.Remove(client);
            if (clients.Count == 0) all.Remove(storedName);
        }
        return true;
    }
}
