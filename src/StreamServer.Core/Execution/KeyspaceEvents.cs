using System.Buffers.Text;
using System.Text;
using StreamServer.Configuration;

namespace StreamServer.Execution;

/// <summary>Classes of keyspace events (Redis's NOTIFY_* flags), one character each in notify-keyspace-events.</summary>
[Flags]
public enum NotifyClass
{
    None = 0,
    Keyspace = 1 << 0, // K: __keyspace@<db>__:<key> with the event as message
    Keyevent = 1 << 1, // E: __keyevent@<db>__:<event> with the key as message
    Generic = 1 << 2,  // g: DEL, EXPIRE, RENAME, …
    String = 1 << 3,   // $
    List = 1 << 4,     // l (no lists here: accepted, nothing to notify)
    Set = 1 << 5,      // s
    Hash = 1 << 6,     // h
    ZSet = 1 << 7,     // z (no sorted sets here)
    Expired = 1 << 8,  // x: a key's time ran out
    Evicted = 1 << 9,  // e (no eviction here)
    Stream = 1 << 10,  // t
    KeyMiss = 1 << 11, // m
    Module = 1 << 12,  // d (no modules here)
    New = 1 << 13,     // n: a key was added
    /// <summary>A: every class but K, E, m and n (Redis's NOTIFY_ALL).</summary>
    All = Generic | String | List | Set | Hash | ZSet | Expired | Evicted | Stream | Module,
}

/// <summary>
/// Keyspace notifications (Redis's notify.c): events about keys published on Pub/Sub channels, for the classes that
/// notify-keyspace-events enables. A command calls <see cref="Notify"/> where Redis calls notifyKeyspaceEvent; with
/// the feature off (the default) that costs one test. Channel names are built in a buffer of its own, so an event
/// allocates nothing. Dispatcher thread only.
/// </summary>
public sealed class KeyspaceEvents(PubSubRegistry pubSub, ServerOptions options)
{
    private byte[] _channel = new byte[128];

    /// <summary>
    /// Publishes <paramref name="eventName"/> about <paramref name="key"/> in database <paramref name="db"/> if its
    /// class is enabled. The client whose command is running, if it subscribed to the event (RESP3), gets its message
    /// after that command's reply, never inside it (<see cref="PubSubRegistry.Executing"/>).
    /// </summary>
    public void Notify(NotifyClass type, ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> key, int db)
    {
        var enabled = options.NotifyKeyspaceEvents;
        if ((enabled & type) == 0) return;
        if ((enabled & NotifyClass.Keyspace) != 0) pubSub.Publish(Channel("__keyspace@"u8, db, key), eventName, publisher: null, afterReply: true);
        if ((enabled & NotifyClass.Keyevent) != 0) pubSub.Publish(Channel("__keyevent@"u8, db, eventName), key, publisher: null, afterReply: true);
    }

    /// <summary><paramref name="prefix"/>, the database number, <c>__:</c> and <paramref name="suffix"/>.</summary>
    private ReadOnlySpan<byte> Channel(ReadOnlySpan<byte> prefix, int db, ReadOnlySpan<byte> suffix)
    {
        var needed = prefix.Length + 11 + 3 + suffix.Length;
        if (_channel.Length < needed) _channel = new byte[Math.Max(needed, 2 * _channel.Length)];
        var span = _channel.AsSpan();
        prefix.CopyTo(span);
        var at = prefix.Length;
        Utf8Formatter.TryFormat(db, span[at..], out var written);
        at += written;
        "__:"u8.CopyTo(span[at..]);
        at += 3;
        suffix.CopyTo(span[at..]);
        return span[..(at + suffix.Length)];
    }

    /// <summary>Redis's keyspaceEventsStringToFlags: false on a character that names no class.</summary>
    public static bool TryParse(string classes, out NotifyClass flags)
    {
        flags = NotifyClass.None;
        foreach (var c in classes)
        {
            flags |= c switch
            {
                'A' => NotifyClass.All,
                'g' => NotifyClass.Generic,
                '$' => NotifyClass.String,
                'l' => NotifyClass.List,
                's' => NotifyClass.Set,
                'h' => NotifyClass.Hash,
                'z' => NotifyClass.ZSet,
                'x' => NotifyClass.Expired,
                'e' => NotifyClass.Evicted,
                'K' => NotifyClass.Keyspace,
                'E' => NotifyClass.Keyevent,
                't' => NotifyClass.Stream,
                'm' => NotifyClass.KeyMiss,
                'd' => NotifyClass.Module,
                'n' => NotifyClass.New,
                _ => (NotifyClass)(-1),
            };
            if (flags == (NotifyClass)(-1)) return false;
        }
        return true;
    }

    /// <summary>
    /// Redis's keyspaceEventsFlagsToString, as CONFIG GET shows it: "A" when every class of A is on (then, as Redis,
    /// without "n" even if it is on), else the class characters in Redis's order; then K, E, m.
    /// </summary>
    public static string Format(NotifyClass flags)
    {
        var s = new StringBuilder();
        if ((flags & NotifyClass.All) == NotifyClass.All) s.Append('A');
        else
        {
            foreach (var (flag, c) in Order)
            {
                if ((flags & flag) != 0) s.Append(c);
            }
        }
        if ((flags & NotifyClass.Keyspace) != 0) s.Append('K');
        if ((flags & NotifyClass.Keyevent) != 0) s.Append('E');
        if ((flags & NotifyClass.KeyMiss) != 0) s.Append('m');
        return s.ToString();
    }

    private static readonly (NotifyClass, char)[] Order =
    [
        (NotifyClass.Generic, 'g'), (NotifyClass.String, '$'), (NotifyClass.List, 'l'), (NotifyClass.Set, 's'),
        (NotifyClass.Hash, 'h'), (NotifyClass.ZSet, 'z'), (NotifyClass.Expired, 'x'), (NotifyClass.Evicted, 'e'),
        (NotifyClass.Stream, 't'), (NotifyClass.Module, 'd'), (NotifyClass.New, 'n'),
    ];
}
