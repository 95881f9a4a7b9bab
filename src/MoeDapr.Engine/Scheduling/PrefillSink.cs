namespace MoeDapr.Engine.Scheduling;

/// <summary>Completes with a prefill-only sequence's first token and KV handle.</summary>
internal sealed class PrefillSink(string requestId) : ISequenceSink
{
    private readonly TaskCompletionSource<(TokenOutput, EngineKvHandle?, int)> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<(TokenOutput First, EngineKvHandle? Kv, int CachedTokens)> Result => _result.Task;

    public void OnToken(Sequence sequence, TokenOutput output) => _result.TrySetResult((output, null, 0)); // only an abort arrives here

    public void OnPrefilled(Sequence sequence, TokenOutput first, EngineKvHandle? kv) => _result.TrySetResult((first, kv, sequence.CachedTokens));

    public void OnFailed(Sequence sequence, Exception error) =>
        _result.TrySetException(new InvalidOperationException($"prefill of request {requestId} failed: {error.Message}", error));
}
