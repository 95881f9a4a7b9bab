namespace MoeDapr.Router.Policies;

/// <summary>What batch sizing looks at: requests waiting and how busy the prefill workers are ([0, 1]).</summary>
public readonly record struct BatchSignal(int QueuedRequests, double Utilization);
