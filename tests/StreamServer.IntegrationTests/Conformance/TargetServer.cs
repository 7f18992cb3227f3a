using System.Globalization;
using System.Net;

namespace StreamServer.IntegrationTests.Conformance;

/// <summary>
/// The server a conformance run talks to: the endpoint named by CONFORMANCE_TARGET=host:port when it is set
/// (a real redis-server proves the transcripts), otherwise our own server started in-process.
/// This is the only file that knows about the embedded server.
/// </summary>
internal sealed class TargetServer : IAsyncDisposable
{
    public const string EnvironmentVariable = "CONFORMANCE_TARGET";

    private readonly IAsyncDisposable? _owned;

    private TargetServer(string host, int port, string description, IAsyncDisposable? owned)
    {
        Host = host;
        Port = port;
        Description = description;
        _owned = owned;
    }

    public string Host { get; }
    public int Port { get; }
    public string Description { get; }

    public static Task<TargetServer> StartAsync(CancellationToken ct = default)
    {
        var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(configured))
            return Task.FromResult(FromSetting(configured.Trim()));
#if EMBEDDED_SERVER
        return StartEmbeddedAsync(ct);
#else
        throw new InvalidOperationException(
            $"No conformance target. Set {EnvironmentVariable}=host:port to replay against a running server " +
            "(e.g. redis-server 7.0), or compile this test project with EMBEDDED_SERVER defined " +
            "(<DefineConstants>$(DefineConstants);EMBEDDED_SERVER</DefineConstants>) once " +
            "StreamServer.Embedded.EmbeddedServer exists, to replay against our own server in-process.");
#endif
    }

#if EMBEDDED_SERVER
    private static async Task<TargetServer> StartEmbeddedAsync(CancellationToken ct)
    {
        var server = await StreamServer.Embedded.EmbeddedServer.StartAsync(options: null, ct);
        var address = server.EndPoint.Address;
        if (address.Equals(IPAddress.Any)) address = IPAddress.Loopback;
        else if (address.Equals(IPAddress.IPv6Any)) address = IPAddress.IPv6Loopback;
        return new TargetServer(address.ToString(), server.Port, $"embedded StreamServer on port {server.Port}", server);
    }
#endif

    private static TargetServer FromSetting(string setting)
    {
        // host:port, [v6]:port
        var colon = setting.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(setting.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535)
        {
            throw new InvalidOperationException($"{EnvironmentVariable}='{setting}' is not host:port.");
        }
        var host = setting[..colon].Trim('[', ']');
        return new TargetServer(host, port, $"{EnvironmentVariable}={setting}", owned: null);
    }

    public ValueTask DisposeAsync() => _owned?.DisposeAsync() ?? ValueTask.CompletedTask;

    public override string ToString() => Description;
}
