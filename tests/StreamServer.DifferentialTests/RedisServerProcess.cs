using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace StreamServer.DifferentialTests;

/// <summary>A real redis-server (the oracle) on a free loopback port, without persistence, for one test class.</summary>
public sealed class RedisServerProcess : IAsyncLifetime
{
    private Process? _process;
    private string? _dir;

    public int Port { get; private set; }

    public string Version { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var binary = Environment.GetEnvironmentVariable("REDIS_SERVER") ?? "redis-server";
        Port = FreePort();
        _dir = Directory.CreateTempSubdirectory("ss-oracle-").FullName;
        var psi = new ProcessStartInfo(binary)
        {
            ArgumentList = { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", _dir },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        try
        {
            _process = Process.Start(psi) ?? throw new InvalidOperationException("redis-server did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException(
                "The differential tests need a real redis-server (Debian: apt-get install redis-server); set REDIS_SERVER to its path.", e);
        }
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        throw new InvalidOperationException($"redis-server did not listen on port {Port}");
    }

    public Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }
        _process?.Dispose();
        if (_dir is not null) Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
