namespace StreamServer.Protocol;

/// <summary>
/// The requests parsed from one read: each request is a run of arguments, each argument a slice of the
/// connection's receive buffer (or of <see cref="Arena"/> when it had to be copied: inline commands with escapes,
/// or an argument split across two buffer segments). Reused for every read; steady state allocates nothing.
/// </summary>
public sealed class RequestBuffer
{
    private ReadOnlyMemory<byte>[] _args = new ReadOnlyMemory<byte>[64];
    private (int Start, int Count)[] _requests = new (int, int)[16];
    private byte[] _arena = new byte[256];
    private int _arenaUsed;

    public int Count { get; private set; }
    public int ArgumentCount { get; private set; }

    /// <summary>All arguments of all requests, in order.</summary>
    public ReadOnlyMemory<byte>[] Arguments => _args;

    public (int Start, int Count) this[int request] => _requests[request];

    public void Clear()
    {
        Count = 0;
        ArgumentCount = 0;
        _arenaUsed = 0;
    }

    /// <summary>Drops the requests from <paramref name="count"/> on (a frame found incomplete after its start).</summary>
    internal void Truncate(int count, int argumentCount)
    {
        Count = count;
        ArgumentCount = argumentCount;
    }

    internal void AddArgument(ReadOnlyMemory<byte> arg)
    {
        if (ArgumentCount == _args.Length) Array.Resize(ref _args, _args.Length * 2);
        _args[ArgumentCount++] = arg;
    }

    internal void CommitRequest(int firstArgument)
    {
        if (Count == _requests.Length) Array.Resize(ref _requests, _requests.Length * 2);
        _requests[Count++] = (firstArgument, ArgumentCount - firstArgument);
    }

    /// <summary>Copies the arguments of requests from <paramref name="request"/> on, so the receive buffer can be released.</summary>
    public void DetachFrom(int request)
    {
        if (request >= Count) return;
        for (var i = _requests[request].Start; i < ArgumentCount; i++) _args[i] = _args[i].ToArray();
    }

    /// <summary>Room for a copied argument. A full arena is replaced, not grown: earlier slices keep the old one alive.</summary>
    internal Memory<byte> Rent(int length)
    {
        if (_arena.Length - _arenaUsed < length)
        {
            _arena = new byte[Math.Max(_arena.Length * 2, length)];
            _arenaUsed = 0;
        }
        var memory = _arena.AsMemory(_arenaUsed, length);
        _arenaUsed += length;
        return memory;
    }
}
