using Microsoft.AspNetCore.Http.HttpResults;
using MoeDapr.Router.Access;
using MoeDapr.Router.Diagnostics;
using MoeDapr.Router.Scheduling;
using MoeDapr.Router.Workers;

namespace MoeDapr.Router.Api;

/// <summary>
/// Operator endpoints: <c>GET /admin/state</c>, <c>GET|POST /admin/degraded</c>. They answer only on the admin listener
/// (<c>Router:AdminPort</c>, see <see cref="AdminPortFilter"/>); keep that port on the internal network.
/// </summary>
public static class AdminApi
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin").AddEndpointFilter<AdminPortFilter>();
        admin.MapGet("/state", GetState);
        admin.MapGet("/degraded", GetDegraded);
        admin.MapPost("/degraded", SetDegraded);
        return app;
    }

    public static Ok<RouterState> GetState(AdmissionGate gate, WorkerRegistry workers, DegradedMode degraded) =>
        TypedResults.Ok(new RouterState(gate.Waiting, workers.DisaggregationAvailable, workers.KvTransferHealthy, degraded.Enabled, workers.List()));

    public static Ok<DegradedState> GetDegraded(DegradedMode degraded) => TypedResults.Ok(State(degraded));

    public static Results<Ok<DegradedState>, ValidationProblem> SetDegraded(
        DegradedSwitch? body, DegradedMode degraded, RouterMetrics metrics, ILogger<DegradedSwitch> logger)
    {
        if (body?.Enabled is not { } enabled)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["enabled"] = ["must be true or false"] });
        }

        degraded.Set(enabled);
        metrics.Degraded.Set(enabled ? 1 : 0);
        Log.DegradedSwitched(logger, enabled ? "on" : "off");
        return TypedResults.Ok(State(degraded));
    }

    private static DegradedState State(DegradedMode degraded) => new(degraded.Enabled, degraded.MaxBatchSize, degraded.QueueTimeout.TotalSeconds);
}
