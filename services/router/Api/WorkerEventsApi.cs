using System.Text.Json;
using Dapr;
using MoeDapr.Contracts;
using MoeDapr.Router.Access;
using MoeDapr.Router.Diagnostics;
using MoeDapr.Router.Workers;

namespace MoeDapr.Router.Api;

/// <summary>The pub/sub subscription through which workers announce themselves and their load.</summary>
public static class WorkerEventsApi
{
    public const string WorkerLoadRoute = "/events/worker-load";

    public static IEndpointRouteBuilder MapWorkerEvents(this IEndpointRouteBuilder app)
    {
        app.MapSubscribeHandler();
        app.MapPost(WorkerLoadRoute, ReceiveWorkerLoad).WithTopic(PubSub.Name, PubSub.WorkerLoadTopic).AddEndpointFilter<DaprDeliveryFilter>();
        return app;
    }

    /// <summary>Applies a snapshot; a malformed one is dropped (retrying it would not help).</summary>
    public static IResult ReceiveWorkerLoad(JsonElement body, WorkerRegistry workers, ILogger<WorkerRegistry> logger)
    {
        WorkerLoadSnapshot? snapshot;
        try
        {
            snapshot = body.Deserialize<WorkerLoadSnapshot>(ContractJson.Options);
        }
        catch (JsonException)
        {
            snapshot = null;
        }

        if (snapshot is null || string.IsNullOrWhiteSpace(snapshot.AppId) || string.IsNullOrWhiteSpace(snapshot.InstanceId))
        {
            return TypedResults.Ok(new { status = "DROP" });
        }

        var known = workers.List().Any(w => w.AppId == snapshot.AppId);
        workers.Apply(snapshot);
        if (!known)
        {
            Log.WorkerJoined(logger, snapshot.AppId, snapshot.Role.ToString().ToLowerInvariant());
        }

        return TypedResults.Ok(new { status = "SUCCESS" });
    }
}
