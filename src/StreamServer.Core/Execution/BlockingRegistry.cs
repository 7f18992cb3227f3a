using StreamServer.Storage;

namespace StreamServer.Execution;

/// <summary>
/// Clients blocked on keys (Redis's blocked.c): per key, the waiting clients in arrival order. A write to a key
/// with waiters marks it ready; after each batch the dispatcher re-runs the waiters' commands in order, and a
/// command that still finds nothing stays parked where it was.
/// </summary>
public sealed class BlockingRegistry
{
    private readonly Dictionary<int, Dictionary<byte[], LinkedList<ClientSession>>> _waiters = [];
    private readonly List<(int Db, byte[] Key)> _ready = [];
    private readonly HashSet<ClientSession> _blocked = [];

    /// <summary>INFO blocked_clients.</summary>
    public int BlockedCount => _blocked.Count;

    /// <summary>Keys that have waiters (INFO blocked_keys... and tests).</summary>
    public int KeyCount { get; private set; }

    public IReadOnlyCollection<ClientSession> BlockedClients => _blocked;

    public bool HasReadyKeys => _ready.Count > 0;

    /// <summary>Parks <paramref name="client"/> on <paramref name="state"/>'s keys. On a retry the client is already parked and stays in place.</summary>
    public void Block(ClientSession client, BlockState state)
    {
        if (client.Blocked is not null) return; // a retry that still finds nothing keeps its place in line
        client.Blocked = state;
        _blocked.Add(client);
        foreach (var (db, key) in state.Keys)
        {
            if (!_waiters.TryGetValue(db, out var keys)) _waiters[db] = keys = new Dictionary<byte[], LinkedList<ClientSession>>(ByteArrayComparer.Instance);
            if (!keys.TryGetValue(key, out var list))
            {
                keys[key] = list = new LinkedList<ClientSession>();
                KeyCount++;
            }
            list.AddLast(client);
        }
    }

    /// <summary>Removes the client from every key it waits on.</summary>
    public void Unblock(ClientSession client)
    {
        var state = client.Blocked;
        if (state is null) return;
        client.Blocked = null;
        _blocked.Remove(client);
        foreach (var (db, key) in state.Keys)
        {
            if (!_waiters.TryGetValue(db, out var keys) || !keys.TryGetValue(key, out var list)) continue;
            list.Remove(client);
            if (list.Count == 0)
            {
                keys.Remove(key);
                KeyCount--;
            }
        }
    }

    public void KeyTouched(int db, ReadOnlySpan<byte> key)
    {
        if (KeyCount == 0 || !_waiters.TryGetValue(db, out var keys)) return;
        if (!keys.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out var actualKey, out _)) return;
        foreach (var (d, k) in _ready)
        {
            if (d == db && ReferenceEquals(k, actualKey)) return;
        }
        _ready.Add((db, actualKey));
    }

    /// <summary>
    /// The clients waiting on the keys that became ready, in key order then arrival order; clears the ready list.
    /// </summary>
    public List<ClientSession> TakeReadyClients(List<ClientSession> into)
    {
        foreach (var (db, key) in _ready)
        {
            if (!_waiters.TryGetValue(db, out var keys) || !keys.TryGetValue(key, out var list)) continue;
            foreach (var c in list)
            {
                if (!into.Contains(c)) into.Add(c);
            }
        }
        _ready.Clear();
        return into;
    }

    /// <summary>
    /// The earliest time (Unix ms) at which a blocked client times out or is due for a recheck, or long.MaxValue.
    /// A client times out once the clock has passed its deadline (<see cref="TimedOut"/>), so at deadline + 1.
    /// </summary>
    public long NextDeadline()
    {
        var next = long.MaxValue;
        foreach (var c in _blocked)
        {
            var d = c.Blocked!.DeadlineMs;
            if (d != 0 && d < next - 1) next = d + 1;
            var r = c.Blocked.RecheckAtMs;
            if (r != 0 && r < next) next = r;
        }
        return next;
    }

    /// <summary>Marks the first key of every client whose recheck time has come as ready, so the client re-runs.</summary>
    public void MarkRechecksDue(long nowMs)
    {
        foreach (var c in _blocked)
        {
            var state = c.Blocked!;
            if (state.RecheckAtMs == 0 || state.RecheckAtMs > nowMs || state.Keys.Count == 0) continue;
            state.RecheckAtMs = 0;
            KeyTouched(state.Keys[0].Db, state.Keys[0].Key);
        }
    }

    /// <summary>
    /// Adds the clients whose deadline the clock has passed. Strictly passed, as Redis's checkBlockedClientTimeout
    /// (<c>timeout &lt; now</c>): the deadline is the command's millisecond plus the timeout, and the command may
    /// have run late in its millisecond, so timing out at the deadline itself could end BLOCK 100 after 99.1 ms.
    /// </summary>
    public void TimedOut(long nowMs, List<ClientSession> into)
    {
        foreach (var c in _blocked)
        {
            var d = c.Blocked!.DeadlineMs;
            if (d != 0 && d < nowMs) into.Add(c);
        }
    }
}
