using System.Reflection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StreamServer.Commands;
using StreamServer.Configuration;
using StreamServer.Hosting;

namespace StreamServer.Host;

/// <summary>Runs the server for the host's lifetime: SIGTERM/SIGINT and SHUTDOWN stop accepting, drain and exit 0.</summary>
internal sealed class ServerHostedService : IHostedService
{
    private readonly ServerOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger _log;
    private ServerRuntime? _runtime;

    public ServerHostedService(ServerOptions options, ILoggerFactory loggerFactory, IHostApplicationLifetime lifetime)
    {
        _options = options;
        _loggerFactory = loggerFactory;
        _lifetime = lifetime;
        _log = loggerFactory.CreateLogger("StreamServer");
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var version = typeof(ServerRuntime).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        _log.LogInformation("oO0OoO0OoO0Oo StreamServer is starting oO0OoO0OoO0Oo");
        _log.LogInformation("StreamServer version={Version}, redis_version={RedisVersion}, bits=64, pid={Pid}, just started",
            version, ConnectionCommands.RedisVersion, Environment.ProcessId);
        _runtime = new ServerRuntime(_options, _loggerFactory);
        _runtime.Server.ShutdownRequested = _ => _lifetime.StopApplication();
        await _runtime.StartAsync(cancellationToken).ConfigureAwait(false);
        _log.LogInformation("Running mode=standalone, port={Port}.", _runtime.Server.ListeningPort);
        foreach (var ep in _runtime.EndPoints) _log.LogInformation("Listening on {EndPoint}", ep);
        _log.LogInformation("Ready to accept connections tcp");
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _log.LogInformation("Received shutdown request, preparing to shut down.");
        if (_runtime is not null) await _runtime.StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        _log.LogInformation("StreamServer is now ready to exit, bye bye...");
    }
}
