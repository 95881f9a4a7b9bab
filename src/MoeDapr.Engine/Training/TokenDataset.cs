namespace MoeDapr.Engine.Training;

/// <summary>
/// A token stream split into training and held-out validation parts: the stream is cut into chunks and every n-th
/// chunk is held out, so validation samples the whole corpus rather than only its end (a book's last chapters).
/// </summary>
public sealed class TokenDataset
{
    private readonly int[] _train;
    private readonly int[] _validation;

    public TokenDataset(IReadOnlyList<int> tokens, double validationFraction, int chunkTokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkTokens);
        if (validationFraction is <= 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "must be between 0 and 1 (exclusive)");
        }

        var every = Math.Max(2, (int)Math.Round(1 / validationFraction));
        var train = new List<int>(tokens.Count);
        var validation = new List<int>((int)(tokens.Count * validationFraction) + chunkTokens);
        for (int start = 0, chunk = 0; start < tokens.Count; start += chunkTokens, chunk++)
        {
            var count = Math.Min(chunkTokens, tokens.Count - start);
            var target = chunk % every == every - 1 ? validation : train;
            for (var i = 0; i < count; i++)
            {
                target.Add(tokens[start + i]);
            }
        }

        _train = train.ToArray();
        _validation = validation.ToArray();
    }

    public int TrainTokens => _train.Length;

    public int ValidationTokens => _validation.Length;

    /// <summary>A batch of random training windows: inputs and next-token targets, each [batch * seqLen] row-major.</summary>
    public (long[] Inputs, long[] Targets) SampleTrain(Random random, int batch, int seqLen)
    {
        if (_train.Length < seqLen + 1)
        {
            throw new InvalidOperationException($"the training split has {_train.Length} tokens, fewer than one window of {seqLen + 1}");
        }

        var inputs = new long[batch * seqLen];
        var targets = new long[batch * seqLen];
        for (var b = 0; b < batch; b++)
        {
            var start = random.Next(_train.Length - seqLen);
            for (var i = 0; i < seqLen; i++)
            {
                inputs[(b * seqLen) + i] = _train[start + i];
                targets[(b * seqLen) + i] = _train[start + i + 1];
            }
        }

        return (inputs, targets);
    }

    /// <summary>Consecutive non-overlapping validation windows (at most <paramref name="maxWindows"/>), as (inputs, targets) of seqLen each.</summary>
    public IReadOnlyList<(long[] Inputs, long[] Targets)> ValidationWindows(int seqLen, int maxWindows)
    {
        var windows = new List<(long[], long[])>();
        for (var start = 0; start + seqLen + 1 <= _validation.Length && windows.Count < maxWindows; start += seqLen)
        {
            windows.Add((
                _validation.AsSpan(start, seqLen).ToArray().Select(t => (long)t).ToArray(),
                _validation.AsSpan(start + 1, seqLen).ToArray().Select(t => (long)t).ToArray()));
        }

        return windows;
    }
}
