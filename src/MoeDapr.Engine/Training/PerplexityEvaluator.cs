namespace MoeDapr.Engine.Training;

/// <summary>
/// Token-level perplexity through the serving engine itself: every token after the first is scored from the engine's
/// next-token logits over the up to <c>window - 1</c> tokens before it (a sliding window, one token a step, so each
/// token sees as much context as the window allows and the window never exceeds the model's context).
/// </summary>
public static class PerplexityEvaluator
{
    /// <summary>The sliding window used when none is asked for: the model's context, capped to keep a CPU run short.</summary>
    public const int DefaultMaxWindow = 256;

    /// <summary>Scores <paramref name="tokens"/>; <paramref name="progress"/> hears the count of tokens scored so far.</summary>
    public static async Task<PerplexityResult> EvaluateAsync(InferenceEngine engine, IReadOnlyList<int> tokens, int window,
        Action<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(tokens);
        if (window < 2 || window > engine.Config.MaxPositionEmbeddings)
        {
            throw new ArgumentOutOfRangeException(nameof(window), window,
                $"the window must be between 2 and the model's context ({engine.Config.MaxPositionEmbeddings} tokens)");
        }

        if (tokens.Count < 2)
        {
            throw new ArgumentException("at least two tokens are needed to score one", nameof(tokens));
        }

        double nll = 0;
        var context = new int[window - 1];
        for (var i = 1; i < tokens.Count; i++)
        {
            var start = Math.Max(0, i - (window - 1));
            var length = i - start;
            for (var j = 0; j < length; j++)
            {
                context[j] = tokens[start + j];
            }

            var logits = await engine.LogitsAsync(new ArraySegment<int>(context, 0, length), cancellationToken).ConfigureAwait(false);
            nll -= LogSoftmaxAt(logits, tokens[i]);
            progress?.Invoke(i);
        }

        var scored = tokens.Count - 1;
        return new PerplexityResult(scored, nll / scored, Math.Exp(nll / scored), window);
    }

    /// <summary>log softmax(logits)[target], in double precision with the max subtracted.</summary>
    public static double LogSoftmaxAt(IReadOnlyList<float> logits, int target)
    {
        ArgumentNullException.ThrowIfNull(logits);
        double max = double.NegativeInfinity;
        foreach (var z in logits)
        {
            max = Math.Max(max, z);
        }

        double sum = 0;
        foreach (var z in logits)
        {
            sum += Math.Exp(z - max);
        }

        return logits[target] - max - Math.Log(sum);
    }
}
