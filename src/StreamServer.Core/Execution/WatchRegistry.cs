using StreamServer.Storage;

namespace StreamServer.Execution;

/// <summary>WATCH bookkeeping: which clients watch which keys; a write to a watched key makes their EXEC fail.</summary>
public sealed class WatchRegistry
{
    private readonly Dictionary<int, Dictionary<byte[], List<ClientSession>>> _byDb = [];

    public int Count { get; private set; }

    public void Watch(ClientSession client, int db, byte[] key)
    {
        client.WatchedKeys ??= [];
        foreach (var (d, k) in client.WatchedKeys)
        {
            if (d == db && k.AsSpan().SequenceEqual(key)) return;
        }
        client.WatchedKeys.Add((db, key));
        if (!_byDb.TryGetValue(db, out var keys)) _byDb[db] = keys = new Dictionary<byte[], List<ClientSession>>(ByteArrayComparer.Instance);
        if (!keys.TryGetValue(key, out var clients)) keys[key] = clients = [];
        clients.Add(client);
        Count++;
    }

    public void UnwatchAll(ClientSession client)
    {
        if (client.WatchedKeys is null) return;
        foreach (var (db, key) in client.WatchedKeys)
        {
            if (_byDb.TryGetValue(db, out var keys) && keys.TryGetValue(key, out var clients))
            {
                clients.Remove(client);
                Count--;
                if (clients.Count == 0) keys.Remove(key);
            }
        }
        client.WatchedKeys = null;
        client.WatchDirty = false;
    }

    public void KeyTouched(int db, ReadOnlySpan<byte> key)
    {
        if (Count == 0 || !_byDb.TryGetValue(db, out var keys)) return;
        if (!keys.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out var clients)) return;
        foreach (var c in clients) c.WatchDirty = true;
    }
}
