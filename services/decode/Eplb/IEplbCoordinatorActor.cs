using Dapr.Actors;
using MoeDapr.Contracts.Eplb;

namespace MoeDapr.Decode.Eplb;

/// <summary>The EPLB coordinator of one model (actor id = model name): collects load windows, decides and keeps the plan.</summary>
public interface IEplbCoordinatorActor : IActor
{
    /// <summary>Adds a replica's load window; returns the plan it decided on when this window triggered a new one, else null.</summary>
    Task<ExpertPlacementPlan?> ReportWindowAsync(ExpertLoadWindow window);

    /// <summary>The current plan (null before the first one).</summary>
    Task<ExpertPlacementPlan?> GetPlanAsync();
}
