using System.Runtime.CompilerServices;
using MoeDapr.Contracts;
using MoeDapr.Router.Diagnostics;
using MoeDapr.Router.Options;
using MoeDapr.Router.Policies;
using MoeDapr.Router.Scheduling;
using MoeDapr.Router.Workers;

namespace MoeDapr.Router.Generation;

/// <summary>
/// One routed request from its decode call to its end: opens the decode stream (retrying on another decode worker,
/// with local prefill, until the first event arrives), relays tokens under an idle deadline, and on disposal closes the
/// call (which aborts the sequence on the worker), records metrics and publishes the completion record.
/// </summary>
public sealed class GenerationSession : IAsyncDisposable
{
    private readonly GenerationRequest _request;
    private readonly GenerationJob _job;
    private readonly RouteOutcome _outcome;
    private readonly long _arrivedAt;
    private readonly IDecodeWorkerPolicy _decodeChoice;
    private readonly WorkerRegistry _workers;
    private readonly IWorkerClient _client;
    private readonly ICompletionSink _completions;
    private readonly RouterMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly WorkerOptions _options;
    private readonly ILogger _logger;
    private readonly List<string> _tried = [];
    private DecodeCall? _call;
    private DecodeStreamEvent? _pending;
    private string? _decodeAppId;
    private WorkerLease? _reserved;
    private bool _decodeFinished;
    private bool _decodeDeferred;
    private bool _failed;
    private long _firstTokenAt;
    private long _lastTokenAt;
    private int _disposed;

    internal GenerationSession(
        GenerationRequest request, string requestId, GenerationJob job, RouteOutcome outcome, long arrivedAt, IDecodeWorkerPolicy decodeChoice,
        WorkerRegistry workers, IWorkerClient client, ICompletionSink completions, RouterMetrics metrics, TimeProvider time,
        WorkerOptions options, ILogger logger)
    {
        _request = request;
        RequestId = requestId;
        _job = job;
        _outcome = outcome;
        _arrivedAt = arrivedAt;
        _decodeChoice = decodeChoice;
        _workers = workers;
        _client = client;
        _completions = completions;
        _metrics = metrics;
        _time = time;
        _options = options;
        _logger = logger;
        Path = outcome.Path!;
        CachedTokens = outcome.CachedTokens;
        _reserved = outcome.Decode;
        metrics.Running.Inc();
        metrics.PromptTokens.Inc(request.PromptTokenIds.Count);
    }

    public string RequestId { get; }

    /// <summary>The serving path (it becomes <c>aggregated</c> when a retry had to prefill on decode).</summary>
    public string Path { get; private set; }

    public int PromptTokens => _request.PromptTokenIds.Count;

    public int CachedTokens { get; private set; }

    public int CompletionTokens { get; private set; }

    /// <summary>Set once the sequence ended on the worker side (EOS, stop token, length).</summary>
    public FinishReason? FinishReason { get; private set; }

    /// <summary>Set by the caller when it ended the sequence itself (a stop string matched).</summary>
    public FinishReason? ClientFinishReason { get; set; }

    /// <summary>
    /// Readies the session: a streamed request with prefill's first token in hand opens the decode call only after that
    /// token went out (so time to first token is prefill's); otherwise the decode stream is opened and its first event
    /// awaited, so a failure can still be answered with an HTTP status.
    /// Returns the client's error when no worker could take the request.
    /// </summary>
    public async Task<ApiError?> OpenAsync(CancellationToken clientGone)
    {
        if (_outcome.FinishReason is { } finished)
        {
            // The first token already ended the sequence: nothing to decode.
            FinishReason = finished;
            _decodeFinished = true;
            ReleaseReservation();
            return null;
        }

        if (_outcome.FirstToken is not null && _request.Stream)
        {
            _decodeDeferred = true;
            return null;
        }

        return await OpenDecodeAsync(clientGone);
    }

