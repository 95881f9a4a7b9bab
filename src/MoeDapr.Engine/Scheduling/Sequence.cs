using MoeDapr.Engine.Sampling;

namespace MoeDapr.Engine.Scheduling;

/// <summary>Receives what the engine produces for one sequence (called on the engine thread; must not block).</summary>
internal interface ISequenceSink
{
    void OnToken(Sequence sequence, TokenOutput output);

    /// <summary>A prefill-only sequence sampled its first token; <paramref name="kv"/> holds its prompt's KV.</summary>
    void OnPrefilled(Sequence sequence, TokenOutput first, KvHandle? kv);

    void OnFailed(Sequence sequence, Exception error);
}

/// <summary>Run state of one sequence: tokens, how many have KV in the cache, its blocks, and sampling state.</summary>
internal sealed class Sequence
{
    public required string RequestId { get; init; }

    /// <summary>Prompt followed by the generated tokens.</summary>
    public required List<int> Tokens { get; init; }

    public required int PromptLength { get; init; }

    public required SamplingParams Sampling { get; init; }

    public required ulong Seed { get; init; }

    public required ISequenceSink Sink { get; init; }

    /// <summary>Stop after the first token and keep the prompt's KV under a handle.</summary>
    public bool PrefillOnly { get; init; }

    public List<int> Output { get; } = [];

    /// <summary>Tokens whose keys and values are in the cache.</summary>
    public int Computed { get; set; }

    /// <summary>Prompt tokens whose KV came from the prefix cache when the sequence was (last) admitted.</summary>
    public int CachedTokens { get; set; }

    public List<int> Blocks { get; } = [];

    /// <summary>Prefix hashes of the first <c>Hashes.Count</c> full blocks.</summary>
    public List<UInt128> Hashes { get; } = [];

    public int Remaining => Tokens.Count - Computed;
}
