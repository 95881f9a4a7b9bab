using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace MoeDapr.Sidecar.Tests.Infrastructure;

/// <summary>A real Kestrel app on a loopback port, as a service behind a sidecar would be.</summary>
public sealed class TestApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestApp(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public static async Task<TestApp> StartAsync(Action<WebApplicationBuilder>? services, Action<WebApplication> map, int? port = null)
    {
        var appPort = port ?? FreePort.Next();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ApplicationName = typeof(TestApp).Assembly.GetName().Name });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{appPort}");
        services?.Invoke(builder);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return new TestApp(app, appPort);
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _app.StopAsync(stop.Token);
        }
        catch (OperationCanceledException)
        {
            // Requests still open are cut.
        }

        await _app.DisposeAsync();
    }
}
