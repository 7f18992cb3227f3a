using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace StreamServer.IntegrationTests.Hosting;

/// <summary>The streamserver executable as a child process: start-up messages, SIGTERM, protected mode.</summary>
public sealed class ServerProcessTests
{
    /// <summary>The executable's dll, built next to this project (the test project references it for build order).</summary>
    private static string ServerDll()
    {
        var testDir = AppContext.BaseDirectory; // tests/StreamServer.IntegrationTests/bin/<Configuration>/net10.0/
        var configuration = new DirectoryInfo(testDir).Parent!.Name;
        var root = Path.GetFullPath(Path.Combine(testDir, "..", "..", "..", "..", ".."));
        return Path.Combine(root, "src", "StreamServer", "bin", configuration, "net10.0", "streamserver.dll");
    }

    private static Process Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(ServerDll());
        foreach (var a in args) info.ArgumentList.Add(a);
        return Process.Start(info)!;
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static async Task<string> SendAsync(IPAddress address, int port, string request, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient(address.AddressFamily);
                await client.ConnectAsync(address, port);
                var stream = client.GetStream();
                await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
                var buffer = new byte[4096];
                var text = new StringBuilder();
                do
                {
                    var n = await stream.ReadAsync(buffer);
                    if (n == 0) break;
                    text.Append(Encoding.ASCII.GetString(buffer, 0, n));
                }
                while (!text.ToString().EndsWith("\r\n", StringComparison.Ordinal));
                return text.ToString();
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    private static async Task<int> TerminateAsync(Process process)
    {
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await process.WaitForExitAsync(cts.Token);
        return process.ExitCode;
    }

    [Fact]
    public async Task Sigterm_WhileServing_ExitsZero()
    {
        var port = FreePort();
        using var server = Start("--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1");
        try
        {
            Assert.Equal("+PONG\r\n", await SendAsync(IPAddress.Loopback, port, "PING\r\n", TimeSpan.FromSeconds(30)));

            Assert.Equal(0, await TerminateAsync(server));
            Assert.Contains("ready to exit", await server.StandardOutput.ReadToEndAsync(), StringComparison.Ordinal);
        }
        finally
        {
            if (!server.HasExited) server.Kill();
        }
    }

    [Fact]
    public async Task BadDirective_ExitsOne_WithRedisFatalMessageOnStderr()
    {
        using var server = Start("--no-such-directive", "1");
        var stderr = await server.StandardError.ReadToEndAsync();
        await server.WaitForExitAsync();

        Assert.Equal(1, server.ExitCode);
        Assert.Equal("\n*** FATAL CONFIG FILE ERROR (Redis 8.10.0) ***\nReading the configuration file, at line 2\n>>> 'no-such-directive \"1\"'\nBad directive or wrong number of arguments\n", stderr);
    }

    [RequiresExternalAddressFact]
    public async Task ProtectedMode_WithoutPassword_DeniesNonLoopbackClients()
    {
        var external = RequiresExternalAddressFactAttribute.Find()!;

        var port = FreePort();
        using var server = Start("--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "*");
        try
        {
            Assert.Equal("+PONG\r\n", await SendAsync(IPAddress.Loopback, port, "PING\r\n", TimeSpan.FromSeconds(30)));
            var denied = await SendAsync(external, port, "PING\r\n", TimeSpan.FromSeconds(5));
            Assert.StartsWith("-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user.", denied, StringComparison.Ordinal);
            Assert.EndsWith("from the outside.\r\n", denied, StringComparison.Ordinal);
        }
        finally
        {
            if (!server.HasExited) server.Kill();
        }
    }
}
