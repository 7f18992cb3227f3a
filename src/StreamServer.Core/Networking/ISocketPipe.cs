using System.IO.Pipelines;
using Pipelines.Sockets.Unofficial;

namespace StreamServer.Networking;

/// <summary>A client socket as <see cref="Connection"/> sees it: two pipes, and what it needs to close politely.</summary>
public interface ISocketPipe : IDuplexPipe
{
    /// <summary>Bytes the kernel has accepted, from the send pipe and through <see cref="SendNow"/>.</summary>
    long BytesSent { get; }

    /// <summary>Sending or receiving failed: nothing more will be sent.</summary>
    bool Faulted { get; }

    /// <summary>Sends FIN (the client sees the end of the replies) while input may still be read.</summary>
    void ShutdownSend();

    /// <summary>
    /// Sends <paramref name="data"/> straight to the socket, without the send pipe, as much as the kernel takes now;
    /// the byte count (0 when it takes nothing or the engine cannot). Only while the send pipe holds nothing unsent,
    /// and with the caller holding the connection's flush gate, so bytes leave in the order they were written.
    /// </summary>
    int SendNow(ReadOnlySpan<byte> data);
}

/// <summary>A Pipelines.Sockets.Unofficial connection (where the <see cref="Linux.EventLoop"/> is not used).</summary>
internal sealed class SocketConnectionPipe(SocketConnection connection) : ISocketPipe
{
    public PipeReader Input => connection.Input;

    public PipeWriter Output => connection.Output;

    public long BytesSent => connection.BytesSent;

    public bool Faulted => connection.SocketError != System.Net.Sockets.SocketError.Success;

    public void ShutdownSend()
    {
        try { connection.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send); }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException) { }
    }

    /// <summary>Everything goes through the library's send pipe.</summary>
    public int SendNow(ReadOnlySpan<byte> data) => 0;
}
