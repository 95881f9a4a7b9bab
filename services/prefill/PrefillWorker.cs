using Microsoft.Extensions.Options;
using MoeDapr.Contracts;
using MoeDapr.Contracts.KvTransfer;
using MoeDapr.Engine;
using MoeDapr.KvTransfer.DataPlane.Client;
using MoeDapr.Model;

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
                request.Sequences[i].RequestId, request.Sequences[i].PromptTokenIds, request.Sequences[i].Sampling)).ToArray();
            var statsBefore = engine.Stats;

            // kv-transfer allocates the first sequence's staging while the engine computes (an export's size follows
            // from the prompt length alone), and each later one while the sequence before it exports: the control
            // round trip leaves the path to the first token, and at most two uncommitted payloads are held at once.
            var allocation = AllocateAsync(engine, request.Sequences[runnable[0]], cancellationToken);
            try
            {
                var clock = System.Diagnostics.Stopwatch.GetTimestamp();
                var outputs = await engine.PrefillAsync(prefills, cancellationToken);
                times.Lap("engine", clock);
                metrics.PromptTokens.Inc(promptTokens);
                load.AddTokens(promptTokens);

                // The engine thread serialises exports anyway.
                for (var k = 0; k < runnable.Count; k++)
                {
                    var mine = allocation;
                    allocation = k + 1 < runnable.Count ? AllocateAsync(engine, request.Sequences[runnable[k + 1]], cancellationToken) : null;
                    results[runnable[k]] = await PublishAsync(engine, request.Sequences[runnable[k]], outputs[k], mine!, times, cancellationToken);
                }
            }
            finally
            {
                await DiscardAsync(allocation); // left over when the engine or an export threw
            }

            Log.BatchDone(logger, request.BatchId, runnable.Count, promptTokens, engine.Stats.PrefixCacheHits - statsBefore.PrefixCacheHits);
        }

        return new PrefillBatchResponse { BatchId = request.BatchId, WorkerAppId = options.Value.AppId, Results = results! };
    }

    private async Task<PrefillSequenceResult> PublishAsync(
        InferenceEngine engine, PrefillSequence sequence, PrefillResult output, Task<KvWriter> allocation, PrefillStageTimes times, CancellationToken cancellationToken)
    {
        var first = output.FirstToken.Sample;
        if (output.Kv is not { } kv)
        {
            await DiscardAsync(allocation); // finished at its first token: nothing to hand over
            return new PrefillSequenceResult
            {
                RequestId = sequence.RequestId,
                FirstToken = first,
                PromptTokens = sequence.PromptTokenIds.Count,
                CachedTokens = output.CachedTokens,
                FinishReason = output.FirstToken.FinishReason ?? FinishReason.Stop,
            };
        }

        try
        {
            var handle = await ExportAsync(engine, kv, allocation, times, cancellationToken);
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

    /// <summary>Allocates staging for the whole prompt's KV, which is what the engine's handle will hold.</summary>
    private Task<KvWriter> AllocateAsync(InferenceEngine engine, PrefillSequence sequence, CancellationToken cancellationToken)
    {
        var layout = KvBlockLayout.FromHeader(engine.ExportHeader(sequence.PromptTokenIds.Count));
        var hashes = PrefixBlockHash.Chain(sequence.PromptTokenIds as int[] ?? [.. sequence.PromptTokenIds], layout.BlockSize).Select(PrefixBlockHash.ToHex).ToArray();
        return kvTransfer.AllocateAsync(layout, hashes, cancellationToken);
    }

    /// <summary>Gives an allocation that will not be written back to kv-transfer (its lease frees it if this fails).</summary>
    private static async Task DiscardAsync(Task<KvWriter>? allocation)
    {
        if (allocation is null)
        {
            return;
        }

        try
        {
            await (await allocation).DisposeAsync();
        }
        catch (Exception e) when (e is KvTransferException or HttpRequestException or InvalidDataException or OperationCanceledException)
        {
            // Failed or cancelled allocations hold nothing; a failed release is left to the lease.
        }
    }

    private async Task<string> ExportAsync(
        InferenceEngine engine, EngineKvHandle kv, Task<KvWriter> allocation, PrefillStageTimes times, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.GetTimestamp();
        await using var writer = await allocation;
        clock = times.Lap("kv-allocate", clock); // what is left of the allocation once the engine is done
        var needed = engine.ExportHeader(kv.Tokens).PayloadBytes;
        if (needed != writer.Length)
        {
            throw new InvalidDataException($"the engine holds KV for {kv.Tokens} tokens ({needed} bytes) but {writer.Length} bytes were allocated");
        }

        var written = await engine.ExportKvAsync(kv, writer.Address, writer.Length, cancellationToken);
        clock = times.Lap("kv-export", clock);
        var committed = await writer.CommitAsync(cancellationToken, written);
        times.Lap("kv-commit", clock);
        metrics.KvBytesExported.WithLabels(writer.Plane == KvDataPlane.SharedMemory ? "shared_memory" : "socket").Inc(written);
        return committed.Handle;
    }

    private static string? Validate(InferenceEngine engine, PrefillSequence sequence)
    {
        if (sequence.Sampling is null)
        {
            return sequence.PromptTokenIds is { Count: > 0 } ? "sampling: required" : "promptTokenIds: must hold at least one token";
        }

        return PromptRules.For(engine.Config, engine.Options.MaxSequenceLength).Check(sequence.PromptTokenIds, sequence.Sampling.MaxTokens)
            ?? sequence.Sampling.Validate(engine.Config.VocabSize);
    }

    private static PrefillSequenceResult Failed(string requestId, string code, string message) =>
        new() { RequestId = requestId, Error = new WorkerError(code, message) };
}
