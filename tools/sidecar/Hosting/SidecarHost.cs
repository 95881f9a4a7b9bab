using System.Net;
using Grpc.AspNetCore.Server.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using MoeDapr.Sidecar.Api;
using MoeDapr.Sidecar.Grpc;
using MoeDapr.Sidecar.Resources;

namespace MoeDapr.Sidecar.Hosting;

/// <summary>One app's sidecar: Kestrel with daprd's HTTP API on one port and the gRPC API (h2c) on another.</summary>
public sealed class SidecarHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SidecarHost(WebApplication app, SidecarRuntime runtime)
    {
        _app = app;
        Runtime = runtime;
    }

    public SidecarRuntime Runtime { get; }

    public int HttpPort => Runtime.HttpPort;

    public int GrpcPort => Runtime.GrpcPort;

    public string HttpEndpoint => $"http://127.0.0.1:{HttpPort}";

    public string GrpcEndpoint => $"http://127.0.0.1:{GrpcPort}";

    /// <summary>
    /// Validates the options, loads resources and components (a bad file or component throws
    /// <see cref="SidecarConfigurationException"/> / <see cref="SidecarResourceException"/>), binds the ports and starts.
    /// </summary>
    public static async Task<SidecarHost> StartAsync(SidecarOptions options, SidecarEnvironment environment, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var resources = ResourceLoader.Load(options.ResourcesPaths, options.ConfigPath);
        var (states, pubsubs) = await environment.CreateComponentsAsync(resources.Components.Where(c => c.AppliesTo(options.AppId)), cancellationToken);
        var runtime = new SidecarRuntime(options, environment, resources, states, pubsubs);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "moedapr-sidecar",
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(environment.LoggerFactory);
        var address = IPAddress.Parse(options.ListenAddress is "localhost" ? "127.0.0.1" : options.ListenAddress);
        ListenOptions? httpListen = null;
        ListenOptions? grpcListen = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxBodySize;
            kestrel.Limits.MinRequestBodyDataRate = null;
            kestrel.Listen(address, options.HttpPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                httpListen = listen;
            });
            kestrel.Listen(address, options.GrpcPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                grpcListen = listen;
            });
        });
        builder.Services.AddRouting();
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = (int)Math.Min(options.MaxBodySize, int.MaxValue);
            grpc.MaxSendMessageSize = null;
        });
        builder.Services.AddSingleton(runtime);
        builder.Services.AddSingleton<DaprGrpcService>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<DaprGrpcService>, DaprMethodProvider>());

        var app = builder.Build();
        app.UseWhen(context => context.Connection.LocalPort == runtime.HttpPort, branch => branch.UseDaprHttpFront(runtime));
        app.UseRouting();
        app.MapGrpcService<DaprGrpcService>();
        app.MapDaprHttpApi(runtime);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException ex)
        {
            await app.DisposeAsync();
            await runtime.DisposeAsync();
            throw new SidecarConfigurationException($"app '{options.AppId}': cannot bind --dapr-http-port {options.HttpPort} / --dapr-grpc-port {options.GrpcPort} on {options.ListenAddress}: {ex.Message}");
        }

        runtime.HttpPort = httpListen!.IPEndPoint!.Port;
        runtime.GrpcPort = grpcListen!.IPEndPoint!.Port;
        runtime.Start();
        return new SidecarHost(app, runtime);
    }

    /// <summary>Waits until the sidecar discovered its app (healthz answers 204).</summary>
    public Task WaitReadyAsync(TimeSpan timeout) => Runtime.Ready.WaitAsync(timeout);

    public async ValueTask DisposeAsync()
    {
        await Runtime.DisposeAsync();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _app.StopAsync(stop.Token);
        }
        catch (OperationCanceledException)
        {
            // Open streams are cut.
        }

        await _app.DisposeAsync();
    }
}
