using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace MoeDapr.Decode.Tests.Infrastructure;

/// <summary>The decode service in-process on a checkpoint folder, one engine thread, no Dapr sidecar behind it.</summary>
public sealed class DecodeFactory(string modelPath, IReadOnlyDictionary<string, string>? settings = null) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder) => builder.UseTestWorkerSettings(modelPath, settings);
}
