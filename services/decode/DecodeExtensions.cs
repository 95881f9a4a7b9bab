using System.Text.Json.Serialization;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MoeDapr.Contracts;
using MoeDapr.Contracts.KvTransfer;
using MoeDapr.Decode.Eplb;
using MoeDapr.Engine;

namespace MoeDapr.Decode;

/// <summary>Wiring of the decode worker: options, the engine host, kv-transfer client, sessions, metrics, load and completion publishing.</summary>
public static class DecodeExtensions
{
    public static IHostApplicationBuilder AddDecodeServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.AddOptions<DecodeOptions>()
            .Configure(o =>
            {
                configuration.GetSection(DecodeOptions.WorkerSection).Bind(o);
                o.ModelPath = configuration["Model:Path"] ?? string.Empty;
                o.ModelName = configuration["Model:Name"] ?? string.Empty;
                if (configuration["Worker:AppId"] is null && configuration["APP_ID"] is { Length: > 0 } appId)
                {
                    o.AppId = appId;
                }
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DecodeOptions>, DecodeOptionsValidator>());
        services.TryAddSingleton(_ => BindEngineOptions(configuration));
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull);
        services.AddProblemDetails();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new ModelLocation(sp.GetRequiredService<IOptions<DecodeOptions>>().Value.ModelPath));
        services.TryAddSingleton<EngineHost>();
        services.AddHostedService(sp => sp.GetRequiredService<EngineHost>());
        services.TryAddSingleton<DecodeSessions>();
        services.TryAddSingleton<DecodeMetrics>();
        services.TryAddSingleton<DecodeWorker>();
        services.TryAddSingleton(sp => Channel.CreateBounded<CompletionRecord>(new BoundedChannelOptions(sp.GetRequiredService<IOptions<DecodeOptions>>().Value.CompletionQueue)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        }));
        services.AddHttpClient(AppIds.KvTransfer, (sp, http) => http.BaseAddress = KvTransferControlUri(sp.GetRequiredService<IOptions<DecodeOptions>>().Value, configuration));
        services.TryAddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<DecodeOptions>>().Value;
            var http = sp.GetRequiredService<IHttpClientFactory>().CreateClient(AppIds.KvTransfer);
            return new KvTransferClient(new KvTransferHttpControl(http), new KvTransferClientOptions
            {
                HostId = settings.HostId,
                Requester = settings.AppId,
                UseSharedMemory = settings.UseSharedMemory,
            });
        });
        services.AddHostedService<DecodePublisher>();
        services.AddHealthChecks().AddCheck<EngineHost>("model", tags: ["ready"]);
        builder.AddDecodeEplb();
        return builder;
    }

    public static WebApplication UseDecode(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapDecodeApi();
        app.UseDecodeEplb();
        return app;
    }

    /// <summary>The engine settings from the <c>Engine</c> section, validated (the message names the setting).</summary>
    internal static EngineOptions BindEngineOptions(IConfiguration configuration)
    {
        var options = configuration.GetSection("Engine").Get<EngineOptions>() ?? new EngineOptions();
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new OptionsValidationException("Engine", typeof(EngineOptions), ["Engine:" + e.Message.Replace("EngineOptions.", string.Empty, StringComparison.Ordinal)]);
        }

        return options;
    }

    /// <summary><c>Worker:KvTransferUrl</c>, or kv-transfer's methods through the Dapr sidecar.</summary>
    private static Uri KvTransferControlUri(DecodeOptions options, IConfiguration configuration)
    {
        if (options.KvTransferUrl.Length > 0)
        {
            return new Uri(options.KvTransferUrl.TrimEnd('/') + "/");
        }

        var sidecar = configuration["DAPR_HTTP_ENDPOINT"] is { Length: > 0 } endpoint
            ? endpoint.TrimEnd('/')
            : $"http://127.0.0.1:{configuration["DAPR_HTTP_PORT"] ?? "3500"}";
        return new Uri($"{sidecar}/v1.0/invoke/{AppIds.KvTransfer}/method/");
    }
}
