using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using MoeDapr.Contracts;

namespace MoeDapr.Decode;

/// <summary>The decode worker's endpoints: the streamed <see cref="WorkerMethods.DecodeGenerate"/>, <see cref="WorkerMethods.DecodeAbort"/>, stats.</summary>
public static class DecodeApi
{
    public static IEndpointRouteBuilder MapDecodeApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/" + WorkerMethods.DecodeGenerate, Generate);
        app.MapPost("/" + WorkerMethods.DecodeAbort, Abort);
        app.MapGet("/decode/stats", GetStats);
        return app;
    }

    /// <summary>
    /// Answers an NDJSON <see cref="DecodeStream"/>, one flushed line per token. Refusals come before the stream as
    /// ProblemDetails: 400 malformed, 409 request id already running, 503 model loading, 504 deadline already passed.
    /// </summary>
    public static async Task<IResult> Generate(
        DecodeRequest request, DecodeWorker worker, DecodeSessions sessions, TimeProvider time, ILogger<DecodeWorker> logger, HttpContext context)
    {
        string? problem;
        try
        {
            problem = worker.Validate(request);
        }
        catch (EngineNotReadyException e)
        {
            return Problem(StatusCodes.Status503ServiceUnavailable, e.Message);
        }

        if (problem is not null)
        {
            return Problem(StatusCodes.Status400BadRequest, problem);
        }

        using var deadline = new CancellationTokenSource();
        if (request.DeadlineUnixMs is { } deadlineMs)
        {
            var left = DateTimeOffset.FromUnixTimeMilliseconds(deadlineMs) - time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                return Problem(StatusCodes.Status504GatewayTimeout, "the request's deadline passed before decode started");
            }

            deadline.CancelAfter(left);
        }

        using var abortRequested = new CancellationTokenSource();
        var callerGone = context.RequestAborted;
        if (!sessions.TryAdd(request.RequestId, abortRequested))
        {
            return Problem(StatusCodes.Status409Conflict, $"requestId: {request.RequestId} is already decoding here");
        }

        try
        {
            var response = context.Response;
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = DecodeStream.ContentType;
            response.Headers.CacheControl = "no-cache";
            await response.StartAsync(callerGone);
            await using var stream = new DecodeStreamWriter(response.BodyWriter, request.Sampling.MaxTokens + 4, callerGone);
            try
            {
                await worker.RunAsync(request, stream.EmitAsync, callerGone, deadline.Token, abortRequested.Token);
            }
            catch (Exception e) when (e is not OperationCanceledException and not DecodeStreamClosedException && !callerGone.IsCancellationRequested)
            {
                // The stream has started: report the failure as its last line rather than cutting it off.
                Log.RequestFailed(logger, request.RequestId, e);
                await stream.EmitAsync(DecodeStreamEvent.ForError(WorkerError.Internal, e.Message));
            }

            await stream.CompleteAsync();
        }
        catch (Exception e) when (e is DecodeStreamClosedException || (e is OperationCanceledException or IOException && callerGone.IsCancellationRequested))
        {
            // The caller closed the call (or aborted it): the engine already freed the sequence.
        }
        finally
        {
            sessions.Remove(request.RequestId, abortRequested);
        }

        return Results.Empty;
    }

    /// <summary>Ends a running sequence; 204 whether or not it was still running.</summary>
    public static NoContent Abort(AbortRequest request, DecodeSessions sessions, EngineHost host)
    {
        if (!string.IsNullOrEmpty(request.RequestId) && !sessions.TryAbort(request.RequestId))
        {
            host.Engine?.AbortRequest(request.RequestId);
        }

        return TypedResults.NoContent();
    }

    /// <summary>The engine's counters and the calls in flight (for operators and tests).</summary>
    public static Results<Ok<DecodeStats>, ProblemHttpResult> GetStats(EngineHost host, DecodeSessions sessions) =>
        host.Engine is { } engine
            ? TypedResults.Ok(new DecodeStats(sessions.Count, engine.Stats, engine.ExpertLoads.Select(l => new LayerLoad(l.Layer, l.ExpertTokens, l.RankTokens)).ToArray()))
            : TypedResults.Problem(detail: "the model is not loaded yet", statusCode: StatusCodes.Status503ServiceUnavailable);

    private static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(detail: detail, statusCode: status);
}
