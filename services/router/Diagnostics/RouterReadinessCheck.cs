using Microsoft.Extensions.Diagnostics.HealthChecks;
using MoeDapr.Contracts;
using MoeDapr.Router.Workers;

namespace MoeDapr.Router.Diagnostics;

/// <summary>
/// Ready when a decode worker is publishing fresh snapshots: that is a prefill path too, since decode prefills locally
/// when no prefill worker or kv-transfer is healthy. A saturated worker still counts: under overload the router keeps
/// answering (queueing, 429, 503), and failing readiness then would take it out of its Service exactly when it is needed.
/// The description says which path is in use. Each change of status is logged once at Information: probes run every
/// few hundred milliseconds, and a waiting start (workers still loading) is expected, not a failure.
/// </summary>
public sealed class RouterReadinessCheck(WorkerRegistry workers, ILogger<RouterReadinessCheck> logger) : IHealthCheck
{
    private int _last = -1;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var decode = workers.CountLive(WorkerRole.Decode);
        var prefill = workers.Count(WorkerRole.Prefill);
        var disaggregated = workers.DisaggregationAvailable;
        var data = new Dictionary<string, object> { ["decode"] = decode, ["prefill"] = prefill, ["disaggregated"] = disaggregated };
        var result = decode == 0
            ? HealthCheckResult.Unhealthy("no decode worker is available", data: data)
            : HealthCheckResult.Healthy(disaggregated ? "disaggregated prefill available" : "serving aggregated on decode", data);
        var status = (int)result.Status;
        if (Interlocked.Exchange(ref _last, status) != status)
        {
            Log.ReadinessChanged(logger, result.Status.ToString(), result.Description ?? string.Empty);
        }

        return Task.FromResult(result);
    }
}
