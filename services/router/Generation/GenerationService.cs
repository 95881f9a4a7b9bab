using Microsoft.Extensions.Options;
using MoeDapr.Contracts;
using MoeDapr.Model;
using MoeDapr.Router.Diagnostics;
using MoeDapr.Router.Options;
using MoeDapr.Router.Policies;
using MoeDapr.Router.Scheduling;
using MoeDapr.Router.Workers;

namespace MoeDapr.Router.Generation;

/// <summary>
/// Takes a validated request through admission and the queue to a live <see cref="GenerationSession"/> whose first
/// token is known, or to the error the client gets (429 full, 503 queue timeout, 502/503 no worker).
/// </summary>
public sealed class GenerationService(
    AdmissionGate gate, IDecodeWorkerPolicy decodeChoice, WorkerRegistry workers, IWorkerClient client, ICompletionSink completions, RouterMetrics metrics,
    DegradedMode degraded, TimeProvider time, IOptions<AdmissionOptions> admission, IOptions<WorkerOptions> workerOptions,
    ILogger<GenerationSession> sessionLogger)
{
    private readonly int _blockSize = workerOptions.Value.BlockSize;

    /// <summary>The queue timeout in force (degraded mode shortens it).</summary>
    public TimeSpan QueueTimeout => degraded.Enabled ? degraded.QueueTimeout : admission.Value.QueueTimeout;

    /// <summary>
    /// The 429 for a request that admission would refuse whatever its prompt, decided before the body is parsed and
    /// tokenized so that refusals stay cheap under overload; null when the request must go through the full path. A body
    /// that may carry its own <c>priority</c> field is never refused here (the header or the default class could be wrong).
    /// </summary>
    public ApiError? RefuseEarly(ReadOnlySpan<byte> body, string? priorityHeader)
    {
        if (body.IndexOf("\"priority\""u8) >= 0)
        {
            return null;
        }

        RequestPriority priority;
        if (string.IsNullOrEmpty(priorityHeader))
        {
            priority = RequestPriority.Normal;
        }
        else if (!Enum.TryParse(priorityHeader.Trim(), ignoreCase: true, out priority) || !Enum.IsDefined(priority))
        {
            return null; // the parser answers 400 for it
        }

        return gate.RefuseEarly(priority) is { } refused ? Overloaded(refused) : null;
    }

    /// <summary>Returns a session whose first decode event (or prefill token) is in hand, or the error to answer.</summary>
    public async Task<(GenerationSession? Session, ApiError? Error)> StartAsync(GenerationRequest request, string requestId, long arrivedAt, CancellationToken clientGone)
    {
        var hashes = PrefixBlockHash.Chain(request.PromptTokenIds.ToArray(), _blockSize);
        var job = new GenerationJob(requestId, request.PromptTokenIds, request.Sampling, request.Priority, hashes, time.GetTimestamp());
        var admitted = gate.Submit(job);
        if (!admitted.Admitted)
        {
            return (null, Overloaded(admitted));
        }

        RouteOutcome outcome;
        try
        {
            outcome = await job.Outcome.WaitAsync(QueueTimeout, time, clientGone);
        }
        catch (TimeoutException)
        {
            if (gate.Abandon(job))
            {
                metrics.Rejections.WithLabels("queue_timeout").Inc();
                var why = workers.Count(Contracts.WorkerRole.Decode) == 0 ? "no decode worker is available" : "all workers stayed busy";
                return (null, new ApiError(503, $"Request waited {QueueTimeout.TotalSeconds:0.###} s in the queue and timed out: {why}.", ApiError.Overloaded, null, "queue_timeout")
                {
                    RetryAfterSeconds = 1,
                });
            }

            // Dispatched just as the wait ended: prefill has its own deadline, so this wait ends too.
            outcome = await job.Outcome.WaitAsync(clientGone);
        }
        catch (OperationCanceledException)
        {
            if (!gate.Abandon(job))
            {
                // Already routed: give back the decode slot leased for it once the route is known.
                _ = job.Outcome.ContinueWith(
                    t => t.Result.Decode?.Release(failed: false),
                    CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            }

            throw;
        }

        if (outcome.Expired)
        {
            return (null, new ApiError(503, $"Request was not dispatched within its {admission.Value.DispatchDeadline.TotalSeconds:0.###} s deadline and was shed: all workers stayed busy.",
                ApiError.Overloaded, null, "queue_deadline")
            {
                RetryAfterSeconds = Math.Max(1, (int)Math.Ceiling(outcome.RetryAfter.TotalSeconds)),
            });
        }

        if (outcome.Shed)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(outcome.RetryAfter.TotalSeconds));
            return (null, new ApiError(429, "The request was shed from the queue for higher-priority work.", ApiError.Overloaded, null, "shed") { RetryAfterSeconds = seconds });
        }

        if (outcome.Error is not null || outcome.Path is null)
        {
            outcome.Decode?.Release(failed: false);
            return (null, new ApiError(502, outcome.Error ?? "no worker could serve the request", ApiError.ServerError));
        }

        var session = new GenerationSession(request, requestId, job, outcome, arrivedAt, decodeChoice, workers, client, completions, metrics, time,
            workerOptions.Value, sessionLogger);
        try
        {
            var error = await session.OpenAsync(clientGone);
            if (error is null)
            {
                return (session, null);
            }

            await session.DisposeAsync();
            return (null, error);
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    private static ApiError Overloaded(AdmissionResult refused)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(refused.RetryAfter.TotalSeconds));
        return new ApiError(429, $"The server is at capacity ({refused.Reason}); retry after {seconds} s.", ApiError.Overloaded, null, refused.Reason)
        {
            RetryAfterSeconds = seconds,
        };
    }
}
