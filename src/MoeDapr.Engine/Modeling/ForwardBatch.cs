namespace MoeDapr.Engine.Modeling;

/// <summary>
/// One forward step described on the host: for each sequence, the new tokens to compute, where they
/// start, and the KV blocks that hold (and will hold) the sequence's keys and values.
/// </summary>
public sealed class ForwardBatch
{
    /// <summary>New token ids of every sequence, concatenated in sequence order.</summary>
    public required int[] Tokens { get; init; }

    /// <summary>Per sequence: number of new tokens in <see cref="Tokens"/>.</summary>
    public required int[] QueryLengths { get; init; }

    /// <summary>Per sequence: tokens already in the cache (the position of its first new token).</summary>
    public required int[] StartPositions { get; init; }

    /// <summary>Per sequence: block ids covering positions [0, start + queryLength).</summary>
    public required IReadOnlyList<int>[] BlockTables { get; init; }

    public int Sequences => QueryLengths.Length;

    /// <summary>Checks the shapes agree; throws <see cref="ArgumentException"/> otherwise.</summary>
    public void Validate(int blockSize)
    {
        if (StartPositions.Length != Sequences || BlockTables.Length != Sequences || Sequences == 0)
        {
            throw new ArgumentException("a forward batch needs one start position and one block table per sequence");
        }

        if (QueryLengths.Sum() != Tokens.Length || QueryLengths.Any(n => n <= 0))
        {
            throw new ArgumentException("query lengths must be positive and add up to the token count");
        }

        for (var b = 0; b < Sequences; b++)
        {
            var needed = (StartPositions[b] + QueryLengths[b] + blockSize - 1) / blockSize;
            if (BlockTables[b].Count < needed)
            {
                throw new ArgumentException($"sequence {b} needs {needed} blocks, its table has {BlockTables[b].Count}");
            }
        }
    }
}
