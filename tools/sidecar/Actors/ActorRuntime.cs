using System.Text.Json;
using System.Text.Json.Nodes;
using MoeDapr.Sidecar.Discovery;
using MoeDapr.Sidecar.Hosting;

namespace MoeDapr.Sidecar.Actors;

/// <summary>
/// Actors for one sidecar: types from the app's /dapr/config (<see cref="ActorHostConfig"/>), placement of each id on one
/// host of its type (<see cref="ActorPlacement"/>), turn-based calls (<see cref="ActorTurns"/>), idle deactivation
/// (<see cref="ActorDeactivation"/>), timers (<see cref="ActorTimers"/>) and reminders (<see cref="ActorReminders"/>).
/// </summary>
public sealed class ActorRuntime : IAsyncDisposable
{
    public const string ReentrancyHeader = ActorTurns.ReentrancyHeader;
    private readonly SidecarRuntime _runtime;
    private readonly ActorTurns _turns;
    private readonly ActorDeactivation _deactivation;
    private readonly ActorTimers _timers;
    private readonly ActorReminders _reminders;
    private ActorHostConfig _config = ActorHostConfig.None;

    public ActorRuntime(SidecarRuntime runtime)
    {
        _runtime = runtime;
        Placement = new ActorPlacement(runtime);
        _turns = new ActorTurns(runtime, () => _config);
        _deactivation = new ActorDeactivation(runtime, _turns);
        _timers = new ActorTimers(runtime, FireAsync);
        _reminders = new ActorReminders(runtime, Placement, FireAsync);
    }

    public ActorPlacement Placement { get; }

    public IReadOnlyList<string> HostedTypes => _config.HostedTypes;

    public TimeSpan IdleTimeout => _config.IdleTimeout;

    public bool ReentrancyEnabled => _config.ReentrancyEnabled;

    public int MaxStackDepth => _config.MaxStackDepth;

    public IReadOnlyDictionary<string, int> ActiveCounts => _turns.ActiveCounts;

    /// <summary>Reads GET /dapr/config; 404 means the app hosts no actors.</summary>
    public async Task DiscoverAsync(CancellationToken cancellationToken)
    {
        using var request = _runtime.AppRequest(HttpMethod.Get, "/dapr/config");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        using var response = await _runtime.AppClient.SendAsync(request, timeout.Token);
        if (!response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
        if (body.Length == 0)
        {
            return;
        }

        using var document = JsonDocument.Parse(body);
        _config = ActorHostConfig.Parse(document.RootElement);
        if (_config.HostedTypes.Count > 0)
        {
            if (_runtime.ActorStateStore is null)
            {
                ActorLog.NoActorStore(_runtime.Logger, _runtime.Options.AppId);
            }

            _deactivation.Start(_config.ScanInterval, _config.IdleTimeout);

            // Other hosts must see our types before we claim reminders placed here.
            _runtime.Environment.Directory.Refresh(_runtime);
            await _reminders.LoadAsync(_config.HostedTypes, cancellationToken);
        }
    }

    /// <summary>The host an actor id lives on, or null when no live sidecar hosts the type.</summary>
    public SidecarRecord? PlacementOf(string actorType, string actorId) => Placement.Of(actorType, actorId);

    /// <summary>Runs a method call on an actor hosted by this sidecar's app, one turn at a time.</summary>
    public Task<ActorResponse> InvokeLocalAsync(
        string actorType, string actorId, string method, byte[] body, string? contentType,
        IEnumerable<KeyValuePair<string, string>> headers, string? reentrancyId, CancellationToken cancellationToken) =>
        _turns.InvokeAsync(actorType, actorId, method, body, contentType, headers, reentrancyId, cancellationToken);

    public void CreateTimer(string actorType, string actorId, string name, JsonObject body) => _timers.Create(actorType, actorId, name, body);

    public bool DeleteTimer(string actorType, string actorId, string name) => _timers.Delete(actorType, actorId, name);

    public Task CreateReminderAsync(string actorType, string actorId, string name, JsonObject body, CancellationToken cancellationToken) =>
        _reminders.CreateAsync(actorType, actorId, name, body, cancellationToken);

    public Task<JsonObject?> GetReminderAsync(string actorType, string actorId, string name, CancellationToken cancellationToken) =>
        _reminders.GetAsync(actorType, actorId, name, cancellationToken);

    public Task DeleteReminderAsync(string actorType, string actorId, string name, CancellationToken cancellationToken) =>
        _reminders.DeleteAsync(actorType, actorId, name, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _deactivation.DisposeAsync();
        await _timers.DisposeAsync();
        await _reminders.DisposeAsync();
    }

    /// <summary>A timer or reminder callback, run here only while this sidecar still owns the id.</summary>
    private async Task FireAsync(string actorType, string actorId, string method, byte[] payload)
    {
        try
        {
            if (!Placement.IsLocalOrUnplaced(actorType, actorId))
            {
                // Placement moved (a host joined); the new owner fires it.
                return;
            }

            var response = await _turns.InvokeAsync(actorType, actorId, method, payload, "application/json", [], null, _runtime.Stopping);
            if (response.StatusCode >= 400)
            {
                ActorLog.FireFailed(_runtime.Logger, null, actorType, actorId, method, response.StatusCode);
            }
        }
        catch (Exception ex) when (ex is ActorException or HttpRequestException or OperationCanceledException)
        {
            ActorLog.FireFailed(_runtime.Logger, ex, actorType, actorId, method, 0);
        }
    }
}
