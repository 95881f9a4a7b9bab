namespace MoeDapr.Router.Policies;

/// <summary>Picks the prefill worker for a batch of <c>batchBlocks</c> prompt blocks; null when there is no candidate.</summary>
public interface IPrefillWorkerPolicy
{
    string Name { get; }

    /// <summary>
    /// True when the choice depends on each prompt (prefix overlap): the batch planner then asks once per request and splits
    /// a batch over the chosen workers; false: once per batch.
    /// </summary>
    bool ChoosesPerRequest => false;

    PrefillCandidate? Choose(IReadOnlyList<PrefillCandidate> candidates, int batchBlocks);
}
