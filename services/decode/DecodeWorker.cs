using System.Threading.Channels;
using Microsoft.Extensions.Options;
using MoeDapr.Contracts;
using MoeDapr.Contracts.KvTransfer;
using MoeDapr.Engine;
using MoeDapr.KvTransfer.DataPlane.Client;
using MoeDapr.Model;

namespace MoeDapr.Decode;

/// <summary>
/// Serves one decode call: imports the prompt's KV from kv-transfer (and releases it there), joins the engine's
/// continuous batch, and hands each token to the caller's stream as it is produced. Cancelling the call aborts the
/// sequence, which frees its KV blocks and batch slot at once.
/// </summary>
public sealed class DecodeWorker(
    EngineHost host, KvTransferClient kvTransfer, DecodeMetrics metrics, TimeProvider time,
    Channel<CompletionRecord> completions, IOptions<DecodeOptions> options, ILogger<DecodeWorker> logger)
{
    /// <summary>The first reason <paramref name="request"/> cannot be served, or null.</summary>
    public string? Validate(DecodeRequest request)
    {
        var engine = host.Require();
        if (string.IsNullOrEmpty(request.RequestId))
        {
            return "requestId: required";
        }

        if (request.Sampling is null)
        {
            return request.PromptTokenIds is { Count: > 0 } ? "sampling: required" : "promptTokenIds: must hold at least one token";
        }

        if (request.KvHandle is not null && request.FirstToken is null)
        {
            return "kvHandle: a KV handle needs the firstToken its prefill sampled";
        }

        var rules = PromptRules.For(engine.Config, engine.Options.MaxSequenceLength);
        if (request.FirstToken is { } first && !rules.InVocabulary(first.TokenId))
        {
            return $"firstToken: token id {first.TokenId} is outside the vocabulary [0, {rules.VocabSize})";
        }

        return rules.Check(request.PromptTokenIds, request.Sampling.MaxTokens) ?? request.Sampling.Validate(rules.VocabSize);
    }

    /// <summary>
    /// Runs the request, passing every stream event to <paramref name="emit"/>. <paramref name="callerGone"/> is the
    /// caller closing the call; <paramref name="deadline"/> the request's deadline; <paramref name="abortRequested"/> a
    /// <c>decode/abort</c> for it. Ends with a done (<c>abort</c> on deadline or abort) or error event unless the caller is gone.
    /// </summary>
    public async Task RunAsync(
        DecodeRequest request, Func<DecodeStreamEvent, Task> emit, CancellationToken callerGone, CancellationToken deadline, CancellationToken abortRequested)
    {
        var engine = host.Require();
        var started = time.GetTimestamp();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(callerGone, deadline, abortRequested);
        var cancellationToken = linked.Token;
        var local = request.IsLocalPrefill;
        // The router's first token (from prefill, with or without its KV) is output 0: the stream starts after it.
        var firstIndex = request.FirstToken is null ? 0 : 1;
        var completion = firstIndex;
        FinishReason? finish = null;
        string? error = null;
        double ttftMs = 0;
        Task release = Task.CompletedTask;
        try
        {
            EngineKvHandle? kv = null;
            if (!local)
            {
                (kv, error) = await ImportAsync(engine, request, cancellationToken);
                if (error is not null)
                {
                    return;
                }

                // The KV is in the engine's cache now: free kv-transfer's copy beside the first step instead of
                // before it (a control round trip off the first token's path); awaited before the stream ends.
                release = ReleaseQuietlyAsync(request.KvHandle!);
            }

            var generate = new GenerateRequest
            {
                RequestId = request.RequestId,
                PromptTokens = request.PromptTokenIds,
                Sampling = request.Sampling,
                Kv = kv,
                FirstToken = request.FirstToken?.TokenId,
            };
            int? lastToken = request.FirstToken?.TokenId;
            var endedByStopString = false;
            await foreach (var output in engine.GenerateAsync(generate, cancellationToken))
            {
                if (output.TokenId >= 0)
                {
                    if (completion == firstIndex)
                    {
                        ttftMs = time.GetElapsedTime(started).TotalMilliseconds;
                    }

                    await emit(DecodeStreamEvent.ForToken(completion, output.Sample));
                    completion++;
                    lastToken = output.TokenId;
                    metrics.GenerationTokens.Inc();
                }

                if (output.FinishReason is { } reason)
                {
                    finish = reason;
                    endedByStopString = output.StopString is not null;
                }
            }

            finish ??= FinishReason.Abort;
            await release;
            // A stop string is text, not a token: only a stop token id or EOS is reported as the stop token.
            int? stopToken = finish == FinishReason.Stop && !endedByStopString ? lastToken : null;
            await emit(DecodeStreamEvent.ForDone(finish.Value, request.PromptTokenIds.Count, completion, request.CachedTokens, stopToken));
        }
        catch (OperationCanceledException) when (!callerGone.IsCancellationRequested && (deadline.IsCancellationRequested || abortRequested.IsCancellationRequested))
        {
            // The engine has dropped the sequence; the caller is still listening, so end its stream properly.
            finish = FinishReason.Abort;
            error = deadline.IsCancellationRequested ? WorkerError.DeadlineExceeded : "aborted";
            await emit(DecodeStreamEvent.ForDone(FinishReason.Abort, request.PromptTokenIds.Count, completion, request.CachedTokens));
        }
        catch (Exception e) when ((e is OperationCanceledException && callerGone.IsCancellationRequested) || e is DecodeStreamClosedException)
        {
            // The caller went away or asked to abort (its stream may report it before its token does); the engine
            // drops the sequence when the generation stops being read.
            finish = FinishReason.Abort;
            error = "aborted";
        }
        catch (EngineOverloadedException e) when (completion == firstIndex)
        {
            error = WorkerError.Saturated;
            await emit(DecodeStreamEvent.ForError(WorkerError.Saturated, e.Message));
        }
        finally
        {
            await release; // never throws: a failed release is logged and left to the lease
            var outcome = error ?? "ok";
            metrics.Requests.WithLabels(outcome).Inc();
            Record(request, local, finish, error, completion, ttftMs, time.GetElapsedTime(started).TotalMilliseconds);
        }

        async Task<(EngineKvHandle? Kv, string? Error)> ImportAsync(InferenceEngine engine, DecodeRequest request, CancellationToken cancellationToken)
        {
            var handle = request.KvHandle!;
            try
            {
                await using var reader = await kvTransfer.OpenReadAsync(handle, cancellationToken);
                var kv = await engine.ImportKvAsync(reader.Address, reader.Length, request.PromptTokenIds, cancellationToken);
                metrics.KvBytesImported.WithLabels(reader.Plane == KvDataPlane.SharedMemory ? "shared_memory" : "socket").Inc(reader.Length);
                return (kv, null);
            }
            catch (KvTransferException e) when (e.IsIntegrityFailure)
            {
                // Never use a corrupted payload; free it so its blocks do not wait for the lease.
                Log.KvCorrupted(logger, request.RequestId, handle, e.Message);
                metrics.KvIntegrityFailures.Inc();
                await ReleaseQuietlyAsync(handle);
                await emit(DecodeStreamEvent.ForError(WorkerError.Internal, $"KV payload {handle} is corrupted: {e.Message}"));
                return (null, "kv_corrupted");
            }
            catch (KvTransferException e) when (e.Reason is KvTransferErrorReason.NotFound or KvTransferErrorReason.NotCommitted)
            {
                await emit(DecodeStreamEvent.ForError(WorkerError.KvNotFound, $"KV payload {handle}: {e.Message}"));
                return (null, WorkerError.KvNotFound);
            }
            catch (Exception e) when (e is KvTransferException or HttpRequestException or InvalidDataException or ArgumentException)
            {
                Log.KvImportFailed(logger, request.RequestId, handle, e);
                await emit(DecodeStreamEvent.ForError(WorkerError.Internal, $"KV import of {handle} failed: {e.Message}"));
                return (null, WorkerError.Internal);
            }
        }
    }

    private async Task ReleaseQuietlyAsync(string handle)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await kvTransfer.ReleaseAsync(handle, timeout.Token);
        }
        catch (Exception e) when (e is KvTransferException or HttpRequestException or OperationCanceledException)
        {
            // The lease frees it anyway.
            Log.KvReleaseFailed(logger, handle, e.Message);
        }
    }

    private void Record(DecodeRequest request, bool local, FinishReason? finish, string? error, int completionTokens, double ttftMs, double totalMs)
    {
        var settings = options.Value;
        completions.Writer.TryWrite(new CompletionRecord
        {
            RequestId = request.RequestId,
            Source = settings.AppId,
            Model = settings.ResolveModelName(),
            Path = local ? ServingPaths.LocalPrefill : ServingPaths.Disaggregated,
            DecodeAppId = settings.AppId,
            Priority = request.Priority,
            PromptTokens = request.PromptTokenIds.Count,
            CompletionTokens = completionTokens,
            CachedTokens = request.CachedTokens,
            FinishReason = error is null ? finish : null,
            Error = error,
            TimeToFirstTokenMs = ttftMs,
            EndToEndMs = totalMs,
            FinishedUnixMs = time.GetUtcNow().ToUnixTimeMilliseconds(),
        });
    }
}
