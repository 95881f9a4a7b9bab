using Microsoft.AspNetCore.Http.HttpResults;
using MoeDapr.Contracts;
using MoeDapr.Contracts.KvTransfer;
using MoeDapr.Engine;
using MoeDapr.KvTransfer.DataPlane.Client;

namespace MoeDapr.Prefill;

/// <summary>The prefill worker's endpoints: <see cref="WorkerMethods.PrefillBatch"/> and a stats view.</summary>
public static class PrefillApi
{
    public static IEndpointRouteBuilder MapPrefillApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/" + WorkerMethods.PrefillBatch, RunBatch);
        app.MapGet("/prefill/stats", GetStats);
        return app;
    }

    /// <summary>Runs a batch within its deadline; 400 for a malformed batch, 503 while loading, 429 when the engine is full, 504 past the deadline.</summary>
    public static async Task<Results<Ok<PrefillBatchResponse>, ProblemHttpResult>> RunBatch(
        PrefillBatchRequest request, PrefillWorker worker, PrefillMetrics metrics, TimeProvider time,
        Microsoft.Extensions.Options.IOptions<PrefillOptions> options, ILogger<PrefillWorker> logger, HttpContext context)
    {
        if (request.Sequences is not { Count: > 0 } sequences)
        {
            return Problem(StatusCodes.Status400BadRequest, "sequences: a batch needs at least one sequence");
        }

        if (sequences.Count > options.Value.MaxBatchSequences)
        {
            return Problem(StatusCodes.Status400BadRequest, $"sequences: {sequences.Count} exceed Worker:MaxBatchSequences ({options.Value.MaxBatchSequences})");
        }

        if (sequences.Select(s => s.RequestId).Distinct(StringComparer.Ordinal).Count() != sequences.Count || sequences.Any(s => string.IsNullOrEmpty(s.RequestId)))
        {
            return Problem(StatusCodes.Status400BadRequest, "sequences: every sequence needs a requestId, unique in the batch");
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        if (request.DeadlineUnixMs is { } deadlineMs)
        {
            var left = DateTimeOffset.FromUnixTimeMilliseconds(deadlineMs) - time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                metrics.Batches.WithLabels("deadline").Inc();
                Log.BatchDropped(logger, request.BatchId, "deadline passed before it started");
                return Problem(StatusCodes.Status504GatewayTimeout, "the batch's deadline passed before it started");
            }

            deadline.CancelAfter(left);
        }

        try
        {
            var times = new PrefillStageTimes();
            var response = await worker.RunAsync(request, deadline.Token, times);
            context.Response.Headers["Server-Timing"] = times.ToServerTiming();
            metrics.Batches.WithLabels("ok").Inc();
            return TypedResults.Ok(response);
        }
        catch (EngineNotReadyException e)
        {
            metrics.Batches.WithLabels("not_ready").Inc();
            return Problem(StatusCodes.Status503ServiceUnavailable, e.Message);
        }
        catch (EngineOverloadedException e)
        {
            metrics.Batches.WithLabels("overloaded").Inc();
            return Problem(StatusCodes.Status429TooManyRequests, e.Message);
        }
        catch (ArgumentException e)
        {
            metrics.Batches.WithLabels("invalid").Inc();
            return Problem(StatusCodes.Status400BadRequest, e.Message);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested)
        {
            metrics.Batches.WithLabels("deadline").Inc();
            Log.BatchDropped(logger, request.BatchId, "deadline passed while running");
            return Problem(StatusCodes.Status504GatewayTimeout, "the batch's deadline passed while it ran");
        }
        catch (KvTransferException e)
        {
            metrics.Batches.WithLabels("failed").Inc();
            return Problem(StatusCodes.Status502BadGateway, "kv-transfer failed: " + e.Message);
        }
    }

    /// <summary>The engine's counters (for operators and tests).</summary>
    public static Results<Ok<EngineStats>, ProblemHttpResult> GetStats(EngineHost host) =>
        host.Engine is { } engine ? TypedResults.Ok(engine.Stats) : Problem(StatusCodes.Status503ServiceUnavailable, "the model is not loaded yet");

    private static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(detail: detail, statusCode: status);
}
