namespace MoeDapr.Engine.Scheduling;

/// <summary>
/// Tokens [<see cref="Start"/>, <see cref="Start"/> + <see cref="Count"/>) of a sequence computed in one step, into
/// the blocks of <see cref="Sequence.Blocks"/>; <see cref="SamplesNext"/> when the chunk reaches the sequence's end.
/// </summary>
internal sealed record ScheduledChunk(Sequence Sequence, int Start, int Count)
{
    public IReadOnlyList<int> Blocks => Sequence.Blocks;

    public bool SamplesNext => Start + Count == Sequence.Tokens.Count;
}
