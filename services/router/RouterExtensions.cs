using Dapr.Client;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MoeDapr.Router.Access;
using MoeDapr.Router.Api;
using MoeDapr.Router.Diagnostics;
using MoeDapr.Router.Generation;
using MoeDapr.Router.Options;
using MoeDapr.Router.Policies;
using MoeDapr.Router.Scheduling;
using MoeDapr.Router.Serving;
using MoeDapr.Router.Workers;

namespace MoeDapr.Router;

/// <summary>The router's wiring. Everything is registered with <c>TryAdd</c> so tests can replace any part first.</summary>
public static class RouterExtensions
{
    /// <summary>Configuration key: publish a completion record per request (default true).</summary>
    public const string PublishCompletionsKey = "Router:PublishCompletionRecords";

    public static IHostApplicationBuilder AddRouterServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ModelOptions>().BindConfiguration(ModelOptions.Section).ValidateOnStart();
        services.AddOptions<AdmissionOptions>().BindConfiguration(AdmissionOptions.Section).ValidateOnStart();
        services.AddOptions<BatchingOptions>().BindConfiguration(BatchingOptions.Section).ValidateOnStart();
        services.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.Section).ValidateOnStart();
        services.AddOptions<DegradedOptions>().BindConfiguration(DegradedOptions.Section).ValidateOnStart();
        services.AddOptions<ServedNameOptions>().BindConfiguration(ServedNameOptions.Section);
        builder.AddRouterAccess();
        services.TryAddSingleton<RouterOptionsValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ModelOptions>, RouterOptionsValidator>(sp => sp.GetRequiredService<RouterOptionsValidator>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AdmissionOptions>, RouterOptionsValidator>(sp => sp.GetRequiredService<RouterOptionsValidator>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BatchingOptions>, RouterOptionsValidator>(sp => sp.GetRequiredService<RouterOptionsValidator>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WorkerOptions>, RouterOptionsValidator>(sp => sp.GetRequiredService<RouterOptionsValidator>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DegradedOptions>, RouterOptionsValidator>(sp => sp.GetRequiredService<RouterOptionsValidator>()));

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(_ => new RouterRandom(new Random()));
        services.TryAddSingleton(_ => new RouterMetrics());

        // Policies, picked by name.
        services.TryAddSingleton<IAdmissionPolicy>(sp => sp.GetRequiredService<IOptions<AdmissionOptions>>().Value.Policy switch
        {
            PolicyNames.FifoAdmission => ActivatorUtilities.CreateInstance<FifoAdmissionPolicy>(sp),
            _ => ActivatorUtilities.CreateInstance<PriorityAdmissionPolicy>(sp),
        });
        services.TryAddSingleton<IBatchSizePolicy>(sp => sp.GetRequiredService<IOptions<BatchingOptions>>().Value.Policy switch
        {
            PolicyNames.FixedBatching => ActivatorUtilities.CreateInstance<FixedBatchSizePolicy>(sp),
            _ => ActivatorUtilities.CreateInstance<AdaptiveBatchSizePolicy>(sp),
        });
        services.TryAddSingleton<IPrefillWorkerPolicy>(sp => sp.GetRequiredService<IOptions<WorkerOptions>>().Value.PrefillPolicy switch
        {
            PolicyNames.PowerOfTwo => ActivatorUtilities.CreateInstance<PowerOfTwoPrefillPolicy>(sp),
            _ => ActivatorUtilities.CreateInstance<PrefixAwarePrefillPolicy>(sp),
        });
        services.TryAddSingleton<IDecodeWorkerPolicy>(sp => sp.GetRequiredService<IOptions<WorkerOptions>>().Value.DecodePolicy switch
        {
            PolicyNames.LeastLoaded => new LeastLoadedDecodePolicy(),
            _ => ActivatorUtilities.CreateInstance<PowerOfTwoDecodePolicy>(sp),
        });

        services.TryAddSingleton<WorkerRegistry>();
        services.TryAddSingleton<ServingPathPlanner>();
        services.TryAddSingleton<DegradedMode>();
        services.TryAddSingleton<DrainRateMeter>();
        services.TryAddSingleton<ServiceRateMeter>();
        services.TryAddSingleton<AdmissionGate>();
        services.TryAddSingleton<BatchPlanner>();
        services.TryAddSingleton<PrefillExecutor>();
        services.TryAddSingleton<Dispatcher>();
        services.AddHostedService<DispatchLoop>();
        services.AddHostedService<KvTransferProbe>();
        services.TryAddSingleton<GenerationService>();
        services.TryAddSingleton<IWorkerClient>(_ =>
        {
            // One client for every app id: the invocation handler turns http://{appId}/{method} into a sidecar call.
            var http = DaprClient.CreateInvokeHttpClient();
            http.Timeout = Timeout.InfiniteTimeSpan; // each call carries its own deadline
            return new DaprWorkerClient(http);
        });
        services.TryAddSingleton<ICompletionSink>(sp => sp.GetRequiredService<IConfiguration>().GetValue(PublishCompletionsKey, true)
            ? ActivatorUtilities.CreateInstance<DaprCompletionSink>(sp)
            : new NullCompletionSink());

        services.TryAddSingleton(sp => ServedModelLoader.Load(sp.GetRequiredService<IOptions<ModelOptions>>().Value, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<ServedNameOptions>>().Value.ServedModelNames));
        services.TryAddSingleton<UnknownFieldLog>();
        services.TryAddSingleton<RouterReadinessCheck>(); // one instance, so it remembers the last status it logged

        services.AddHealthChecks().AddCheck<RouterReadinessCheck>("workers", tags: ["ready"]);
        return builder;
    }

    /// <summary>Maps the OpenAI routes, vLLM's tokenize/version/ping routes, the admin routes and the worker-load subscription; loads the model (errors stop the start).</summary>
    public static WebApplication MapRouterEndpoints(this WebApplication app)
    {
        var model = app.Services.GetRequiredService<ServedModel>();
        var services = app.Services;
        Log.Started(services.GetRequiredService<ILogger<Dispatcher>>(), model.Name, model.ContextLength,
            services.GetRequiredService<IAdmissionPolicy>().Name, services.GetRequiredService<IBatchSizePolicy>().Name,
            services.GetRequiredService<IPrefillWorkerPolicy>().Name, services.GetRequiredService<IDecodeWorkerPolicy>().Name);
        app.UseOpenAiStatusPages();
        app.UseRequestIds();
        app.UseRouterAccess();
        app.UseCloudEvents();
        app.MapCompletionsApi();
        app.MapTokenizeApi();
        app.MapServerInfoApi();
        app.MapAdminApi();
        app.MapWorkerEvents();
        return app;
    }
}
