using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using StreamServer.Execution;
using StreamServer.Protocol;

namespace StreamServer.Networking;

/// <summary>
/// One client connection: read, parse every complete request, post the batch to the dispatcher, wait for it,
/// send the replies, advance, repeat. Replies written outside a batch (pub/sub messages, a blocked client served
/// later) are sent through <see cref="RequestFlush"/>; one flush runs at a time.
/// </summary>
public sealed class Connection : IClientTransport
{
    private readonly IDuplexPipe _transport;
    private readonly ISocketPipe? _socket;
    private readonly Dispatcher _dispatcher;
    private readonly ServerContext _server;
    private readonly ILogger _log;
    private int _flushGate;
    private int _flushWanted;

    /// <param name="log">Shared by all the listener's connections: no logger factory call per accept.</param>
    public Connection(IDuplexPipe transport, Dispatcher dispatcher, ILogger log, string remote, string local)
    {
        _transport = transport;
        _socket = transport as ISocketPipe;
        _dispatcher = dispatcher;
        _server = dispatcher.Server;
        _log = log;
        RemoteEndPoint = remote;
        LocalEndPoint = local;
        Session = new ClientSession(_server.NextClientId(), this, _server.Clock.NowMs);
    }

    public ClientSession Session { get; }

    public string RemoteEndPoint { get; }

    public string LocalEndPoint { get; }

