using System.Net;
using System.Net.Sockets;
using System.Text;
using StreamServer.Configuration;

namespace StreamServer.Host;

/// <summary>
/// <c>streamserver --healthcheck [config…]</c>: sends PING to the configured port on the first bind address
/// (loopback when bound to all interfaces) and exits 0 on +PONG (or -NOAUTH: alive, password set). For
/// container HEALTHCHECKs, where there is no redis-cli.
/// </summary>
internal static class HealthCheck
{
    public static async Task<int> RunAsync(ServerOptions options)
    {
        var first = options.Bind.Count > 0 ? options.Bind[0].TrimStart('-') : "127.0.0.1";
        var address = first is "*" or "0.0.0.0" || !IPAddress.TryParse(first, out var parsed) ? IPAddress.Loopback
            : parsed.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback : parsed;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(new IPEndPoint(address, options.Port), cts.Token).ConfigureAwait(false);
            await socket.SendAsync("*1\r\n$4\r\nPING\r\n"u8.ToArray(), SocketFlags.None, cts.Token).ConfigureAwait(false);
            var buffer = new byte[256];
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token).ConfigureAwait(false);
            var reply = Encoding.ASCII.GetString(buffer, 0, n);
            if (reply.StartsWith("+PONG", StringComparison.Ordinal) || reply.StartsWith("-NOAUTH", StringComparison.Ordinal)) return 0;
            await Console.Error.WriteAsync($"unexpected reply: {reply.TrimEnd()}\n").ConfigureAwait(false);
            return 1;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            await Console.Error.WriteAsync($"{address}:{options.Port}: {e.Message}\n").ConfigureAwait(false);
            return 1;
        }
    }
}
