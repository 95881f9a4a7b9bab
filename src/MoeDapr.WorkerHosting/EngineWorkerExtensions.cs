using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MoeDapr.Engine;
using MoeDapr.KvTransfer.DataPlane.Client;

namespace MoeDapr.WorkerHosting;

/// <summary>The wiring prefill and decode share: their options, the engine host, the kv-transfer client and the HTTP basics.</summary>
public static class EngineWorkerExtensions
{
    /// <summary>
    /// Binds <typeparamref name="TOptions"/> from <c>Worker</c> and <c>Model</c> (and <c>APP_ID</c> when
    /// <c>Worker:AppId</c> is not set), validated at start by <typeparamref name="TValidator"/>; the engine settings
    /// from <c>Engine</c>; the <see cref="EngineHost"/> (hosted, and the readiness check "model"); and a
    /// <see cref="KvTransferClient"/> (<see cref="KvTransferClientExtensions.AddKvTransferClient"/>) for kv-transfer's control API at
    /// <c>Worker:KvTransferUrl</c> or through the sidecar.
    /// </summary>
    public static IHostApplicationBuilder AddEngineWorker<TOptions, TValidator>(this IHostApplicationBuilder builder)
        where TOptions : EngineWorkerOptions
        where TValidator : class, IValidateOptions<TOptions>
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.AddOptions<TOptions>()
            .Configure(o =>
            {
                configuration.GetSection(EngineWorkerOptions.WorkerSection).Bind(o);
                o.ModelPath = configuration[EngineWorkerOptions.ModelSection + ":Path"] ?? string.Empty;
                o.ModelName = configuration[EngineWorkerOptions.ModelSection + ":Name"] ?? string.Empty;
                if (configuration[EngineWorkerOptions.WorkerSection + ":AppId"] is null && configuration["APP_ID"] is { Length: > 0 } appId)
                {
                    o.AppId = appId;
                }
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        services.TryAddSingleton(_ => BindEngineOptions(configuration));
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull);
        services.AddProblemDetails();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new ModelLocation(sp.GetRequiredService<IOptions<TOptions>>().Value.ModelPath));
        services.TryAddSingleton<EngineHost>();
        services.AddHostedService(sp => sp.GetRequiredService<EngineHost>());
        services.AddKvTransferClient((client, sp) =>
        {
            var settings = sp.GetRequiredService<IOptions<TOptions>>().Value;
            client.HostId = settings.HostId;
            client.Requester = settings.AppId;
            client.UseSharedMemory = settings.UseSharedMemory;
            client.ControlUrl = settings.KvTransferUrl;
        });
        services.AddHealthChecks().AddCheck<EngineHost>("model", tags: ["ready"]);
        return builder;
    }

    /// <summary>Problem details for errors and bare status codes, in front of a worker's endpoints.</summary>
    public static WebApplication UseEngineWorker(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    /// <summary>The engine settings from the <c>Engine</c> section, validated (the message names the setting).</summary>
    public static EngineOptions BindEngineOptions(IConfiguration configuration)
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
}
