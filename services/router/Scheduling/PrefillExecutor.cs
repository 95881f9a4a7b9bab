using Microsoft.Extensions.Options;
using MoeDapr.Contracts;
using MoeDapr.Router.Diagnostics;
using MoeDapr.Router.Options;
using MoeDapr.Router.Policies;
using MoeDapr.Router.Workers;

namespace MoeDapr.Router.Scheduling;

/// <summary>
/// Runs one prefill batch: the call under its deadline, bounded retries on other prefill workers, and the delivery of
/// each request's result to its waiting handler. A request prefill could not do is handed to its decode worker to
/// prefill locally (same tokens, only slower); its decode lease travels with the outcome either way.
/// </summary>
public sealed class PrefillExecutor(
    IWorkerClient client, WorkerRegistry workers, IPrefillWorkerPolicy prefillChoice, RouterMetrics metrics, TimeProvider time,
    IOptions<WorkerOptions> options, ILogger<PrefillExecutor> logger)
{
    private readonly WorkerOptions _options = options.Value;
    private long _batchCounter;

    /// <summary>Prefills <paramref name="batch"/> on <paramref name="firstAppId"/> first; every job's outcome is resolved when it returns.</summary>
    public async Task RunAsync(IReadOnlyList<(GenerationJob Job, WorkerLease Decode)> batch, string firstAppId, CancellationToken stopping)
    {
        var batchId = $"b{Interlocked.Increment(ref _batchCounter)}";
        var request = new PrefillBatchRequest
        {
            BatchId = batchId,
            Sequences = batch.Select(b => new PrefillSequence
            {
                RequestId = b.Job.RequestId,
                PromptTokenIds = b.Job.PromptTokenIds,
                Sampling = b.Job.Sampling,
                DecodeAppId = b.Decode.AppId,
                Priority = b.Job.Priority,
            }).ToArray(),
        };
        var tokens = batch.Sum(b => b.Job.PromptTokens);
        var tried = new List<string>();
        var appId = firstAppId;
        for (var attempt = 1; appId is not null; attempt++)
        {
            tried.Add(appId);
            var lease = workers.Lease(appId, tokens, batch.Select(b => b.Job.PromptHashes));
            var failed = false;
            try
            {
                var deadline = time.GetUtcNow() + _options.PrefillTimeout;
                using var timeout = new CancellationTokenSource(_options.PrefillTimeout, time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stopping);
                var response = await client.PrefillAsync(appId, request with { DeadlineUnixMs = deadline.ToUnixTimeMilliseconds() }, linked.Token);
                Deliver(batch, response, appId);
                return;
            }
            catch (Exception ex) when (ex is WorkerCallException or OperationCanceledException && !stopping.IsCancellationRequested)
            {
                failed = true;
                metrics.WorkerFailures.WithLabels("prefill").Inc();
                Log.PrefillFailed(logger, batchId, appId, attempt, ex is OperationCanceledException ? "deadline exceeded" : ex.Message);
                if (ex is WorkerCallException { Retryable: false })
                {
                    break;
                }
            }
            catch (OperationCanceledException)
            {
                foreach (var (job, decode) in batch)
                {
                    await decode.DisposeAsync();
                    job.Resolve(new RouteOutcome { Error = "router is shutting down" });
                }

                return;
            }
            finally
            {
                lease.Release(failed);
            }

            appId = attempt < _options.MaxAttempts
                ? prefillChoice.Choose(workers.PrefillCandidates([], int.MaxValue).Where(c => !tried.Contains(c.AppId)).ToArray(), 0)?.AppId
                : null;
        }

        // No prefill worker managed: the decode worker prefills locally (same tokens, only slower).
        foreach (var (job, decode) in batch)
        {
            job.Resolve(new RouteOutcome { Path = ServingPaths.Aggregated, Decode = decode });
        }
    }

    private void Deliver(IReadOnlyList<(GenerationJob Job, WorkerLease Decode)> batch, PrefillBatchResponse response, string appId)
    {
        var results = response.Results.ToDictionary(r => r.RequestId, StringComparer.Ordinal);
        foreach (var (job, decode) in batch)
        {
            if (results.TryGetValue(job.RequestId, out var r) && r.Error is null && r.FirstToken is not null && (r.KvHandle is not null || r.FinishReason is not null))
            {
                metrics.PrefixCachedTokens.Inc(r.CachedTokens);
                job.Resolve(new RouteOutcome
                {
                    Path = ServingPaths.Disaggregated,
                    PrefillAppId = appId,
                    Decode = decode,
                    FirstToken = r.FirstToken,
                    KvHandle = r.KvHandle,
                    CachedTokens = r.CachedTokens,
                    FinishReason = r.FinishReason,
                });
            }
            else if (r?.Error?.Code == WorkerError.InvalidRequest)
            {
                decode.Release(failed: false);
                job.Resolve(new RouteOutcome { Error = $"prefill refused the request: {r.Error.Message}" });
            }
            else
            {
                // A sequence the worker could not do (or left out): prefill it on decode instead.
                job.Resolve(new RouteOutcome { Path = ServingPaths.Aggregated, Decode = decode });
            }
        }
    }
}
