using Microsoft.Extensions.Options;
using MoeDapr.Contracts;
using MoeDapr.Contracts.KvTransfer;
using MoeDapr.Engine;
using MoeDapr.Model;
using EngineKvHandle = MoeDapr.Engine.KvHandle;

namespace MoeDapr.Prefill;

/// <summary>
/// Runs one prefill batch: the engine's batched prefill, then for each sequence an allocation in kv-transfer, the KV
/// exported straight into the data plane's buffer, a checksummed commit, and the engine's handle released.
/// </summary>
public sealed class PrefillWorker(
    EngineHost host, KvTransferClient kvTransfer, PrefillMetrics metrics, LoadMeter load,
    IOptions<PrefillOptions> options, ILogger<PrefillWorker> logger)
{
    /// <summary>Runs <paramref name="request"/>; per-sequence failures are reported in the results, not thrown.</summary>
    public async Task<PrefillBatchResponse> RunAsync(PrefillBatchRequest request, CancellationToken cancellationToken, PrefillStageTimes? times = null)
    {
        times ??= new PrefillStageTimes();
        var engine = host.Require();
        var results = new PrefillSequenceResult?[request.Sequences.Count];
        var runnable = new List<int>(request.Sequences.Count);
        for (var i = 0; i < request.Sequences.Count; i++)
        {
            var problem = Validate(engine, request.Sequences[i]);
            if (problem is null)
            {
                runnable.Add(i);
            }
            else
            {
                results[i] = Failed(request.Sequences[i].RequestId, WorkerError.InvalidRequest, problem);
            }
        }

        if (runnable.Count > 0)
        {
            var promptTokens = runnable.Sum(i => (long)request.Sequences[i].PromptTokenIds.Count);
            using var busy = load.Begin(runnable.Count, promptTokens);
            var prefills = runnable.Select(i => new PrefillRequest(
                request.Sequences[i].RequestId, request.Sequences[i].PromptTokenIds, request.Sequences[i].Sampling.ToEngine())).ToArray();
            var statsBefore = engine.Stats;
            var clock = System.Diagnostics.Stopwatch.GetTimestamp();
            var outputs = await engine.PrefillAsync(prefills, cancellationToken);
            times.Lap("engine", clock);
            metrics.PromptTokens.Inc(promptTokens);
            load.AddTokens(promptTokens);

            // The engine thread serialises exports anyway; one at a time keeps staging memory use to one payload.
            for (var k = 0; k < runnable.Count; k++)
            {
                var sequence = request.Sequences[runnable[k]];
                results[runnable[k]] = await PublishAsync(engine, sequence, outputs[k], times, cancellationToken);
            }

            Log.BatchDone(logger, request.BatchId, runnable.Count, promptTokens, engine.Stats.PrefixCacheHits - statsBefore.PrefixCacheHits);
        }

        return new PrefillBatchResponse { BatchId = request.BatchId, WorkerAppId = options.Value.AppId, Results = results! };
    }

    private async Task<PrefillSequenceResult> PublishAsync(
        InferenceEngine engine, PrefillSequence sequence, PrefillResult output, PrefillStageTimes times, CancellationToken cancellationToken)
    {
        var first = output.FirstToken.ToSample(sequence.Sampling);
        if (output.Kv is not { } kv)
        {
            return new PrefillSequenceResult
            {
                RequestId = sequence.RequestId,
                FirstToken = first,
                PromptTokens = sequence.PromptTokenIds.Count,
                CachedTokens = output.CachedTokens,
                FinishReason = (output.FirstToken.FinishReason ?? Engine.FinishReason.Stop).ToWire(),
            };
        }

        try
        {
            var handle = await ExportAsync(engine, sequence, kv, times, cancellationToken);
            return new PrefillSequenceResult
            {
                RequestId = sequence.RequestId,
                FirstToken = first,
                KvHandle = handle,
                PromptTokens = sequence.PromptTokenIds.Count,
                CachedTokens = output.CachedTokens,
            };
        }
        catch (Exception e) when (e is KvTransferException or HttpRequestException or InvalidDataException)
        {
            Log.ExportFailed(logger, sequence.RequestId, e);
            return Failed(sequence.RequestId, WorkerError.Internal, "KV export to kv-transfer failed: " + e.Message);
        }
        finally
        {
            // The KV now lives in kv-transfer (or the export failed): the engine's copy is no longer needed.
            var clock = System.Diagnostics.Stopwatch.GetTimestamp();
            await engine.ReleaseAsync(kv, CancellationToken.None);
            times.Lap("engine-release", clock);
        }
    }

    private async Task<string> ExportAsync(
        InferenceEngine engine, PrefillSequence sequence, EngineKvHandle kv, PrefillStageTimes times, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.GetTimestamp();
        var size = await engine.ExportSizeAsync(kv, cancellationToken);
        var layout = KvLayouts.For(engine, kv.Tokens, size);
        var hashes = PrefixBlockHash.Chain(sequence.PromptTokenIds.Take(kv.Tokens).ToArray(), layout.BlockSize).Select(PrefixBlockHash.ToHex).ToArray();
        clock = times.Lap("export-size", clock);
        await using var writer = await kvTransfer.AllocateAsync(layout, hashes, cancellationToken);
        clock = times.Lap("kv-allocate", clock);
        var written = await engine.ExportKvAsync(kv, writer.Address, writer.Length, cancellationToken);
        clock = times.Lap("kv-export", clock);
        var committed = await writer.CommitAsync(cancellationToken, written);
        times.Lap("kv-commit", clock);
        metrics.KvBytesExported.WithLabels(writer.Plane == KvDataPlane.SharedMemory ? "shared_memory" : "socket").Inc(written);
        return committed.Handle;
    }

    private static string? Validate(InferenceEngine engine, PrefillSequence sequence)
    {
        if (sequence.PromptTokenIds is not { Count: > 0 } prompt)
        {
            return "promptTokenIds: must hold at least one token";
        }

        if (sequence.Sampling is null)
        {
            return "sampling: required";
        }

        if (sequence.Sampling.Validate() is { } bad)
        {
            return bad;
        }

        var vocab = engine.Config.VocabSize;
        foreach (var token in prompt)
        {
            if (token < 0 || token >= vocab)
            {
                return $"promptTokenIds: token {token} is outside the vocabulary [0, {vocab})";
            }
        }

        var maxLength = engine.Options.MaxSequenceLength > 0
            ? Math.Min(engine.Options.MaxSequenceLength, engine.Config.MaxPositionEmbeddings)
            : engine.Config.MaxPositionEmbeddings;
        return prompt.Count + sequence.Sampling.MaxTokens > maxLength
            ? $"promptTokenIds: {prompt.Count} prompt tokens plus maxTokens {sequence.Sampling.MaxTokens} exceed the context of {maxLength}"
            : null;
    }

    private static PrefillSequenceResult Failed(string requestId, string code, string message) =>
        new() { RequestId = requestId, Error = new WorkerError(code, message) };
}
