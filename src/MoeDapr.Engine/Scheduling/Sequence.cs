using MoeDapr.Contracts;

namespace MoeDapr.Engine.Scheduling;

/// <summary>Run state of one sequence: tokens, how many have KV in the cache, its blocks, and sampling state.</summary>
internal sealed class Sequence
{
    /// <summary>A sequence at the start of its prompt.</summary>
    public static Sequence ForPrompt(string requestId, IReadOnlyList<int> prompt, SamplingParams sampling, ulong seed, ISequenceSink sink, bool prefillOnly = false) => new()
    {
        RequestId = requestId,
        Tokens = [.. prompt],
        PromptLength = prompt.Count,
        Sampling = sampling,
        Seed = seed,
        Sink = sink,
        PrefillOnly = prefillOnly,
    };

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

    /// <summary>Matches the stop strings on the output text as it grows; made at the first stop check that needs it.</summary>
    public StopStringMatcher? StopMatcher { get; set; }

    public int Remaining => Tokens.Count - Computed;
}
