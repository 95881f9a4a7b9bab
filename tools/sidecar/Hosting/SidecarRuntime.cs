using System.Net;
using Microsoft.Extensions.Logging;
using MoeDapr.Sidecar.Actors;
using MoeDapr.Sidecar.Discovery;
using MoeDapr.Sidecar.PubSub;
using MoeDapr.Sidecar.Resources;
using MoeDapr.Sidecar.State;

namespace MoeDapr.Sidecar.Hosting;

/// <summary>The state of one app's sidecar: its components, app channel, subscriptions and actors.</summary>
public sealed partial class SidecarRuntime : ILocalSidecar, IAsyncDisposable
{
    public const string RuntimeVersion = "1.18.0-moedapr";

    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _initialization;
    private Task? _healthLoop;
    private volatile bool _appHealthy = true;
    private volatile TaskCompletionSource _healthyAgain = NewHealthySignal(completed: true);

    internal SidecarRuntime(
        SidecarOptions options,
        SidecarEnvironment environment,
        ResourceSet resources,
        Dictionary<string, IStateStore> states,
        Dictionary<string, IPubSub> pubsubs)
    {
        Options = options;
        Environment = environment;
        Resources = resources;
        StateStores = states;
        PubSubs = pubsubs;
        InstanceId = $"{options.AppId}-{System.Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
        Logger = environment.LoggerFactory.CreateLogger("MoeDapr.Sidecar." + options.AppId);
        AppClient = CreateClient(TimeSpan.FromMinutes(10));
        Subscriptions = new SubscriptionManager(this);
        Actors = new ActorRuntime(this);
        State = new StateService(states, options.AppId);
    }

    public SidecarOptions Options { get; }

    public SidecarEnvironment Environment { get; }

    public ResourceSet Resources { get; }

    public IReadOnlyDictionary<string, IStateStore> StateStores { get; }

    public IReadOnlyDictionary<string, IPubSub> PubSubs { get; }

    public string InstanceId { get; }

    public ILogger Logger { get; }

    /// <summary>Pooled, non-buffering client for the app channel and for other sidecars.</summary>
    public HttpClient AppClient { get; }

    public SubscriptionManager Subscriptions { get; }

    public ActorRuntime Actors { get; }

    /// <summary>The state API both protocols serve.</summary>
    public StateService State { get; }

    /// <summary>The host other sidecars reach this one on.</summary>
    public string AdvertisedHost => Options.ListenAddress is "0.0.0.0" or "::" or "*" ? "127.0.0.1" : Options.ListenAddress;

    /// <summary>Bound ports, known once the host started.</summary>
    public int HttpPort { get; internal set; }

    public int GrpcPort { get; internal set; }

    public bool IsReady => _ready.Task.IsCompletedSuccessfully;

    public bool IsAppHealthy => _appHealthy;

    public Task Ready => _ready.Task;

    /// <summary>Completes while the app is healthy; daprd holds event delivery while the app health check fails.</summary>
    public Task AppHealthy => _healthyAgain.Task;

    public CancellationToken Stopping => _stop.Token;

    /// <summary>Raised by the Shutdown API.</summary>
    public event EventHandler? ShutdownRequested;

    public Uri? AppBaseUri => Options.AppPort is { } port ? new Uri($"http://{FormatHost(Options.AppChannelAddress)}:{port}") : null;

    /// <summary>A request to the app at <paramref name="pathAndQuery"/>, carrying the app token when one is set.</summary>
    public HttpRequestMessage AppRequest(HttpMethod method, string pathAndQuery)
    {
        var request = new HttpRequestMessage(method, new Uri(AppBaseUri!, pathAndQuery));
        if (Options.AppApiToken is { Length: > 0 } token)
        {
            request.Headers.TryAddWithoutValidation("dapr-api-token", token);
        }

        return request;
    }

    public SidecarRecord Describe() => new(
        Options.AppId, AdvertisedHost, HttpPort, GrpcPort, Options.AppPort, System.Environment.ProcessId, InstanceId,
        Actors.HostedTypes, Environment.Time.GetUtcNow().ToUnixTimeMilliseconds());

    /// <summary>Registers with the directory and starts app discovery (subscriptions, actor types) in the background.</summary>
    internal void Start()
    {
        Environment.Directory.Register(this);
        _initialization = Task.Run(InitializeAsync);
        if (Options.EnableAppHealthCheck && Options.AppPort is not null)
        {
            _healthLoop = Task.Run(AppHealthLoopAsync);
        }
    }

    internal void RequestShutdown() => ShutdownRequested?.Invoke(this, EventArgs.Empty);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        Environment.Directory.Unregister(this);
        foreach (var task in new[] { _initialization, _healthLoop })
        {
            if (task is not null)
            {
                try
                {
                    await task.WaitAsync(TimeSpan.FromSeconds(10));
                }
                catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
                {
                    // Stopping.
                }
            }
        }

