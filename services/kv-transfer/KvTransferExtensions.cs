using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MoeDapr.KvTransfer.Staging;

namespace MoeDapr.KvTransfer;

/// <summary>Wiring of kv-transfer: options, staging memory, block store, socket plane, lease sweeper, health.</summary>
public static class KvTransferExtensions
{
    public static IHostApplicationBuilder AddKvTransferServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<KvTransferOptions>().BindConfiguration(KvTransferOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KvTransferOptions>, KvTransferOptionsValidator>());
        services.AddProblemDetails();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<KvTransferMetrics>();
        services.TryAddSingleton(CreateStaging);
        services.TryAddSingleton<KvBlockStore>();
        services.TryAddSingleton<SocketPlaneService>();
        services.AddHostedService(sp => sp.GetRequiredService<SocketPlaneService>());
        services.AddHostedService<LeaseSweeper>();
        services.AddHealthChecks().AddCheck<SocketPlaneService>("kv-transfer-data-plane", tags: ["ready"]);
        return builder;
    }

    public static WebApplication UseKvTransfer(this WebApplication app)
    {
        // Unreadable bodies surface as BadHttpRequestException (thrown in Development): answer them 400, not 500.
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = e => e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
        app.MapKvTransferApi();
        return app;
    }

    private static IStagingMemory CreateStaging(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<KvTransferOptions>>().Value;
        var logger = services.GetRequiredService<ILogger<KvBlockStore>>();
        IStagingMemory staging;
        if (options.Staging == StagingKind.SharedMemory)
        {
            var directory = options.ResolveSharedMemoryDirectory();
            foreach (var stale in SharedMemoryStaging.RemoveStale(directory))
            {
                Log.StaleStagingRemoved(logger, stale);
            }

            staging = new SharedMemoryStaging(directory, options.CapacityBytes);
        }
        else
        {
            staging = new NativeStaging(options.CapacityBytes);
        }

        Log.StagingReady(logger, staging.Capacity, staging.SharedMemoryPath);
        return staging;
    }
}
