using Dapr.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MoeDapr.Contracts.KvTransfer;

namespace MoeDapr.ServiceDefaults.KvTransfer;

/// <summary>Registers the kv-transfer client for prefill and decode: control calls through the Dapr sidecar, bytes on the data planes.</summary>
public static class KvTransferClientExtensions
{
    /// <summary>Configuration section of <see cref="KvTransferClientOptions"/> (HostId, Requester, UseSharedMemory).</summary>
    public const string Section = "KvTransferClient";

    /// <summary>
    /// Adds a singleton <see cref="KvTransferClient"/> whose control calls go to app id <c>kv-transfer</c> via
    /// Dapr service invocation (the sidecar found from DAPR_HTTP_ENDPOINT / DAPR_HTTP_PORT, token from DAPR_API_TOKEN).
    /// </summary>
    public static IServiceCollection AddKvTransferClient(this IServiceCollection services)
    {
        services.AddOptions<KvTransferClientOptions>()
            .BindConfiguration(Section)
            .PostConfigure(options =>
            {
                // Under `dapr run` and the Kubernetes injector the app id names the requester.
                if (Environment.GetEnvironmentVariable("APP_ID") is { Length: > 0 } appId && options.Requester == AppDomain.CurrentDomain.FriendlyName)
                {
                    options.Requester = $"{appId}/{Environment.MachineName}/{Environment.ProcessId}";
                }
            })
            .Validate(options => !string.IsNullOrWhiteSpace(options.HostId), $"{Section}:HostId must not be empty.")
            .ValidateOnStart();
        services.TryAddSingleton<IKvTransferControl>(_ => new KvTransferHttpControl(DaprClient.CreateInvokeHttpClient(KvTransferRoutes.AppId)));
        services.TryAddSingleton(sp => new KvTransferClient(sp.GetRequiredService<IKvTransferControl>(), sp.GetRequiredService<IOptions<KvTransferClientOptions>>().Value));
        return services;
    }
}
