namespace MoeDapr.Contracts.Eplb;

/// <summary>Where the expert load balancer's messages travel: pub/sub topics and the coordinator actor's type.</summary>
public static class EplbTopics
{
    /// <summary><see cref="ExpertLoadWindow"/>s from every decode replica (component <see cref="PubSub.Name"/>).</summary>
    public const string LoadWindows = PubSub.ExpertLoadTopic;

    /// <summary><see cref="ExpertPlacementPlan"/>s from the coordinator actor (component <see cref="PubSub.Name"/>).</summary>
    public const string Plans = PubSub.PlacementPlansTopic;

    /// <summary>Dapr actor type of the coordinator; its actor id is the served model name.</summary>
    public const string CoordinatorActorType = "EplbCoordinator";
}
