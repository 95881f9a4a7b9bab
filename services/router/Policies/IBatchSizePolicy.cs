namespace MoeDapr.Router.Policies;

/// <summary>Chooses how many requests the next prefill batch may hold (the token budget is applied on top).</summary>
public interface IBatchSizePolicy
{
    string Name { get; }

    int NextBatchSize(BatchSignal signal);
}
