using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace StreamServer.IntegrationTests.Hosting;

/// <summary>
/// A fact that needs something of the machine: reported as skipped, with the reason, where it is missing, rather
/// than passing without having checked anything. CI (.ci/run) installs the redis-server package.
/// </summary>
public sealed class RequiresStockRedisConfFactAttribute : FactAttribute
{
    public const string Path = "/etc/redis/redis.conf";

    public RequiresStockRedisConfFactAttribute()
    {
        if (!File.Exists(Path)) Skip = $"{Path} is missing: the redis-server package is not installed here";
    }
}

/// <summary>A fact that connects from a non-loopback IPv4 address of this machine; skipped where there is none.</summary>
public sealed class RequiresExternalAddressFactAttribute : FactAttribute
{
    public RequiresExternalAddressFactAttribute()
    {
        if (Find() is null) Skip = "no non-loopback IPv4 interface to connect from";
    }

    public static IPAddress? Find() => NetworkInterface.GetAllNetworkInterfaces()
        .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
        .SelectMany(n => n.GetIPProperties().UnicastAddresses)
        .Select(a => a.Address)
        .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
}
