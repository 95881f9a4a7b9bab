using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using MoeDapr.Router.Workers;

namespace MoeDapr.Router.Tests.Infrastructure;

/// <summary>
/// Scripted prefill and decode workers: output token i is byte i (cyclic) of <see cref="Script"/>, so every path gives
/// the same text; failures, delays and cancellations are observable.
/// </summary>
public sealed class FakeWorkers : IWorkerClient
{
    public string Script { get; set; } = "Hello from the fake decode worker. ";

    /// <summary>Delay before each decode token (real time).</summary>
    public TimeSpan TokenDelay { get; set; }

    /// <summary>When set, decode streams wait on it before their first token.</summary>
    public TaskCompletionSource? DecodeGate { get; set; }

    public bool KvTransferReady { get; set; } = true;

    public ConcurrentBag<string> FailingPrefill { get; } = [];

    public ConcurrentBag<string> FailingDecode { get; } = [];

    /// <summary>When set, decode calls throw it before their first event (a fault the router does not expect).</summary>
    public Exception? DecodeFault { get; set; }

    /// <summary>Answer HTTP-style errors mid-stream after this many tokens (0 = never).</summary>
    public int BreakDecodeAfter { get; set; }

    /// <summary>Output index at which decode emits EOS (null = never).</summary>
    public int? EosAt { get; set; }

    public ConcurrentQueue<(string AppId, PrefillBatchRequest Request)> PrefillCalls { get; } = new();

    public ConcurrentQueue<(string AppId, DecodeRequest Request)> DecodeCalls { get; } = new();

    public ConcurrentQueue<string> CancelledDecodes { get; } = new();

    public ConcurrentQueue<string> Aborts { get; } = new();

    public int Token(int index) => index == EosAt ? FakeTokenizer.Eos : FakeTokenizer.Ids(Script)[index % FakeTokenizer.Ids(Script).Length];

    public Task<PrefillBatchResponse> PrefillAsync(string appId, PrefillBatchRequest request, CancellationToken cancellationToken)
    {
        PrefillCalls.Enqueue((appId, request));
        if (FailingPrefill.Contains(appId))
        {
            throw new WorkerCallException(appId, WorkerError.Internal, "HTTP 500: scripted failure");
        }

        return Task.FromResult(new PrefillBatchResponse
        {
            BatchId = request.BatchId,
            WorkerAppId = appId,
            Results = request.Sequences.Select(s => new PrefillSequenceResult
            {
                RequestId = s.RequestId,
                FirstToken = Sample(0, s.Sampling),
                KvHandle = s.Sampling.MaxTokens == 1 ? null : $"kv-{s.RequestId}",
                FinishReason = s.Sampling.MaxTokens == 1 ? FinishReason.Length : null,
                PromptTokens = s.PromptTokenIds.Count,
                CachedTokens = 16,
            }).ToArray(),
        });
    }

    public async IAsyncEnumerable<DecodeStreamEvent> DecodeAsync(string appId, DecodeRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        DecodeCalls.Enqueue((appId, request));
        if (FailingDecode.Contains(appId))
        {
            throw new WorkerCallException(appId, WorkerError.Internal, "HTTP 500: scripted failure");
        }

        if (DecodeFault is { } fault)
        {
            throw fault;
        }

        var finished = false;
        try
        {
            if (DecodeGate is { } gate)
            {
                await gate.Task.WaitAsync(cancellationToken);
            }

            var start = request.FirstToken is null ? 0 : 1;
            var produced = start;
            for (var i = start; i < request.Sampling.MaxTokens; i++)
            {
                if (TokenDelay > TimeSpan.Zero)
                {
                    await Task.Delay(TokenDelay, cancellationToken);
                }

                cancellationToken.ThrowIfCancellationRequested();
                if (BreakDecodeAfter > 0 && i - start >= BreakDecodeAfter)
                {
                    throw new WorkerCallException(appId, WorkerError.Internal, "decode stream broke: scripted");
                }

                produced++;
                yield return DecodeStreamEvent.ForToken(i, Sample(i, request.Sampling));
                if (i == EosAt)
                {
                    finished = true;
                    yield return DecodeStreamEvent.ForDone(FinishReason.Stop, request.PromptTokenIds.Count, produced, request.CachedTokens, FakeTokenizer.Eos);
                    yield break;
                }
            }

            finished = true;
            yield return DecodeStreamEvent.ForDone(FinishReason.Length, request.PromptTokenIds.Count, produced, request.CachedTokens);
        }
        finally
        {
            if (!finished)
            {
                CancelledDecodes.Enqueue(request.RequestId);
            }
        }
    }

    public Task AbortAsync(string appId, string requestId, CancellationToken cancellationToken)
    {
        Aborts.Enqueue(requestId);
        return Task.CompletedTask;
    }

    public Task<bool> IsReadyAsync(string appId, CancellationToken cancellationToken) => Task.FromResult(KvTransferReady);

    private TokenSample Sample(int index, SamplingParams sampling) => new()
    {
        TokenId = Token(index),
        Logprob = sampling.Logprobs is null ? null : -0.5f,
        TopLogprobs = sampling.Logprobs is { } k ? [.. Enumerable.Range(0, k).Select(j => new TokenLogprob(Token(index) + j, -0.5f - j))] : null,
    };
}
