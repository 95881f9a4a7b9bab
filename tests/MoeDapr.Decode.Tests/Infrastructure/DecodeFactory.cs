using System.Globalization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace MoeDapr.Decode.Tests.Infrastructure;

/// <summary>The decode service in-process on a checkpoint folder, one engine thread, no Dapr sidecar behind it.</summary>
public sealed class DecodeFactory(string modelPath, IReadOnlyDictionary<string, string>? settings = null) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // A port nothing listens on: load and completion publishing fail quietly, as before a sidecar starts.
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
    }
}
