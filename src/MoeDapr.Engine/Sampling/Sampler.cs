using MoeDapr.Contracts;

namespace MoeDapr.Engine.Sampling;

/// <summary>
/// Picks the next token from one row of fp32 logits on the host: penalties, then log-probabilities
/// (reported before temperature, as vLLM does), then greedy or temperature / top-k / top-p sampling with a
/// counter-based draw.
/// </summary>
public static class Sampler
{
    /// <param name="logits">One row of next-token logits.</param>
    /// <param name="sampling">The sequence's sampling parameters.</param>
    /// <param name="previousOutput">Tokens generated so far (penalties; their count is the draw index).</param>
    /// <param name="seed">The sequence's seed.</param>
    /// <param name="logSumExp">log Σ exp(logits) when already computed (used only without penalties).</param>
    public static SampledToken Sample(ReadOnlySpan<float> logits, SamplingParams sampling, IReadOnlyList<int> previousOutput, ulong seed, float? logSumExp = null)
    {
        ArgumentNullException.ThrowIfNull(sampling);
        ArgumentNullException.ThrowIfNull(previousOutput);
        var vocab = logits.Length;
        var work = new float[vocab];
        logits.CopyTo(work);
        var penalised = ApplyPenalties(work, sampling, previousOutput);
        var logNorm = !penalised && logSumExp is { } known ? known : LogSumExp(work);
        int chosen;
        if (sampling.Temperature <= 0)
        {
            chosen = ArgMax(work);
        }
        else
        {
            chosen = Draw(work, sampling, CounterRandom.Uniform(seed, previousOutput.Count));
        }

        var alternatives = sampling.Logprobs ?? 0;
        var top = alternatives > 0 ? TopN(work, alternatives, logNorm) : [];
        return new SampledToken(chosen, work[chosen] - logNorm, top);
    }

    /// <summary>log Σ exp(x), with the sum in double.</summary>
    private static float LogSumExp(float[] work)
    {
        var vocab = work.Length;
        var max = float.NegativeInfinity;
        for (var i = 0; i < vocab; i++)
        {
            max = Math.Max(max, work[i]);
        }

        double sum = 0;
        for (var i = 0; i < vocab; i++)
        {
            sum += Math.Exp(work[i] - max);
        }

        return max + (float)Math.Log(sum);
    }

    private static bool ApplyPenalties(float[] logits, SamplingParams sampling, IReadOnlyList<int> output)
    {
        if ((sampling.PresencePenalty == 0 && sampling.FrequencyPenalty == 0) || output.Count == 0)
        {
            return false;
        }

        var counts = new Dictionary<int, int>();
        foreach (var token in output)
        {
            counts[token] = counts.GetValueOrDefault(token) + 1;
        }

        foreach (var (token, count) in counts)
        {
            // In double, as the penalty always was: the same float inputs give the same logits on every path.
            logits[token] -= (float)((double)sampling.PresencePenalty + ((double)sampling.FrequencyPenalty * count));
        }

        return true;
    }

    private static int ArgMax(float[] values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>Inverse-CDF draw over the candidates kept by top-k and top-p, most likely first (ties by id).</summary>
    private static int Draw(float[] logits, SamplingParams sampling, double uniform)
    {
        var vocab = logits.Length;
        var inverseT = 1.0 / (double)sampling.Temperature;
        var max = logits.Max();
        var probs = new double[vocab];
        double total = 0;
        for (var i = 0; i < vocab; i++)
        {
            probs[i] = Math.Exp((logits[i] - max) * inverseT);
            total += probs[i];
        }

        int[] candidates;
        var filtered = sampling.TopK > 0 && sampling.TopK < vocab || sampling.TopP < 1;
        if (!filtered)
        {
            candidates = Enumerable.Range(0, vocab).ToArray();
        }
        else
        {
            candidates = Enumerable.Range(0, vocab).ToArray();
            Array.Sort(candidates, (a, b) => probs[a] != probs[b] ? probs[b].CompareTo(probs[a]) : a.CompareTo(b));
            var keep = sampling.TopK > 0 ? Math.Min(sampling.TopK, vocab) : vocab;
            if (sampling.TopP < 1)
            {
                double kept = 0;
                for (var i = 0; i < keep; i++)
                {
                    kept += probs[candidates[i]];
                }

                // Smallest prefix whose share of the top-k mass reaches top_p (the token that crosses it is kept).
                double cumulative = 0;
                for (var i = 0; i < keep; i++)
                {
                    cumulative += probs[candidates[i]];
                    if (cumulative >= sampling.TopP * kept)
                    {
                        keep = i + 1;
                        break;
                    }
                }
            }

            candidates = candidates[..keep];
            total = candidates.Sum(c => probs[c]);
        }

        var target = uniform * total;
        double acc = 0;
        foreach (var c in candidates)
        {
            acc += probs[c];
            if (acc > target)
            {
                return c;
            }
        }

        return candidates[^1];
    }

    private static TokenLogprob[] TopN(float[] logits, int n, float logNorm)
    {
        var best = new List<int>(n + 1);
        for (var i = 0; i < logits.Length; i++)
        {
            if (best.Count == n && logits[i] <= logits[best[^1]])
            {
                continue;
            }

            var at = best.FindIndex(b => logits[i] > logits[b]);
            best.Insert(at < 0 ? best.Count : at, i);
            if (best.Count > n)
            {
                best.RemoveAt(n);
            }
        }

        return best.Select(i => new TokenLogprob(i, logits[i] - logNorm)).ToArray();
    }
}
