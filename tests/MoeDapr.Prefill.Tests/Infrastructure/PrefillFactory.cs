using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using MoeDapr.Contracts;

namespace MoeDapr.Prefill.Tests.Infrastructure;

/// <summary>
/// The prefill service in-process on a checkpoint folder, one engine thread, no Dapr sidecar. Its kv-transfer calls go
/// to <paramref name="kvTransfer"/> when given (on the same host id, so the shared-memory plane is used), else to a
/// port nothing listens on.
/// </summary>
public sealed class PrefillFactory(string modelPath, KvTransferServer? kvTransfer, IReadOnlyDictionary<string, string>? settings = null)
    : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Worker:HostId", KvTransferServer.HostId);
        builder.UseSetting("Worker:KvTransferUrl", kvTransfer is null ? $"http://127.0.0.1:{FreePort.Next()}/" : "http://kv-transfer/");
        builder.UseTestWorkerSettings(modelPath, settings);
        if (kvTransfer is not null)
        {
            builder.ConfigureTestServices(services =>
                services.AddHttpClient(AppIds.KvTransfer).ConfigurePrimaryHttpMessageHandler(() => kvTransfer.Server.CreateHandler()));
        }
    }
}
