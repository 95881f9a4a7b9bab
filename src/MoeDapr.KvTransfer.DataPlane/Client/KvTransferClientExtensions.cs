using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MoeDapr.Contracts.KvTransfer;

namespace MoeDapr.KvTransfer.DataPlane.Client;

/// <summary>The one registration of the kv-transfer client: prefill and decode (through the worker hosting) and the tests use it.</summary>
public static class KvTransferClientExtensions
{
    /// <summary>Name of the <see cref="HttpClient"/> that carries the control calls.</summary>
    public const string HttpClientName = KvTransferRoutes.AppId;

    /// <summary>
    /// Adds a singleton <see cref="KvTransferClient"/> with the options <paramref name="configure"/> sets (checked at start).
    /// Control calls go to <see cref="KvTransferClientOptions.ControlUrl"/> or, when it is empty, to app id
    /// <c>kv-transfer</c> through the Dapr sidecar: <c>DAPR_HTTP_ENDPOINT</c>, else <c>http://127.0.0.1:DAPR_HTTP_PORT</c>
    /// (3500 when unset), with <c>DAPR_API_TOKEN</c> sent as <c>dapr-api-token</c> when configured, as daprd asks.
    /// The control and the client are added with TryAdd, so a test can put its own in first.
    /// </summary>
    public static IServiceCollection AddKvTransferClient(this IServiceCollection services, Action<KvTransferClientOptions, IServiceProvider> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<KvTransferClientOptions>()
            .Configure<IServiceProvider>((options, provider) => configure(options, provider))
            .Validate(o => !string.IsNullOrWhiteSpace(o.HostId), "The kv-transfer client's HostId must not be empty (kv-transfer compares it with its own to offer shared memory).")
            .Validate(o => o.ControlUrl.Length == 0 || Uri.TryCreate(o.ControlUrl, UriKind.Absolute, out _), "The kv-transfer client's ControlUrl must be empty (through the Dapr sidecar) or an absolute URL.")
            .ValidateOnStart();
        services.AddHttpClient(HttpClientName, (provider, http) =>
            ConfigureControl(http, provider.GetRequiredService<IOptions<KvTransferClientOptions>>().Value, provider.GetService<IConfiguration>()));
        services.TryAddSingleton<IKvTransferControl>(provider =>
            new KvTransferHttpControl(provider.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName)));
        services.TryAddSingleton(provider =>
            new KvTransferClient(provider.GetRequiredService<IKvTransferControl>(), provider.GetRequiredService<IOptions<KvTransferClientOptions>>().Value));
        return services;
    }

    private static void ConfigureControl(HttpClient http, KvTransferClientOptions options, IConfiguration? configuration)
    {
        if (options.ControlUrl.Length > 0)
        {
            http.BaseAddress = new Uri(options.ControlUrl.TrimEnd('/') + "/");
            return;
        }

        var sidecar = configuration?["DAPR_HTTP_ENDPOINT"] is { Length: > 0 } endpoint
            ? endpoint.TrimEnd('/')
            : $"http://127.0.0.1:{configuration?["DAPR_HTTP_PORT"] ?? "3500"}";
        http.BaseAddress = new Uri($"{sidecar}/v1.0/invoke/{KvTransferRoutes.AppId}/method/");
        if (configuration?["DAPR_API_TOKEN"] is { Length: > 0 } token)
        {
            http.DefaultRequestHeaders.Add("dapr-api-token", token);
        }
    }
}
