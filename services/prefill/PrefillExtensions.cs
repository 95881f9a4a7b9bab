using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MoeDapr.Prefill;

/// <summary>Wiring of the prefill worker: what every engine worker has (<see cref="EngineWorkerExtensions"/>), its metrics, load meter and load publishing.</summary>
public static class PrefillExtensions
{
    public static IHostApplicationBuilder AddPrefillServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        builder.AddEngineWorker<PrefillOptions, PrefillOptionsValidator>();
        services.TryAddSingleton<LoadMeter>();
        services.TryAddSingleton<PrefillMetrics>();
        services.TryAddSingleton<PrefillWorker>();
        services.AddHostedService<LoadSnapshotPublisher>();
        return builder;
    }

    public static WebApplication UsePrefill(this WebApplication app)
    {
        app.UseEngineWorker();
        app.MapPrefillApi();
        return app;
    }
}
