using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using static StreamServer.Networking.Linux.LinuxNative;

namespace StreamServer.Networking.Linux;

/// <summary>
/// A client socket served by the <see cref="EventLoop"/>: a duplex pipe, as Pipelines.Sockets.Unofficial's
/// SocketConnection, for <see cref="Connection"/>. Receiving happens on the loop thread, one recv per readable event
/// (level-triggered: unread bytes are reported again next turn, so no EAGAIN probe is needed). Sending happens on the
/// thread that flushes the output (the send pipe's reader is inline): a non-blocking send, and only when the kernel's
/// buffer is full does the socket ask the loop for EPOLLOUT and finish from there.
/// </summary>
internal sealed class EpollSocket : ISocketPipe, IEventSource, IDisposable
{
    private const int MaxVectors = 64;
    private const int MinReceive = 4096;

    private readonly EventLoop _loop;
    private readonly Socket _socket;
    private readonly SafeSocketHandle _handle;
    private readonly int _fd;
    private readonly Pipe _receive;
    private readonly Pipe _send;
    private readonly object _gate = new();
    private uint _interest; // what epoll watches now; 0 once removed
    private bool _readPaused; // the receive pipe is full: the connection has not consumed what it has
    private bool _readEnded; // EOF, an error, or the connection stopped reading
    private TaskCompletionSource? _writable; // the send loop waits for EPOLLOUT
    private bool _closed;
    private long _bytesSent;
    private volatile bool _faulted;
    private MemoryHandle[]? _pins; // the send loop's, for a multi-segment send

    public EpollSocket(EventLoop loop, Socket socket, PipeOptions sendOptions, PipeOptions receiveOptions)
    {
        _loop = loop;
        _socket = socket;
        _socket.Blocking = false;
        _handle = socket.SafeHandle;
        _fd = (int)_handle.DangerousGetHandle();
        _receive = new Pipe(receiveOptions);
        _send = new Pipe(sendOptions);
        Token = loop.Add(this);
        _ = SendLoopAsync();
        lock (_gate) UpdateInterest();
    }

    public ulong Token { get; }

    public PipeReader Input => _receive.Reader;

    public PipeWriter Output => _send.Writer;

    public long BytesSent => Interlocked.Read(ref _bytesSent);

    public bool Faulted => _faulted;

    public void ShutdownSend()
    {
        try { _socket.Shutdown(SocketShutdown.Send); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    /// <summary>On the loop thread: what epoll reported for this socket.</summary>
    public void OnEvents(uint events)
    {
        if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) SignalWritable();
        bool reading;
        lock (_gate) reading = !_readPaused && !_readEnded && !_closed;
        // Not reading means EPOLLIN is not watched; with nothing watched the socket is out of epoll (UpdateInterest),
        // so a level-triggered hang-up cannot be reported turn after turn.
        if (reading && (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) != 0) Receive();
    }

    private unsafe void Receive()
    {
        var writer = _receive.Writer;
        // At least 4 KB: the rest of a nearly full segment would make a batch take several turns.
        var memory = writer.GetMemory(MinReceive);
        nint n;
        var added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            fixed (byte* bytes = memory.Span) n = Recv(_fd, bytes, memory.Length, 0);
        }
        catch (ObjectDisposedException)
        {
            return;
        }
        finally
        {
            if (added) _handle.DangerousRelease();
        }
        if (n > 0)
        {
            writer.Advance((int)n);
            var flush = writer.FlushAsync();
            if (flush.IsCompletedSuccessfully)
            {
                if (flush.Result.IsCompleted) EndReading(null);
                return;
            }
            lock (_gate)
            {
                _readPaused = true;
                UpdateInterest();
            }
            _ = ResumeAfterFlushAsync(flush);
            return;
        }
        if (n == 0)
        {
            EndReading(null);
            return;
        }
        var errno = Marshal.GetLastPInvokeError();
        if (errno is EAGAIN or EINTR) return;
        _faulted = true;
        EndReading(new SocketException(errno));
    }

    private async Task ResumeAfterFlushAsync(ValueTask<FlushResult> flush)
    {
        FlushResult result;
        try
        {
            result = await flush.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            EndReading(e);
            return;
        }
        if (result.IsCompleted)
        {
            EndReading(null);
            return;
        }
        lock (_gate)
        {
            _readPaused = false;
            UpdateInterest();
        }
    }

    private void EndReading(Exception? error)
    {
        lock (_gate)
        {
            if (_readEnded) return;
            _readEnded = true;
            UpdateInterest();
        }
        _receive.Writer.Complete(error);
    }

