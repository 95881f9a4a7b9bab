namespace MoeDapr.Contracts;

/// <summary>Names of the Dapr pub/sub component and of the topics MoeDapr services publish on.</summary>
public static class PubSub
{
    /// <summary>The pub/sub component name (<c>metadata.name</c> in <c>components/pubsub*.yaml</c>).</summary>
    public const string Name = "pubsub";

    /// <summary><see cref="WorkerLoadSnapshot"/> from every prefill, decode and kv-transfer replica, about once a second.</summary>
    public const string WorkerLoadTopic = "worker-load";

    /// <summary><see cref="CompletionRecord"/> for every finished request (published by decode and by the router).</summary>
    public const string CompletionsTopic = "completions";

    /// <summary>Per-layer expert-load windows published by decode (message type owned by the EPLB code).</summary>
    public const string ExpertLoadTopic = "expert-load";

    /// <summary>Expert placement plans published by the EPLB coordinator (message type owned by the EPLB code).</summary>
    public const string PlacementPlansTopic = "placement-plans";
}
