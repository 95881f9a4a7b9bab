using System.Net;
using System.Net.Sockets;

namespace MoeDapr.Eplb.Tests.Infrastructure;

/// <summary>Free loopback TCP ports for apps and sidecars.</summary>
public static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
