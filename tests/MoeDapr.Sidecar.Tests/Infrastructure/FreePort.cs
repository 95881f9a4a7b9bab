using System.Net;
using System.Net.Sockets;

namespace MoeDapr.Sidecar.Tests.Infrastructure;

/// <summary>Free loopback TCP ports for apps, sidecars and redis-server.</summary>
public static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
