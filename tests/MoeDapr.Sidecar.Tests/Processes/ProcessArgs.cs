using System.Globalization;

namespace MoeDapr.Sidecar.Tests.Processes;

/// <summary>Command lines for the moedapr-sidecar process.</summary>
internal static class ProcessArgs
{
    public static List<string> For(string appId, int? appPort, int httpPort, int grpcPort, string resources, string registry)
    {
        var args = new List<string>
        {
            "--app-id", appId,
            "--dapr-http-port", httpPort.ToString(CultureInfo.InvariantCulture),
            "--dapr-grpc-port", grpcPort.ToString(CultureInfo.InvariantCulture),
            "--resources-path", resources,
            "--registry-path", registry,
            "--log-level", "warn",
        };
        if (appPort is { } port)
        {
            args.AddRange(["--app-port", port.ToString(CultureInfo.InvariantCulture), "--app-protocol", "http"]);
        }

        return args;
    }

    /// <summary>A registry folder of the test's own (inside its resources folder, removed with it).</summary>
    public static string NewRegistry(Components components) => Path.Combine(components.Path, "registry");
}
