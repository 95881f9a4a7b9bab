using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MoeDapr.Contracts;
using MoeDapr.Decode.Eplb;

namespace MoeDapr.Decode;

/// <summary>Wiring of the decode worker: what every engine worker has (<see cref="EngineWorkerExtensions"/>), its sessions, metrics, load and completion publishing and EPLB.</summary>
public static class DecodeExtensions
{
    public static IHostApplicationBuilder AddDecodeServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        builder.AddEngineWorker<DecodeOptions, DecodeOptionsValidator>();
        services.TryAddSingleton<DecodeSessions>();
        services.TryAddSingleton<DecodeMetrics>();
        services.TryAddSingleton<DecodeWorker>();
        services.TryAddSingleton(sp => Channel.CreateBounded<CompletionRecord>(new BoundedChannelOptions(sp.GetRequiredService<IOptions<DecodeOptions>>().Value.CompletionQueue)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        }));
        services.AddHostedService<DecodePublisher>();
        builder.AddDecodeEplb();
        return builder;
    }

    public static WebApplication UseDecode(this WebApplication app)
    {
        app.UseEngineWorker();
        app.MapDecodeApi();
        app.UseDecodeEplb();
        return app;
    }
}
