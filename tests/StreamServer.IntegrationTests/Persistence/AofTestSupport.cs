using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
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

    /// <summary>Sends a command and returns its reply parsed (see <see cref="ParseReply"/>).</summary>
    public static async Task<object?> Call(this RespConnection c, params string[] args)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var reply = await c.RoundTripAsync(args.Select(Encoding.UTF8.GetBytes).ToArray(), cts.Token);
        var at = 0;
        return ParseReply(reply, ref at);
    }

    /// <summary>A RESP2 reply as values: string (simple and bulk), long, null, object?[] (arrays), RespError.</summary>
    public static object? ParseReply(byte[] reply, ref int at)
    {
        var eol = Array.IndexOf(reply, (byte)'\r', at);
        var line = Encoding.UTF8.GetString(reply, at + 1, eol - at - 1);
        var type = (char)reply[at];
        at = eol + 2;
        switch (type)
        {
            case '+': return line;
            case '-': return new RespError(line);
            case ':': return long.Parse(line, CultureInfo.InvariantCulture);
            case '$':
                var length = int.Parse(line, CultureInfo.InvariantCulture);
                if (length < 0) return null;
                var bulk = Encoding.UTF8.GetString(reply, at, length);
                at += length + 2;
                return bulk;
            case '*':
                var count = int.Parse(line, CultureInfo.InvariantCulture);
                if (count < 0) return null;
                var items = new object?[count];
                for (var i = 0; i < count; i++) items[i] = ParseReply(reply, ref at);
                return items;
            default: throw new InvalidDataException("Not a RESP2 reply: " + type);
        }
    }

    public sealed record RespError(string Message);

    public static Task<RespConnection> Connect(int port)
        => RespConnection.ConnectAsync("127.0.0.1", port, CancellationToken.None);

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>The built server executable (tests that start it as a child process to kill -9 it).</summary>
    public static string ServerDll()
    {
        var configuration = typeof(AofTestSupport).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Directory.Build.props"))) dir = dir.Parent;
        return Path.Combine(dir!.FullName, "src", "StreamServer", "bin", configuration, "net10.0", "streamserver.dll");
    }

    /// <summary>
    /// Starts the server as a child process with appendonly yes on a free 127.0.0.1 port and waits until it listens;
    /// disposing it kills it if still running, so a failed assertion leaves no server behind.
    /// </summary>
    public static async Task<ChildServer> StartServerAsync(string dir, string fsync = "always")
    {
        // FreePort's port is free when probed, but another test's server (tests run in parallel) can take it before
        // the child binds it; then the child exits and the port answers for someone else. So the server that
        // answers must be the child (INFO's process_id), else try another port.
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { ServerDll(), "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", dir,
                "--appendonly", "yes", "--appendfsync", fsync, "--loglevel", "warning" })
            {
                psi.ArgumentList.Add(a);
            }
            var p = Process.Start(psi)!;
            p.OutputDataReceived += (_, _) => { };
            p.ErrorDataReceived += (_, _) => { };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            var server = new ChildServer(p, port);
            await WaitForPort(port, TimeSpan.FromSeconds(20));
            await using (var c = await Connect(port))
            {
                var info = await c.Cmd("INFO", "server");
                if (!p.HasExited && info.Contains($"process_id:{p.Id}\r\n", StringComparison.Ordinal)) return server;
            }
            server.Dispose();
            if (attempt == 5) throw new InvalidOperationException($"the child server did not come up on a port of its own in {attempt} attempts");
        }
    }

    /// <summary>An integer from the environment (test knobs such as cycle counts), or <paramref name="fallback"/>.</summary>
    public static int EnvInt(string name, int fallback) => int.TryParse(Environment.GetEnvironmentVariable(name), out var n) ? n : fallback;

    public sealed class ChildServer(Process process, int port) : IDisposable
    {
        public int Port => port;

        public int Id => process.Id;

        public int ExitCode => process.ExitCode;

        /// <summary>SIGKILL.</summary>
        public void Kill() => process.Kill();

        public Task WaitForExitAsync() => process.WaitForExitAsync();

        public void Dispose()
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit();
            }
            process.Dispose();
        }
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
