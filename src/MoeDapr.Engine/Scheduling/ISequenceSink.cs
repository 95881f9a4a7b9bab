namespace MoeDapr.Engine.Scheduling;

/// <summary>Receives what the engine produces for one sequence (called on the engine thread; must not block).</summary>
internal interface ISequenceSink
{
    void OnToken(Sequence sequence, TokenOutput output);

    /// <summary>A prefill-only sequence sampled its first token; <paramref name="kv"/> holds its prompt's KV.</summary>
    void OnPrefilled(Sequence sequence, TokenOutput first, EngineKvHandle? kv);

    void OnFailed(Sequence sequence, Exception error);
}
