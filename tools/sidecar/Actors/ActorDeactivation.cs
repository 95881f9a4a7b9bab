using MoeDapr.Sidecar.Hosting;

namespace MoeDapr.Sidecar.Actors;

/// <summary>
/// The idle scan: every scan interval, actors unused for the idle timeout and not in a turn are deactivated
/// (DELETE /actors/{type}/{id} on the app) and forgotten.
/// </summary>
public sealed class ActorDeactivation(SidecarRuntime runtime, ActorTurns turns) : IAsyncDisposable
{
    private ITimer? _scanTimer;

    /// <summary>Starts the scan (once, after discovery found hosted types).</summary>
    public void Start(TimeSpan scanInterval, TimeSpan idleTimeout) =>
        _scanTimer = runtime.Environment.Time.CreateTimer(_ => _ = DeactivateIdleAsync(idleTimeout), null, scanInterval, scanInterval);

    /// <summary>One scan.</summary>
    public async Task DeactivateIdleAsync(TimeSpan idleTimeout)
    {
        var now = runtime.Environment.Time.GetUtcNow();
        foreach (var ((type, id), slot) in turns.Active)
        {
            if (now - slot.LastUsed < idleTimeout || !slot.Gate.Wait(0))
            {
                continue;
            }

            try
            {
                using var request = runtime.AppRequest(HttpMethod.Delete, $"/actors/{Uri.EscapeDataString(type)}/{Uri.EscapeDataString(id)}");
                using var response = await runtime.AppClient.SendAsync(request, runtime.Stopping);
                turns.Forget(type, id);
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                // Try again at the next scan.
            }
            finally
            {
                slot.Gate.Release();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_scanTimer is not null)
        {
            await _scanTimer.DisposeAsync();
        }
    }
}
