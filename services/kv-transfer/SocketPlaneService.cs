using System.Net;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using MoeDapr.KvTransfer.DataPlane.Server;

namespace MoeDapr.KvTransfer;

/// <summary>Hosts the socket data plane next to the HTTP control API; ready once it listens.</summary>
public sealed class SocketPlaneService(KvBlockStore store, IOptions<KvTransferOptions> options, TimeProvider time, ILogger<SocketPlaneService> logger)
    : IHostedService, IHealthCheck, IAsyncDisposable
{
    private KvSocketServer? _server;

    /// <summary>Where the plane listens, once started.</summary>
    public IPEndPoint? LocalEndPoint => _server?.LocalEndPoint;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var server = new KvSocketServer(store, new IPEndPoint(IPAddress.Parse(settings.SocketListenAddress), settings.SocketPort), settings.SocketMaxConnections, settings.SocketIoTimeout, time);
        server.ConnectionFailed += e => Log.SocketConnectionFailed(logger, e);
        server.Start();
        var host = settings.ResolveAdvertiseHost();
        store.SetSocketEndpoint(host, server.LocalEndPoint.Port);
        Log.SocketListening(logger, server.LocalEndPoint.ToString(), host);
        _server = server;
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_server is null
            ? HealthCheckResult.Unhealthy("socket data plane not listening")
            : HealthCheckResult.Healthy($"socket plane on {_server.LocalEndPoint}, {store.BytesInUse} of {store.Capacity} staging bytes in use"));

    public async ValueTask DisposeAsync()
    {
        var server = Interlocked.Exchange(ref _server, null);
        if (server is not null)
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }
    }
}
