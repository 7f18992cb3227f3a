using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using StreamServer.Configuration;
using StreamServer.IntegrationTests.Conformance;

namespace StreamServer.IntegrationTests.Persistence;

internal static class AofTestSupport
{
    public static string NewTempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "aoftest-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static ServerOptions Options(string dir, string fsync = "always") => new()
    {
        Port = 0,
        Bind = ["127.0.0.1"],
        Dir = dir,
        AppendOnly = true,
        AppendFsync = fsync,
    };

    /// <summary>Sends a command and returns its reply as RESP text (e.g. "+OK\r\n").</summary>
    public static async Task<string> Cmd(this RespConnection c, params string[] args)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var reply = await c.RoundTripAsync(args.Select(Encoding.UTF8.GetBytes).ToArray(), cts.Token);
        return Encoding.UTF8.GetString(reply);
    }

    /// <summary>BGREWRITEAOF, then waits until the rewrite is done.</summary>
    public static async Task BgRewriteAof(int port)
    {
        await using var c = await Connect(port);
        Assert.Equal("+Background append only file rewriting started\r\n", await c.Cmd("BGREWRITEAOF"));
        for (var tries = 0; tries < 200; tries++)
        {
            var info = await c.Cmd("INFO", "persistence");
            if (!info.Contains("aof_rewrite_in_progress:1", StringComparison.Ordinal) && !info.Contains("aof_rewrite_scheduled:1", StringComparison.Ordinal)) break;
            await Task.Delay(50);
        }
        await Task.Delay(200);
    }

    /// <summary>
    /// Runs <paramref name="write"/> on a server persisting to <paramref name="dir"/>, reads <paramref name="state"/>,
    /// optionally rewrites the AOF, restarts from it and reads <paramref name="state"/> again; deletes the folder.
    /// </summary>
    public static async Task<(string Before, string After)> AcrossRestart(string dir, bool rewrite, Func<RespConnection, Task> write, Func<RespConnection, Task<string>> state)
    {
        string before, after;
        await using (var server = await Embedded.EmbeddedServer.StartAsync(Options(dir)))
        {
            await using var c = await Connect(server.Port);
            await write(c);
            before = await state(c);
            if (rewrite) await BgRewriteAof(server.Port);
        }
        await using (var server = await Embedded.EmbeddedServer.StartAsync(Options(dir)))
        {
            await using var c = await Connect(server.Port);
            after = await state(c);
        }
        Directory.Delete(dir, true);
        return (before, after);
    }

    public static Task<RespConnection> Connect(int port)
        => RespConnection.ConnectAsync("127.0.0.1", port, CancellationToken.None);

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public static (int ExitCode, string Output) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output);
    }

    public static async Task WaitForPort(int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
        }
    }
}
