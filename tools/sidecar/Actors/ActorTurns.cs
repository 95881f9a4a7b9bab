using System.Collections.Concurrent;
using MoeDapr.Sidecar.Hosting;

namespace MoeDapr.Sidecar.Actors;

/// <summary>
/// Turn-based calls on the actors this sidecar's app hosts: one call at a time per actor id, except calls of the same
/// reentrancy chain (when the app enables reentrancy), up to its maximum stack depth.
/// </summary>
public sealed class ActorTurns(SidecarRuntime runtime, Func<ActorHostConfig> config)
{
    public const string ReentrancyHeader = "Dapr-Reentrancy-Id";
    private static readonly TimeSpan TurnTimeout = TimeSpan.FromSeconds(60);
    private readonly ConcurrentDictionary<(string Type, string Id), ActorSlot> _actors = new();

    /// <summary>Active actors per type.</summary>
    public IReadOnlyDictionary<string, int> ActiveCounts =>
        _actors.Keys.GroupBy(k => k.Type).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    /// <summary>The active actors, for the idle scan.</summary>
    internal IEnumerable<KeyValuePair<(string Type, string Id), ActorSlot>> Active => _actors;

    /// <summary>Forgets a deactivated actor; its next call activates it again.</summary>
    internal void Forget(string actorType, string actorId) => _actors.TryRemove((actorType, actorId), out _);

    /// <summary>Runs a method call on an actor hosted by this sidecar's app, one turn at a time.</summary>
    public async Task<ActorResponse> InvokeAsync(
        string actorType, string actorId, string method, byte[] body, string? contentType,
        IEnumerable<KeyValuePair<string, string>> headers, string? reentrancyId, CancellationToken cancellationToken)
    {
        var settings = config();
        if (!settings.HostedTypes.Contains(actorType, StringComparer.Ordinal))
        {
            throw new ActorException(500, "ERR_ACTOR_INVOKE_METHOD", $"error invoke actor method: actor type {actorType} is not hosted by app {runtime.Options.AppId}");
        }

        var slot = _actors.GetOrAdd((actorType, actorId), _ => new ActorSlot());
        var reentrant = settings.ReentrancyEnabled && reentrancyId is not null && slot.ReentrancyId == reentrancyId;
        if (reentrant)
        {
            if (Interlocked.Increment(ref slot.Depth) > settings.MaxStackDepth)
            {
                Interlocked.Decrement(ref slot.Depth);
                throw new ActorException(500, "ERR_ACTOR_INVOKE_METHOD", "error invoke actor method: maximum stack depth exceeded");
            }
        }
        else
        {
            if (!await slot.Gate.WaitAsync(TurnTimeout, cancellationToken))
            {
                throw new ActorException(500, "ERR_ACTOR_INVOKE_METHOD", $"error invoke actor method: timed out waiting for the turn of actor {actorType}/{actorId}");
            }

            slot.ReentrancyId = settings.ReentrancyEnabled ? reentrancyId ?? Guid.NewGuid().ToString() : null;
            slot.Depth = 1;
        }

        try
        {
            slot.LastUsed = runtime.Environment.Time.GetUtcNow();
            return await CallAppAsync(actorType, actorId, method, body, contentType, headers, slot.ReentrancyId, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new ActorException(500, "ERR_ACTOR_INVOKE_METHOD", $"error invoke actor method: {ex.Message}");
        }
        finally
        {
            slot.LastUsed = runtime.Environment.Time.GetUtcNow();
            if (reentrant)
            {
                Interlocked.Decrement(ref slot.Depth);
            }
            else
            {
                slot.ReentrancyId = null;
                slot.Depth = 0;
                slot.Gate.Release();
            }
        }
    }

    private async Task<ActorResponse> CallAppAsync(
        string actorType, string actorId, string method, byte[] body, string? contentType,
        IEnumerable<KeyValuePair<string, string>> headers, string? reentrancyId, CancellationToken cancellationToken)
    {
        using var request = runtime.AppRequest(HttpMethod.Put, $"/actors/{Uri.EscapeDataString(actorType)}/{Uri.EscapeDataString(actorId)}/method/{method}");
        request.Content = new ByteArrayContent(body);
        if (contentType is not null)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        if (reentrancyId is not null)
        {
            request.Headers.Remove(ReentrancyHeader);
            request.Headers.TryAddWithoutValidation(ReentrancyHeader, reentrancyId);
        }

        using var response = await runtime.AppClient.SendAsync(request, cancellationToken);
        var responseBody = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var responseHeaders = response.Headers
            .Where(h => !Api.Proxy.IsHopByHop(h.Key))
            .Select(h => new KeyValuePair<string, string>(h.Key, string.Join(",", h.Value)))
            .ToList();
        return new ActorResponse((int)response.StatusCode, responseHeaders, responseBody, response.Content.Headers.ContentType?.ToString());
    }
}
