using Dapr.Actors.Runtime;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MoeDapr.Decode.Eplb;

/// <summary>Wiring of expert telemetry (always) and live rebalancing (<c>Eplb:Enabled</c>) into decode.</summary>
public static class DecodeEplbExtensions
{
    public static IHostApplicationBuilder AddDecodeEplb(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.AddOptions<EplbOptions>().BindConfiguration(EplbOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EplbOptions>, EplbOptionsValidator>());
        services.TryAddSingleton(_ => new EplbMetrics());
        services.TryAddSingleton<ExpertTelemetry>();
        services.AddHostedService(sp => sp.GetRequiredService<ExpertTelemetry>());

        var settings = configuration.GetSection(EplbOptions.Section).Get<EplbOptions>() ?? new EplbOptions();
        if (settings.RedundantExperts is { } redundant and >= 0)
        {
            // Eplb:RedundantExperts (ep_num_redundant_experts) sizes the engine's physical expert slots.
            services.Replace(ServiceDescriptor.Singleton(_ => EngineWorkerExtensions.BindEngineOptions(configuration) with { RedundantExperts = redundant }));
        }

        if (!settings.Enabled)
        {
            return builder;
        }

        services.AddActors(options =>
        {
            options.Actors.RegisterActor<EplbCoordinatorActor>();
            options.HttpEndpoint = CoordinatorClient.SidecarHttpEndpoint(configuration);
            if (configuration["DAPR_API_TOKEN"] is { Length: > 0 } token)
            {
                options.DaprApiToken = token;
            }

            options.UseJsonSerialization = true;
        });
        services.TryAddSingleton<CoordinatorClient>();
        services.TryAddSingleton<PlanApplier>();
        services.AddHostedService(sp => sp.GetRequiredService<PlanApplier>());
        services.AddHostedService<LoadWindowPublisher>();
        return builder;
    }

    public static WebApplication UseDecodeEplb(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (!app.Services.GetRequiredService<IOptions<EplbOptions>>().Value.Enabled)
        {
            return app;
        }

        app.UseCloudEvents();
        app.MapSubscribeHandler();
        app.MapActorsHandlers();
        app.MapEplbEndpoints();
        return app;
    }
}
