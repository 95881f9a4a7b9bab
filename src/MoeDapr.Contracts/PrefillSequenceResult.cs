namespace MoeDapr.Contracts;

/// <summary>
/// The outcome for one sequence. On success <see cref="FirstToken"/> is set and either <see cref="KvHandle"/> is set
/// (decode continues from it) or <see cref="FinishReason"/> is set (the first token already ended the sequence: EOS,
/// a stop token, or <c>MaxTokens == 1</c>; no KV was kept). On failure only <see cref="Error"/> is set.
/// </summary>
public sealed record PrefillSequenceResult
{
    public required string RequestId { get; init; }

    public TokenSample? FirstToken { get; init; }

    /// <summary>Opaque kv-transfer handle of the committed KV blocks, to pass to <see cref="DecodeRequest.KvHandle"/>.</summary>
    public string? KvHandle { get; init; }

    /// <summary>Prompt tokens covered by the KV (the whole prompt).</summary>
    public int PromptTokens { get; init; }

    /// <summary>Prompt tokens whose KV came from the prefix cache instead of being computed.</summary>
    public int CachedTokens { get; init; }

    public FinishReason? FinishReason { get; init; }

    public WorkerError? Error { get; init; }
}