    /// <summary>Under <see cref="_gate"/>: tells epoll what the socket waits for now.</summary>
    private void UpdateInterest()
    {
        if (_closed) return;
        var wanted = (_readPaused || _readEnded ? 0 : EPOLLIN | EPOLLRDHUP) | (_writable is not null ? EPOLLOUT : 0);
        if (wanted == _interest) return;
        var op = _interest == 0 ? EPOLL_CTL_ADD : wanted == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
        if (Control(_loop.EpollFd, op, _fd, wanted, Token) != 0)
        {
            // The socket is gone (closed under us) or epoll refuses: nothing more will be reported.
            _faulted = true;
        }
        _interest = wanted;
    }

    private void SignalWritable()
    {
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            waiter = _writable;
            _writable = null;
            UpdateInterest();
        }
        waiter?.TrySetResult();
    }

    private Task WaitWritableAsync()
    {
        lock (_gate)
        {
            if (_closed) return Task.FromException(new ObjectDisposedException(nameof(EpollSocket)));
            _writable ??= new TaskCompletionSource();
            UpdateInterest();
            return _writable.Task;
        }
    }

    /// <summary>
    /// Sends what the connection flushes. The pipe's reader is inline, so this runs on the flushing thread until the
    /// output is empty or the kernel's buffer is full; then it waits for EPOLLOUT.
    /// </summary>
    private async Task SendLoopAsync()
    {
        var reader = _send.Reader;
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                while (!buffer.IsEmpty)
                {
                    var sent = SendSome(buffer);
                    if (sent > 0)
                    {
                        buffer = buffer.Slice(sent);
                        Interlocked.Add(ref _bytesSent, sent);
                        continue;
                    }
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == EINTR) continue;
                    if (errno != EAGAIN) throw new SocketException(errno);
                    await WaitWritableAsync().ConfigureAwait(false);
                }
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled) break;
            }
        }
        catch (Exception e)
        {
            error = e;
            _faulted = true;
        }
        await reader.CompleteAsync(error).ConfigureAwait(false);
    }

    /// <summary>
    /// A send from the flushing thread without the send pipe: for a reply that fits the kernel's buffer (nearly all),
    /// no copy into the pipe and no turn of the send loop. What the kernel does not take, and any error, is left to the
    /// caller to queue through the pipe, whose send loop waits for EPOLLOUT or reports the error.
    /// </summary>
    public int SendNow(ReadOnlySpan<byte> data)
    {
        if (_faulted || data.IsEmpty) return 0;
        nint n;
        try
        {
            n = SendSpan(data);
        }
        catch (ObjectDisposedException)
        {
            return 0;
        }
        if (n <= 0) return 0;
        Interlocked.Add(ref _bytesSent, n);
        return (int)n;
    }

    /// <summary>One send of <paramref name="data"/>; the byte count, or -1 with errno set.</summary>
    private unsafe nint SendSpan(ReadOnlySpan<byte> data)
    {
        var added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            fixed (byte* bytes = data) return LinuxNative.Send(_fd, bytes, data.Length, MSG_NOSIGNAL);
        }
        finally
        {
            if (added) _handle.DangerousRelease();
        }
    }

    /// <summary>One send (or sendmsg over the segments); the byte count, or -1 with errno set.</summary>
    private unsafe nint SendSome(in ReadOnlySequence<byte> buffer)
    {
        if (buffer.IsSingleSegment) return SendSpan(buffer.FirstSpan);
        var added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            // A reply larger than a pipe segment: one sendmsg over the segments (pinned for the call).
            var vectors = stackalloc IoVector[MaxVectors];
            var pins = _pins ??= new MemoryHandle[MaxVectors];
            var count = 0;
            try
            {
                foreach (var segment in buffer)
                {
                    if (segment.IsEmpty) continue;
                    pins[count] = segment.Pin();
                    vectors[count].Base = (byte*)pins[count].Pointer;
                    vectors[count].Length = segment.Length;
                    if (++count == MaxVectors) break;
                }
                var message = new MessageHeader { Vectors = vectors, VectorCount = count };
                return SendMsg(_fd, &message, MSG_NOSIGNAL);
            }
            finally
            {
                for (var i = 0; i < count; i++) pins[i].Dispose();
                pins.AsSpan(0, count).Clear();
            }
        }
        finally
        {
            if (added) _handle.DangerousRelease();
        }
    }

    public void Dispose()
    {
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            if (_closed) return;
            if (_interest != 0) _ = Control(_loop.EpollFd, EPOLL_CTL_DEL, _fd, 0, 0);
            _interest = 0;
            _closed = true;
            waiter = _writable;
            _writable = null;
        }
        _loop.Remove(Token);
        waiter?.TrySetException(new ObjectDisposedException(nameof(EpollSocket)));
        // The pipes are left as they are: the connection has completed its ends, and the receive writer belongs to
        // the loop thread (a pipe's writer is not safe to complete from here while the loop may be using it).
        _socket.Dispose();
    }
}
