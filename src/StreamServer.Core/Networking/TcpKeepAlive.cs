using System.Net.Sockets;

namespace StreamServer.Networking;

/// <summary>
/// <c>tcp-keepalive</c> on an accepted socket, as Redis's anetKeepAlive: SO_KEEPALIVE, the first probe after the
/// given idle seconds, then one every third of that (at least 1 s), and the peer declared dead after 3 unanswered
/// probes. Applied when a client connects, so CONFIG SET affects new connections only, as in Redis.
/// </summary>
public static class TcpKeepAlive
{
    public static void Apply(Socket socket, int seconds)
    {
        if (seconds <= 0) return;
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, seconds);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, Math.Max(1, seconds / 3));
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 3);
        }
        catch (SocketException)
        {
            // As Redis, which ignores anetKeepAlive's failure (e.g. an idle time over Linux's 32767 s).
        }
    }
}
