using System.Net;
using System.Net.Sockets;

namespace MoeDapr.Tests.Shared;

/// <summary>Free loopback TCP ports for apps, sidecars and servers a test starts.</summary>
public static class FreePort
{
    /// <summary>A port the OS just handed out and took back: free now, though another process may take it before the caller binds it.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