    private async Task<ApiError?> OpenDecodeAsync(CancellationToken clientGone)
    {
        var remote = _outcome.KvHandle is not null && _outcome.FirstToken is not null;
        var appId = _outcome.DecodeAppId ?? ChooseDecode();
        for (var attempt = 1; attempt <= _options.MaxAttempts && appId is not null; attempt++)
        {
            _tried.Add(appId);
            var request = new DecodeRequest
            {
                RequestId = RequestId,
                PromptTokenIds = _request.PromptTokenIds,
                Sampling = _request.Sampling,
                FirstToken = _outcome.FirstToken,
                KvHandle = remote ? _outcome.KvHandle : null,
                CachedTokens = remote ? _outcome.CachedTokens : 0,
                Priority = _request.Priority,
                DeadlineUnixMs = (_time.GetUtcNow() + _options.DecodeTimeout).ToUnixTimeMilliseconds(),
            };
            WorkerLease lease;
            if (_reserved is { } reserved && reserved.AppId == appId)
            {
                lease = reserved; // leased when the dispatcher routed the request
                _reserved = null;
            }
            else
            {
                ReleaseReservation();
                lease = _workers.Lease(appId, PromptTokens);
            }

            _decodeAppId = appId;
            _call = new DecodeCall(_client, lease, request, _options, _time, clientGone);
            try
            {
                _pending = await _call.NextAsync(clientGone) ?? throw new WorkerCallException(appId, WorkerError.Internal, "decode stream ended before its first event");
                if (_pending.Kind == DecodeEventKind.Error)
                {
                    throw new WorkerCallException(appId, _pending.Error?.Code ?? WorkerError.Internal, _pending.Error?.Message ?? "decode failed");
                }

                if (!remote)
                {
                    Path = _outcome.Path == ServingPaths.Disaggregated ? ServingPaths.Aggregated : _outcome.Path!;
                    CachedTokens = 0;
                }

                return null;
            }
            catch (Exception ex) when (ex is WorkerCallException or OperationCanceledException && !clientGone.IsCancellationRequested)
            {
                Log.DecodeFailed(_logger, RequestId, appId, attempt, ex is OperationCanceledException ? "no answer before the deadline" : ex.Message);
                _metrics.WorkerFailures.WithLabels("decode").Inc();
                await CloseCallAsync(failed: true);
                if (ex is WorkerCallException { Retryable: false } refused)
                {
                    _failed = true;
                    return new ApiError(400, refused.Message, ApiError.InvalidRequest);
                }

                // The KV may already be consumed by the failed worker: the retry prefills on decode (same tokens).
                remote = false;
                appId = ChooseDecode();
            }
        }

        _failed = true;
        return new ApiError(503, appId is null && _tried.Count == 0 ? "No decode worker is available." : "Decode failed on every worker tried.", ApiError.ServerError, null, "decode_unavailable")
        {
            RetryAfterSeconds = 1,
        };
    }

