using System.Net;
using Microsoft.Extensions.Logging;
using StreamServer.Configuration;
using StreamServer.Hosting;

namespace StreamServer.Embedded;

/// <summary>
/// A server started in-process on a free loopback port, for tests:
/// <code>await using var server = await EmbeddedServer.StartAsync();</code> then connect any Redis client to
/// <see cref="EndPoint"/>.
/// </summary>
public sealed class EmbeddedServer : IAsyncDisposable
{
    private readonly ServerRuntime _runtime;

    private EmbeddedServer(ServerRuntime runtime)
    {
        _runtime = runtime;
        EndPoint = runtime.EndPoints[0];
    }

    /// <summary>The address clients connect to (127.0.0.1 and a port chosen by the OS unless options name one).</summary>
    public IPEndPoint EndPoint { get; }

    public int Port => EndPoint.Port;

    /// <summary>"127.0.0.1:port", as StackExchange.Redis and redis-cli take it.</summary>
    public string ConnectionString => $"{EndPoint.Address}:{EndPoint.Port}";

    internal ServerRuntime Runtime => _runtime;

    /// <summary>Starts a server; with no options, on 127.0.0.1 and a free port, without persistence.</summary>
    public static Task<EmbeddedServer> StartAsync(ServerOptions? options = null, CancellationToken ct = default)
        => StartAsync(options, loggerFactory: null, ct);

    /// <summary>As <see cref="StartAsync(ServerOptions?, CancellationToken)"/>, logging to <paramref name="loggerFactory"/>.</summary>
    public static async Task<EmbeddedServer> StartAsync(ServerOptions? options, ILoggerFactory? loggerFactory, CancellationToken ct = default)
    {
        options ??= new ServerOptions { Port = 0, Bind = ["127.0.0.1"] };
        var runtime = new ServerRuntime(options, loggerFactory);
        await runtime.StartAsync(ct).ConfigureAwait(false);
        return new EmbeddedServer(runtime);
    }

    public ValueTask DisposeAsync() => _runtime.DisposeAsync();
}