        await Subscriptions.DisposeAsync();
        await Actors.DisposeAsync();
        AppClient.Dispose();
        _ready.TrySetCanceled();
        _stop.Dispose();
    }

    /// <summary>Attributes set with PUT /v1.0/metadata/{key}.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, string> ExtendedMetadata { get; } = new(StringComparer.Ordinal);

    /// <summary>Publishes data to a topic, wrapped in a CloudEvent unless metadata rawPayload is true.</summary>
    public async Task PublishAsync(
        string pubsubName, string topic, byte[] data, string? contentType, IReadOnlyDictionary<string, string> metadata,
        string? traceParent, CancellationToken cancellationToken)
    {
        var pubsub = PubSubs[pubsubName];
        var raw = metadata.TryGetValue("rawPayload", out var rawText) && bool.TryParse(rawText, out var isRaw) && isRaw;
        var payload = raw
            ? data
            : CloudEvents.Envelope(data, contentType, Options.AppId, pubsubName, topic,
                string.IsNullOrEmpty(traceParent) ? Api.Proxy.NewTraceParent() : traceParent, Environment.Time);
        await pubsub.PublishAsync(topic, payload, cancellationToken);
    }

    /// <summary>
    /// Publishes each entry on its own, as daprd's bulk publish does: a failed entry does not stop the others and is
    /// returned with its error; cancellation stops the whole call.
    /// </summary>
    public async Task<IReadOnlyList<(string EntryId, string Error)>> PublishBulkAsync(
        string pubsubName, string topic, IEnumerable<BulkPublishEntry> entries, string? traceParent, CancellationToken cancellationToken)
    {
        var failed = new List<(string, string)>();
        foreach (var entry in entries)
        {
            try
            {
                await PublishAsync(pubsubName, topic, entry.Data, entry.ContentType, entry.Metadata, traceParent, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                failed.Add((entry.EntryId, ex.Message));
            }
        }

        return failed;
    }

    /// <summary>The store actors keep state and reminders in, or null when no component sets actorStateStore.</summary>
    public IStateStore? ActorStateStore => StateStores.Values.FirstOrDefault(s => s.IsActorStateStore);

    internal static HttpClient CreateClient(TimeSpan timeout) => new(new SocketsHttpHandler
    {
        // Pooled keep-alive connections; no proxy lookups, no cookies, no automatic decompression: bytes pass through.
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
        MaxConnectionsPerServer = 1024,
        ConnectTimeout = TimeSpan.FromSeconds(5),
    })
    {
        Timeout = timeout,
    };

    private static TaskCompletionSource NewHealthySignal(bool completed)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
        {
            signal.SetResult();
        }

        return signal;
    }

    private static string FormatHost(string host) => host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]" : host;

    private async Task InitializeAsync()
    {
        var stop = _stop.Token;
        try
        {
            if (AppBaseUri is not null)
            {
                await WaitForAppPortAsync(stop);
                await Actors.DiscoverAsync(stop);
                Environment.Directory.Refresh(this);
            }

            await Subscriptions.StartAsync(stop);
            _ready.TrySetResult();
            LogReady(Logger, Options.AppId, HttpPort, GrpcPort, Actors.HostedTypes.Count, Subscriptions.Active.Count);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            _ready.TrySetCanceled(stop);
        }
        catch (Exception ex)
        {
            LogInitFailed(Logger, ex, Options.AppId);
            _ready.TrySetException(ex);
        }
    }

    private async Task WaitForAppPortAsync(CancellationToken stop)
    {
        var deadline = Environment.Time.GetUtcNow() + Options.AppStartTimeout;
        var delay = TimeSpan.FromMilliseconds(10);
        while (true)
        {
            using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stop);
                attempt.CancelAfter(TimeSpan.FromSeconds(2));
                await socket.ConnectAsync(AppBaseUri!.Host.Trim('[', ']'), AppBaseUri.Port, attempt.Token);
                return;
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or OperationCanceledException && !stop.IsCancellationRequested)
            {
                if (Environment.Time.GetUtcNow() > deadline)
                {
                    throw new TimeoutException($"app '{Options.AppId}' did not open port {Options.AppPort} within {Options.AppStartTimeout}.");
                }

                await Task.Delay(delay, Environment.Time, stop);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 500));
            }
        }
    }

    private async Task AppHealthLoopAsync()
    {
        var stop = _stop.Token;
        var failures = 0;
        using var timer = new PeriodicTimer(Options.AppHealthProbeInterval, Environment.Time);
        try
        {
            do
            {
                var healthy = false;
                try
                {
                    using var probe = CancellationTokenSource.CreateLinkedTokenSource(stop);
                    probe.CancelAfter(TimeSpan.FromSeconds(2));
                    using var response = await AppClient.GetAsync(new Uri(AppBaseUri!, Options.AppHealthCheckPath), probe.Token);
                    healthy = response.IsSuccessStatusCode;
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !stop.IsCancellationRequested)
                {
                    healthy = false;
                }

                failures = healthy ? 0 : failures + 1;
                var now = healthy || failures < Options.AppHealthThreshold;
                if (now != _appHealthy)
                {
                    _appHealthy = now;
                    if (now)
                    {
                        _healthyAgain.TrySetResult();
                    }
                    else
                    {
                        _healthyAgain = NewHealthySignal(completed: false);
                    }

                    LogAppHealth(Logger, Options.AppId, now);
                }
            }
            while (await timer.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    [LoggerMessage(EventId = LogEvents.SidecarReady, Level = LogLevel.Information, Message = "sidecar for app '{AppId}' ready: HTTP {HttpPort}, gRPC {GrpcPort}, {ActorTypes} actor type(s), {Subscriptions} subscription(s)")]
    private static partial void LogReady(ILogger logger, string appId, int httpPort, int grpcPort, int actorTypes, int subscriptions);

    [LoggerMessage(EventId = LogEvents.InitializationFailed, Level = LogLevel.Error, Message = "sidecar for app '{AppId}' failed to initialise")]
    private static partial void LogInitFailed(ILogger logger, Exception exception, string appId);

    [LoggerMessage(EventId = LogEvents.AppHealthChanged, Level = LogLevel.Warning, Message = "app '{AppId}' health changed: healthy={Healthy}")]
    private static partial void LogAppHealth(ILogger logger, string appId, bool healthy);
}
