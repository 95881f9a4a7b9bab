using MoeDapr.Contracts;
using MoeDapr.Model;

namespace MoeDapr.Engine.Scheduling;

/// <summary>
/// Decides after each sampled token whether its sequence ends: an EOS id (model config and tokenizer) unless
/// ignored, a stop token id, a stop string in the detokenized output (needs a tokenizer), or a length limit.
/// </summary>
internal sealed class StopChecker(IEnumerable<int> eosTokenIds, ITextTokenizer? tokenizer, int maxSequenceLength)
{
    private readonly HashSet<int> _eos = [.. eosTokenIds];

    /// <summary>Why <paramref name="s"/> ends at its newest token <paramref name="token"/>, and the stop string that ended it.</summary>
    public (FinishReason? Reason, string? StopString) Check(Sequence s, int token)
    {
        var sampling = s.Sampling;
        if ((!sampling.IgnoreEos && _eos.Contains(token)) || sampling.StopTokenIds.Contains(token))
        {
            return (FinishReason.Stop, null);
        }

        if (sampling.StopStrings.Count > 0 && tokenizer is not null)
        {
            s.StopMatcher ??= new StopStringMatcher(tokenizer, sampling.StopStrings);
            if (s.StopMatcher.Advance(s.Output) is { } stop)
            {
                return (FinishReason.Stop, stop);
            }
        }

        return s.Output.Count >= sampling.MaxTokens || s.Tokens.Count >= maxSequenceLength ? (FinishReason.Length, null) : (null, null);
    }
}
