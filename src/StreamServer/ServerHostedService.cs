using System.Reflection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StreamServer.Commands;
using StreamServer.Configuration;
using StreamServer.Hosting;

namespace StreamServer.Host;

/// <summary>
/// The server's part in the host's lifetime. The runtime is started (listening) before the host is built, so
/// that clients are served while the host starts; stopping the host (SIGTERM/SIGINT, or SHUTDOWN) stops
/// accepting, drains in-flight batches, fsyncs the AOF and exits 0.
/// </summary>
internal sealed class ServerHostedService(ServerRuntime runtime, ILoggerFactory loggerFactory) : IHostedService
{
    /// <summary>Logs Redis's start-up lines and starts the runtime: AOF loaded, dispatcher running, listening.</summary>
    public static async Task<ServerRuntime> StartRuntimeAsync(ServerOptions options, ILoggerFactory loggerFactory)
    {
        var log = loggerFactory.CreateLogger("StreamServer");
        var version = typeof(ServerRuntime).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        log.LogInformation("oO0OoO0OoO0Oo StreamServer is starting oO0OoO0OoO0Oo");
        log.LogInformation("StreamServer version={Version}, redis_version={RedisVersion}, bits=64, pid={Pid}, just started",
            version, ConnectionCommands.RedisVersion, Environment.ProcessId);
        var runtime = new ServerRuntime(options, loggerFactory);
        await runtime.StartAsync().ConfigureAwait(false);
        log.LogInformation("Running mode=standalone, port={Port}.", runtime.Server.ListeningPort);
        foreach (var ep in runtime.EndPoints) log.LogInformation("Listening on {EndPoint}", ep);
        log.LogInformation("Ready to accept connections tcp");
        return runtime;
    }

    /// <summary>Stops the runtime once (later calls return at once).</summary>
    public static async Task StopRuntimeAsync(ServerRuntime runtime, ILoggerFactory loggerFactory)
    {
        if (runtime.Stopped) return;
        var log = loggerFactory.CreateLogger("StreamServer");
        log.LogInformation("Received shutdown request, preparing to shut down.");
        await runtime.StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        log.LogInformation("StreamServer is now ready to exit, bye bye...");
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => StopRuntimeAsync(runtime, loggerFactory);
}