    public async Task RunAsync()
    {
        var session = Session;
        var input = _transport.Input;
        var registered = await _dispatcher.InvokeAsync(Register).ConfigureAwait(false);
        if (!registered)
        {
            // The refusal (maxclients, protected mode) goes out now, then FIN; what the client sent meanwhile is read
            // and dropped for a moment, so closing does not reset the connection before the client reads the error.
            await FlushRepliesAsync(now: true).ConfigureAwait(false);
            await WaitUntilSentAsync().ConfigureAwait(false);
            _socket?.ShutdownSend();
            await DiscardInputAsync(input).ConfigureAwait(false);
            await _transport.Output.CompleteAsync().ConfigureAwait(false);
            await input.CompleteAsync().ConfigureAwait(false);
            return;
        }
        try
        {
            ReadResult? carried = null; // what arrived while blocked: parsed without waiting for more bytes
            SpillBuffer? spill = null; // a request outgrew the pipe's window: unparsed bytes live here (see SpillBuffer)
            var parseSpillNow = false; // the spill still holds whole requests (batch limit, a block): parse before reading
            while (!session.CloseRequested)
            {
                ReadResult result = default;
                var read = !parseSpillNow;
                if (read)
                {
                    result = carried ?? await input.ReadAsync().ConfigureAwait(false);
                    carried = null;
                }
                parseSpillNow = false;
                if (session.CloseRequested) break;
                var buffer = result.Buffer;
                if (spill is not null)
                {
                    if (read)
                    {
                        spill.Append(result.Buffer);
                        input.AdvanceTo(result.Buffer.End);
                    }
                    buffer = spill.Sequence;
                }
                if (!buffer.IsEmpty)
                {
                    var limits = new ParserLimits(_server.Options.ProtoMaxBulkLen, _server.Options.RequirePass is not null && !session.Authenticated);
                    session.Requests.Clear();
                    session.ProtocolErrorText = null;
                    RespRequestReader.Parse(buffer, session.Requests, limits, out var consumed, out var examined, out var error, out var offending);
                    var incomplete = examined.Equals(buffer.End) && !consumed.Equals(buffer.End);
                    if (error != ProtocolError.None)
                    {
                        session.ProtocolErrorText = RespRequestReader.Describe(error, offending);
                        _log.LogDebug("Protocol error from client {Id} ({Remote}): {Error}", session.Id, RemoteEndPoint, session.ProtocolErrorText);
                    }
                    else if (incomplete && buffer.Slice(consumed).Length > _server.Options.ClientQueryBufferLimit)
                    {
                        _log.LogWarning("Closing client {Id} ({Remote}) that reached max query buffer length", session.Id, RemoteEndPoint);
                        break;
                    }

                    if (session.Requests.Count > 0 || session.ProtocolErrorText is not null)
                    {
                        session.PrepareBatch();
                        _dispatcher.Post(session);
                        if (!await session.BatchCompletion.ConfigureAwait(false))
                        {
                            // Blocked: the rest of the batch was copied, so release the buffer and keep watching the socket.
                            if (spill is null) input.AdvanceTo(consumed, examined);
                            else spill = Release(spill, buffer, consumed);
                            var (alive, arrived) = await WaitWhileBlockedAsync(input).ConfigureAwait(false);
                            if (!alive) break;
                            carried = arrived;
                            parseSpillNow = carried is null && spill is not null;
                            await FlushRepliesAsync().ConfigureAwait(false);
                            continue;
                        }
                        await FlushRepliesAsync().ConfigureAwait(false);
                    }
                    if (spill is not null)
                    {
                        spill = Release(spill, buffer, consumed);
                        parseSpillNow = spill is not null && !incomplete;
                    }
                    else if (!incomplete && !consumed.Equals(buffer.End))
                    {
                        // The batch limit left whole requests: parse them from this read before advancing the pipe.
                        // (After the read that ended a block, the pipe does not hand back bytes it already showed
                        // until new ones arrive, so advancing and reading again could leave them waiting.)
                        carried = new ReadResult(buffer.Slice(consumed), isCanceled: false, result.IsCompleted);
                        continue;
                    }
                    else if (incomplete && buffer.Slice(consumed).Length >= SpillBuffer.SpillAt)
                    {
                        // One request is larger than the pipe may hold (the pipe pauses at SpillBuffer.PipeWindow):
                        // from here the bytes go to a buffer of our own, as Redis's query buffer grows for a big argument.
                        spill = new SpillBuffer();
                        spill.Append(buffer.Slice(consumed));
                        input.AdvanceTo(buffer.End);
                    }
                    else
                    {
                        input.AdvanceTo(consumed, examined);
                    }
                }
                else if (spill is null)
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                }
                if (parseSpillNow) continue; // whole requests the client sent before closing are still answered
                // A cancelled read ends the loop only when a close was asked for: the CancelPendingRead that ends a
                // block can land after that read already completed, and then cancels the next one instead.
                if (read && (result.IsCompleted || (result.IsCanceled && session.CloseRequested))) break;
            }
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException)
        {
            _log.LogDebug(e, "Client {Id} connection ended", session.Id);
        }
        finally
        {
            await _dispatcher.InvokeAsync(Unregister).ConfigureAwait(false);
            try
            {
                // Wait out any flush in progress, then send whatever is left (a protocol error, QUIT's +OK).
                while (Interlocked.CompareExchange(ref _flushGate, 1, 0) != 0) await Task.Delay(1).ConfigureAwait(false);
                Volatile.Write(ref _flushWanted, 1);
                await FlushLoopAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _log.LogDebug(e, "Final flush failed for client {Id}", session.Id);
            }
            if (!_aborted) await WaitUntilSentAsync().ConfigureAwait(false);
            await _transport.Output.CompleteAsync().ConfigureAwait(false);
            if (session.ProtocolErrorText is not null)
            {
                // Send FIN now so the client sees the end right after the error, then drain what it still sends.
                _socket?.ShutdownSend();
                await DiscardInputAsync(input).ConfigureAwait(false);
            }
            await input.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Drops the parsed bytes from the spill; null once it is empty (reading goes back to the pipe, without a copy).</summary>
    private static SpillBuffer? Release(SpillBuffer spill, in ReadOnlySequence<byte> buffer, SequencePosition consumed)
    {
        spill.Discard(buffer.Slice(0, consumed).Length);
        return spill.Length == 0 ? null : spill;
    }

    /// <summary>
    /// After a protocol error the client may still be sending (a huge frame). Closing with unread input makes the
    /// kernel reset the connection, which can destroy the error reply before the client reads it; reading and
    /// discarding for a moment (a lingering close) lets the reply arrive.
    /// </summary>
    private static async Task DiscardInputAsync(PipeReader input)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(cts.Token).ConfigureAwait(false);
                input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled) return;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            // Time is up or the socket is gone: close anyway.
        }
    }

    /// <summary>
    /// Pipelines.Sockets.Unofficial's send loop stops at the writer's completion without sending what is still
    /// queued, and the socket closes when this connection's task ends; a closing reply (protocol error, QUIT) must
    /// reach the client first, as with Redis. So wait for the bytes to be sent before completing.
    /// </summary>
    private async Task WaitUntilSentAsync()
    {
        if (_socket is not { } socket) return;
        var deadline = Environment.TickCount64 + 2000;
        while (socket.BytesSent < Interlocked.Read(ref _bytesWritten) && !socket.Faulted
            && Environment.TickCount64 < deadline)
        {
            await Task.Delay(1).ConfigureAwait(false);
        }
    }

    private long _bytesWritten;

    /// <summary>
    /// While the client is blocked, reads only to notice a disconnect; later requests stay in the buffer, unparsed,
    /// until the blocked command is served (as in Redis, a blocked client's pipeline waits behind it).
    /// Returns false when the client went away; otherwise, when requests arrived meanwhile, the read holding them
    /// (not yet advanced), for the main loop to parse at once: after the cancelled read the pipe would otherwise
    /// wait for new bytes before showing them again.
    /// </summary>
    private async Task<(bool Alive, ReadResult? Arrived)> WaitWhileBlockedAsync(PipeReader input)
    {
        var unparked = Session.Unparked.AsTask();
        while (true)
        {
            var read = input.ReadAsync().AsTask();
            var first = await Task.WhenAny(unparked, read).ConfigureAwait(false);
            if (first == unparked)
            {
                // The pending read stays outstanding; cancel it so the main loop can issue its own.
                input.CancelPendingRead();
                var r = await read.ConfigureAwait(false);
                if (!r.Buffer.IsEmpty) return (true, new ReadResult(r.Buffer, isCanceled: false, r.IsCompleted));
                input.AdvanceTo(r.Buffer.Start, r.Buffer.End);
                return (!r.IsCompleted, null);
            }
            var result = await read.ConfigureAwait(false);
            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            if (result.IsCompleted || result.IsCanceled && Session.CloseRequested)
            {
                await _dispatcher.InvokeAsync(() =>
                {
                    Session.CloseRequested = true;
                    if (Session.Blocked is not null)
                    {
                        _server.Blocking.Unblock(Session);
                        Session.IsClosed = true;
                        _dispatcher.ResumeAfterUnblock(Session);
                    }
                    // Gone from the client list in the same step as from the blocked ones, as Redis's freeClient
                    // (INFO must never count a client that is neither blocked nor connected); the final
                    // Unregister repeats this harmlessly.
                    return Unregister();
                }).ConfigureAwait(false);
                await unparked.ConfigureAwait(false);
                return (false, null);
            }
        }
    }

    private bool Register()
    {
        var session = Session;
        _server.Stats.TotalConnectionsReceived++;
        if (_server.Clients.Count >= _server.Options.MaxClients)
        {
            _server.Stats.RejectedConnections++;
            lock (session.ReplyLock) session.Reply.Error("ERR max number of clients reached");
            return false;
        }
        if (ProtectedMode.Refuses(_server.Options, RemoteEndPoint))
        {
            _server.Stats.RejectedConnections++;
            lock (session.ReplyLock) session.Reply.Error(ProtectedMode.Denied);
            return false;
        }
        session.Authenticated = _server.Options.RequirePass is null;
        _server.Clients[session.Id] = session;
        return true;
    }

    private bool Unregister()
    {
        var session = Session;
        session.IsClosed = true;
        _server.Blocking.Unblock(session);
        _server.Watches.UnwatchAll(session);
        PubSubCleanup?.Invoke(session);
        _server.Monitors.Remove(session);
        _server.Clients.Remove(session.Id);
        return true;
    }

    /// <summary>Set by the pub/sub commands to drop a closing client's subscriptions.</summary>
    public static Action<ClientSession>? PubSubCleanup { get; set; }

    public void CloseAfterReply()
    {
        // The read loop wakes up, sees the request, sends what is written and closes.
        Session.CloseRequested = true;
        _transport.Input.CancelPendingRead();
    }

    private volatile bool _aborted;

    public long UnsentBytes => _socket is { } socket ? Interlocked.Read(ref _bytesWritten) - socket.BytesSent : 0;

    /// <summary>The socket has sent everything handed to it: a reply may go straight out without overtaking any.</summary>
    private bool NothingQueued => _socket is not null && _socket.BytesSent == Interlocked.Read(ref _bytesWritten);

    public void Abort()
    {
        // Nothing more is sent: a flush stuck behind a client that does not read gives up, and the close does not
        // wait for the queued bytes.
        _aborted = true;
        Session.CloseRequested = true;
        _transport.Output.CancelPendingFlush();
        _transport.Input.CancelPendingRead();
    }

    /// <summary>
    /// Sends what was written outside a batch (a served blocked client, a pub/sub message) from the calling thread,
    /// usually the dispatcher, as Redis writes from its event loop; a flush already running picks it up instead.
    /// </summary>
    public void RequestFlush()
    {
        Volatile.Write(ref _flushWanted, 1);
        if (Interlocked.CompareExchange(ref _flushGate, 1, 0) == 0) _ = RunFlushLoopAsync();
    }

    private async Task RunFlushLoopAsync()
    {
        try
        {
            await FlushLoopAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _log.LogDebug(e, "Flush failed for client {Id}", Session.Id);
            Session.CloseRequested = true;
            _transport.Input.CancelPendingRead();
        }
    }

    /// <summary>The replies wait for the end of the event loop's turn (<see cref="Linux.EventLoop.WriteAtTurnEnd"/>).</summary>
    private volatile bool _writeAtTurnEnd;

    /// <summary>
    /// Sends what the dispatcher wrote; waits for any flush already running to pick it up. In an event-loop turn, with
    /// nothing waiting in the send pipe, the replies leave at the end of the turn instead, together with the other
    /// clients' (Redis writes replies in beforeSleep): a client such as redis-benchmark then finds its replies ready
    /// together, not one by one. A client whose replies are still queued is flushed and waited for now, so one that
    /// does not read keeps its backpressure.
    /// </summary>
    private ValueTask FlushRepliesAsync(bool now = false)
    {
        if (_writeAtTurnEnd && !now) return ValueTask.CompletedTask; // the end of the turn sends these too
        if (!now && NothingQueued && Linux.EventLoop.WriteAtTurnEnd(this))
        {
            _writeAtTurnEnd = true;
            return ValueTask.CompletedTask;
        }
        Volatile.Write(ref _flushWanted, 1);
        return Interlocked.CompareExchange(ref _flushGate, 1, 0) == 0 ? FlushLoopAsync() : ValueTask.CompletedTask;
    }

    /// <summary>On the loop thread at the end of its turn: sends the replies held for it.</summary>
    internal void WriteRepliesNow()
    {
        _writeAtTurnEnd = false;
        if (!Session.IsClosed) RequestFlush();
    }

    /// <summary>Holds the flush gate: copies the reply buffer into the socket pipe and flushes until nothing is wanted.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushLoopAsync()
    {
        var output = _transport.Output;
        while (true)
        {
            while (Interlocked.Exchange(ref _flushWanted, 0) == 1)
            {
                var any = false;
                lock (Session.ReplyLock)
                {
                    var written = Session.Reply.WrittenSpan;
                    if (written.Length > 0)
                    {
                        // Straight to the socket when the pipe has sent everything it was given (order is kept);
                        // only what the kernel does not take now goes through the pipe.
                        var nothingQueued = NothingQueued;
                        Interlocked.Add(ref _bytesWritten, written.Length);
                        var sentNow = nothingQueued ? _socket!.SendNow(written) : 0;
                        if (sentNow < written.Length)
                        {
                            output.Write(written[sentNow..]);
                            any = true;
                        }
                        Interlocked.Add(ref _server.Stats.TotalNetOutputBytes, written.Length);
                        Session.Reply.Clear();
                        Session.Reply.ShrinkIfLarge();
                    }
                }
                if (any)
                {
                    var result = await output.FlushAsync().ConfigureAwait(false);
                    if (result.IsCompleted) Session.CloseRequested = true;
                }
            }
            Volatile.Write(ref _flushGate, 0);
            if (Volatile.Read(ref _flushWanted) == 0 || Interlocked.CompareExchange(ref _flushGate, 1, 0) != 0) return;
        }
    }
}
