using System.Globalization;
using Microsoft.AspNetCore.Hosting;

namespace MoeDapr.Tests.Shared;

/// <summary>The settings an engine worker (prefill, decode) runs under in an in-process test.</summary>
public static class WorkerHostSettings
{
    /// <summary>Serves <paramref name="modelPath"/> on one engine thread with no Dapr sidecar, then applies <paramref name="settings"/>.</summary>
    public static IWebHostBuilder UseTestWorkerSettings(this IWebHostBuilder builder, string modelPath, IReadOnlyDictionary<string, string>? settings = null)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // A port nothing listens on: load snapshots and completion records fail to publish quietly, as before a sidecar starts.
        var noSidecar = FreePort.Next().ToString(CultureInfo.InvariantCulture);
        builder.UseSetting("DAPR_HTTP_PORT", noSidecar);
        builder.UseSetting("DAPR_GRPC_PORT", noSidecar);
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Model:Path", modelPath);
        builder.UseSetting("Engine:Threads", "1");
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            builder.UseSetting(key, value);
        }

        return builder;
    }
}