    /// <summary>Output tokens in order, the first one included; ends when the sequence ends. Throws <see cref="GenerationFailedException"/> mid-stream.</summary>
    public async IAsyncEnumerable<GeneratedToken> ReadTokensAsync([EnumeratorCancellation] CancellationToken clientGone)
    {
        if (_outcome.FirstToken is { } first)
        {
            yield return Relay(new GeneratedToken(0, first));
        }

        if (_decodeFinished)
        {
            yield break;
        }

        if (_decodeDeferred)
        {
            _decodeDeferred = false;
            if (await OpenDecodeAsync(clientGone) is { } error)
            {
                throw new GenerationFailedException(error.Message);
            }
        }

        while (true)
        {
            DecodeStreamEvent? next;
            if (_pending is not null)
            {
                next = _pending;
                _pending = null;
            }
            else
            {
                try
                {
                    next = await _call!.NextAsync(clientGone);
                }
                catch (Exception ex) when (ex is WorkerCallException or InvalidDataException or OperationCanceledException && !clientGone.IsCancellationRequested)
                {
                    _failed = true;
                    throw new GenerationFailedException($"decode worker {_decodeAppId} failed mid-stream: {Describe(ex)}", ex);
                }
            }

            switch (next)
            {
                case null:
                    _failed = true;
                    throw new GenerationFailedException($"decode worker {_decodeAppId} ended the stream without a done event");
                case { Kind: DecodeEventKind.Token, Token: { } token }:
                    yield return Relay(new GeneratedToken(next.Index ?? CompletionTokens, token));
                    break;
                case { Kind: DecodeEventKind.Done, FinishReason: Contracts.FinishReason.Abort }:
                    _failed = true;
                    throw new GenerationFailedException($"decode worker {_decodeAppId} aborted the sequence (deadline or shutdown)");
                case { Kind: DecodeEventKind.Done }:
                    FinishReason = next.FinishReason ?? Contracts.FinishReason.Stop;
                    if (next.CachedTokens is { } cached && Path != ServingPaths.Aggregated)
                    {
                        CachedTokens = cached;
                    }

                    _decodeFinished = true;
                    yield break;
                case { Kind: DecodeEventKind.Error }:
                    _failed = true;
                    throw new GenerationFailedException($"decode worker {_decodeAppId} failed: {next.Error?.Message}");
                default:
                    _failed = true;
                    throw new GenerationFailedException($"decode worker {_decodeAppId} sent a malformed event");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var aborted = !_decodeFinished && _decodeAppId is not null && !_failed;
        ReleaseReservation();
        await CloseCallAsync(_failed);
        if (aborted)
        {
            // Closing the call already aborts the sequence; this covers a sidecar that did not pass the close on.
            _ = AbortQuietlyAsync(_decodeAppId!);
        }

        _metrics.Running.Dec();
        var now = _time.GetTimestamp();
        var finish = ClientFinishReason ?? FinishReason;
        _metrics.EndToEndLatency.Observe(_time.GetElapsedTime(_arrivedAt, now).TotalSeconds);
        _metrics.RequestsFinished.WithLabels(finish?.ToString().ToLowerInvariant() ?? (_failed ? "error" : "abort"), Path).Inc();
        _completions.Publish(new CompletionRecord
        {
            RequestId = RequestId,
            Source = AppIds.Router,
            Model = _request.Model,
            Path = Path,
            PrefillAppId = _outcome.PrefillAppId,
            DecodeAppId = _decodeAppId,
            Priority = _request.Priority,
            PromptTokens = PromptTokens,
            CompletionTokens = CompletionTokens,
            CachedTokens = CachedTokens,
            FinishReason = finish,
            Error = _failed ? "worker_failed" : null,
            QueueTimeMs = _time.GetElapsedTime(_job.EnqueuedAt, _job.DispatchedAt).TotalMilliseconds,
            TimeToFirstTokenMs = _firstTokenAt == 0 ? 0 : _time.GetElapsedTime(_arrivedAt, _firstTokenAt).TotalMilliseconds,
            EndToEndMs = _time.GetElapsedTime(_arrivedAt, now).TotalMilliseconds,
            FinishedUnixMs = _time.GetUtcNow().ToUnixTimeMilliseconds(),
        });
    }

    private GeneratedToken Relay(GeneratedToken token)
    {
        var now = _time.GetTimestamp();
        if (_firstTokenAt == 0)
        {
            _firstTokenAt = now;
            _metrics.TimeToFirstToken.Observe(_time.GetElapsedTime(_arrivedAt, now).TotalSeconds);
        }
        else
        {
            _metrics.InterTokenLatency.Observe(_time.GetElapsedTime(_lastTokenAt, now).TotalSeconds);
        }

        _lastTokenAt = now;
        CompletionTokens++;
        _metrics.GenerationTokens.Inc();
        return token;
    }

    /// <summary>A decode worker for a retry, excluding those that failed this request.</summary>
    private string? ChooseDecode() => _decodeChoice.Choose(_workers.DecodeCandidates(_tried))?.AppId;

    private async Task CloseCallAsync(bool failed)
    {
        if (_call is { } call)
        {
            _call = null;
            await call.CloseAsync(failed);
        }
    }

    private void ReleaseReservation()
    {
        _reserved?.Release(failed: false);
        _reserved = null;
    }

    private async Task AbortQuietlyAsync(string appId)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2), _time);
            await _client.AbortAsync(appId, RequestId, timeout.Token);
        }
        catch (Exception ex)
        {
            Log.AbortFailed(_logger, RequestId, appId, ex.Message);
        }
    }

    private static string Describe(Exception ex) => ex is OperationCanceledException ? "deadline exceeded" : ex.Message;
}
