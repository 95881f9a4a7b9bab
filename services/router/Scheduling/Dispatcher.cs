using System.Threading.Channels;
using Microsoft.Extensions.Options;
using MoeDapr.Contracts;
using MoeDapr.Router.Diagnostics;
using MoeDapr.Router.Options;
using MoeDapr.Router.Policies;
using MoeDapr.Router.Workers;

namespace MoeDapr.Router.Scheduling;

/// <summary>What admission answered.</summary>
public sealed record AdmissionResult(bool Admitted, string? Reason, TimeSpan RetryAfter);

/// <summary>
/// Owns the waiting queue: admits requests (admission policy), and in one background loop forms prefill batches
/// (batch policy, token budget), chooses workers (prefill and decode policies) and the serving path, and runs the
/// prefill calls with deadlines and bounded retries. Requests wait only while no worker can take them.
/// </summary>
public sealed partial class Dispatcher : BackgroundService
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Refusals are summed into one log line per this interval.</summary>
    public static readonly TimeSpan RejectionLogInterval = TimeSpan.FromSeconds(10);

    private readonly Lock _lock = new();
    private readonly RequestQueue _queue = new();
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly IAdmissionPolicy _admission;
    private readonly IBatchSizePolicy _batching;
    private readonly IPrefillWorkerPolicy _prefillChoice;
    private readonly IDecodeWorkerPolicy _decodeChoice;
    private readonly WorkerRegistry _workers;
    private readonly IWorkerClient _client;
    private readonly ServingPathPlanner _planner;
    private readonly DegradedMode _degraded;
    private readonly DrainRateMeter _drain;
    private readonly ServiceRateMeter _service;
    private readonly AdmissionOptions _admissionOptions;
    private readonly int[] _publishedCounts = new int[Enum.GetValues<RequestPriority>().Length];
    private readonly long[] _publishedTokens = new long[Enum.GetValues<RequestPriority>().Length];
    private readonly RouterMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly BatchingOptions _batchOptions;
    private readonly WorkerOptions _workerOptions;
    private readonly ILogger<Dispatcher> _logger;
    private int _batchSize;
    private bool? _disaggregated;
    private long _batchCounter;
    private CancellationToken _stopping;
    private bool _backlogged;
    private long _backlogSince;
    private int _passDispatched;
    private long _rejectedSinceLog;
    private long _lastRejectionLog;

    public Dispatcher(
        IAdmissionPolicy admission, IBatchSizePolicy batching, IPrefillWorkerPolicy prefillChoice, IDecodeWorkerPolicy decodeChoice,
        WorkerRegistry workers, IWorkerClient client, ServingPathPlanner planner, DegradedMode degraded, RouterMetrics metrics,
        TimeProvider time, IOptions<BatchingOptions> batchOptions, IOptions<WorkerOptions> workerOptions, ILogger<Dispatcher> logger,
        IOptions<AdmissionOptions>? admissionOptions = null)
    {
        _admission = admission;
        _batching = batching;
        _prefillChoice = prefillChoice;
        _decodeChoice = decodeChoice;
        _workers = workers;
        _client = client;
        _planner = planner;
        _degraded = degraded;
        _metrics = metrics;
        _time = time;
        _batchOptions = batchOptions.Value;
        _workerOptions = workerOptions.Value;
        _logger = logger;
        _drain = new DrainRateMeter(time);
        _service = new ServiceRateMeter(time);
        _admissionOptions = admissionOptions?.Value ?? new AdmissionOptions();
        _lastRejectionLog = time.GetTimestamp();
        _batchSize = _batchOptions.InitialBatchSize;
        _metrics.BatchSize.Set(_batchSize);
        _metrics.QueueCapacity.Set(_admissionOptions.MaxQueuedRequests);
        _metrics.Degraded.Set(degraded.Enabled ? 1 : 0);
        _workers.Changed += Wake;
    }

    /// <summary>Requests waiting now.</summary>
    public int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>
    /// Admission as far as it can be decided before the prompt is parsed and tokenized, from the queue's published
    /// totals (no lock, so refusals never wait for the dispatch loop): a refusal when even an empty prompt would be
    /// refused, else null (the full decision follows in <see cref="Submit"/>).
    /// </summary>
    public AdmissionResult? RefuseEarly(RequestPriority priority)
    {
        var counts = new int[_publishedCounts.Length];
        var tokens = new long[_publishedTokens.Length];
        for (var p = 0; p < counts.Length; p++)
        {
            counts[p] = Volatile.Read(ref _publishedCounts[p]);
            tokens[p] = Volatile.Read(ref _publishedTokens[p]);
        }

        var decision = _admission.Decide(priority, 0, Snapshot(counts, tokens));
        if (decision.Admitted)
        {
            return null;
        }

        NoteRejection(decision.Reason ?? "rejected");
        return new AdmissionResult(false, decision.Reason, decision.RetryAfter);
    }

    /// <summary>Runs admission; an admitted job waits for <see cref="GenerationJob.Outcome"/>.</summary>
    public AdmissionResult Submit(GenerationJob job)
    {
        IReadOnlyList<GenerationJob> shed = [];
        AdmissionDecision decision;
        lock (_lock)
        {
            var queue = _queue.Snapshot(_drain.PerSecond()) with { ServicePerSecond = _service.PerSecond() };
            decision = _admission.Decide(job.Priority, job.PromptTokens, queue);
            if (decision.Admitted)
            {
                if (decision.ShedToCount is { } toCount)
                {
                    shed = _queue.Shed(job.Priority, toCount, decision.ShedToTokens ?? long.MaxValue);
                }

                _queue.Add(job);
                QueueChanged();
            }
        }

        foreach (var victim in shed)
        {
            if (victim.TryAbandon())
            {
                _metrics.Rejections.WithLabels("shed").Inc();
                victim.Resolve(new RouteOutcome { Shed = true, RetryAfter = decision.RetryAfter == TimeSpan.Zero ? TimeSpan.FromSeconds(1) : decision.RetryAfter });
            }
        }

        if (!decision.Admitted)
        {
            NoteRejection(decision.Reason ?? "rejected");
            return new AdmissionResult(false, decision.Reason, decision.RetryAfter);
        }

        Wake();
        return new AdmissionResult(true, null, TimeSpan.Zero);
    }

    /// <summary>Takes a job out of the queue when its handler gives up (timeout, client gone); false when already dispatched.</summary>
    public bool Abandon(GenerationJob job)
    {
        if (!job.TryAbandon())
        {
            return false;
        }

        lock (_lock)
        {
            _queue.Remove(job);
            QueueChanged();
        }

        return true;
    }

    /// <summary>Counts a refusal by reason, and logs a summary at most every <see cref="RejectionLogInterval"/>, never one line per refusal.</summary>
    public void NoteRejection(string reason)
    {
        _metrics.Rejections.WithLabels(reason).Inc();
        var count = Interlocked.Increment(ref _rejectedSinceLog);
        var last = Volatile.Read(ref _lastRejectionLog);
        var now = _time.GetTimestamp();
        if (_time.GetElapsedTime(last, now) >= RejectionLogInterval && Interlocked.CompareExchange(ref _lastRejectionLog, now, last) == last)
        {
            count = Interlocked.Exchange(ref _rejectedSinceLog, 0);
            Log.Shedding(_logger, count, _time.GetElapsedTime(last, now).TotalSeconds, Waiting, _service.PerSecond() ?? _drain.PerSecond());
        }
    }

    /// <summary>A decode worker for a retry, excluding those that failed this request.</summary>
    public string? ChooseDecode(IReadOnlyCollection<string> exclude) => _decodeChoice.Choose(_workers.DecodeCandidates(exclude))?.AppId;

    public void Wake() => _wake.Writer.TryWrite(true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                DispatchReady();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.DispatcherFailed(_logger, ex);
            }

            // Woken by new requests, finished batches and snapshots; the poll catches what no event announces
            // (a worker's cool-down ending, a snapshot going stale).
            using var poll = new CancellationTokenSource(PollInterval, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(poll.Token, stoppingToken);
            try
            {
                await _wake.Reader.WaitToReadAsync(linked.Token);
                _wake.Reader.TryRead(out _);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
            }
        }
    }

    /// <summary>Dispatches everything that can go now. Public for tests that drive the dispatcher step by step.</summary>
    public void DispatchReady()
    {
        ShedExpired();
        _passDispatched = 0;
        while (DispatchOne())
        {
        }

        // Time the queue stayed backlogged since the last pass, and what left it meanwhile, is the service rate's sample.
        var now = _time.GetTimestamp();
        if (_backlogged)
        {
            _service.Record(_time.GetElapsedTime(_backlogSince, now), _passDispatched);
        }

        _backlogged = Waiting > 0;
        _backlogSince = now;
    }

    /// <summary>Backlogged drain rate in requests per second; null while unknown.</summary>
    public double? ServicePerSecond => _service.PerSecond();

    /// <summary>Sheds the requests still waiting past their dispatch deadline: served now they would miss their TTFT objective anyway.</summary>
    private void ShedExpired()
    {
        if (_admissionOptions.DispatchDeadline <= TimeSpan.Zero)
        {
            return;
        }

        var cutoff = _time.GetTimestamp() - (long)(_admissionOptions.DispatchDeadline.TotalSeconds * _time.TimestampFrequency);
        List<GenerationJob>? expired;
        lock (_lock)
        {
            expired = _queue.RemoveExpired(cutoff);
            if (expired is not null)
            {
                QueueChanged();
            }
        }

        foreach (var job in expired ?? [])
        {
            if (job.TryAbandon())
            {
                NoteRejection("queue_deadline");
                job.Resolve(new RouteOutcome { Expired = true, RetryAfter = TimeSpan.FromSeconds(_admissionOptions.MinRetryAfterSeconds) });
            }
        }
    }

    /// <summary>Publishes the queue's totals for <see cref="RefuseEarly"/> and the gauge. Call under the lock.</summary>
    private void QueueChanged()
    {
        var snapshot = _queue.Snapshot(0);
        for (var p = 0; p < _publishedCounts.Length && p < snapshot.Count.Length; p++)
        {
            Volatile.Write(ref _publishedCounts[p], snapshot.Count[p]);
            Volatile.Write(ref _publishedTokens[p], snapshot.Tokens[p]);
        }

        _metrics.Waiting.Set(snapshot.TotalCount);
    }

    private QueueSnapshot Snapshot(int[] counts, long[] tokens) =>
        new() { Count = counts, Tokens = tokens, DrainPerSecond = _drain.PerSecond(), ServicePerSecond = _service.PerSecond() };

    private bool DispatchOne()
    {
        List<(GenerationJob Job, string Path, string DecodeAppId)> local = [];
        List<(GenerationJob Job, string DecodeAppId)> remote = [];
        List<(GenerationJob Job, string DecodeAppId, string PrefillAppId)> assigned = [];
        lock (_lock)
        {
            var preferShort = _degraded.Enabled;
            if (_queue.Peek(preferShort) is not { } head)
            {
                return false;
            }

            var decodeCandidates = _workers.DecodeCandidates();
            if (decodeCandidates.Count == 0)
            {
                return false;
            }

            var disaggregated = _workers.DisaggregationAvailable;
            if (_disaggregated != disaggregated)
            {
                _disaggregated = disaggregated;
                Log.DisaggregationSwitched(_logger, disaggregated ? "available" : "unavailable, serving aggregated on decode");
            }

            var (headPath, headDecode) = PlanFor(head, disaggregated);
            if (headDecode.Length == 0)
            {
                return false;
            }

            if (headPath != ServingPaths.Disaggregated)
            {
                _queue.Remove(head);
                Reserve(headDecode, head);
                local.Add((head, headPath, headDecode));
            }
            else
            {
                var size = NextBatchSize();
                var capacity = _workers.PrefillCandidates([], _batchOptions.MaxInFlightBatchesPerWorker);
                if (capacity.Count == 0)
                {
                    return false;
                }

                // Reserving as each job is planned spreads one batch over the decode workers; once they are full the
                // batch ends and the rest keeps waiting.
                _queue.DequeueBatch(size, _batchOptions.MaxBatchTokens, preferShort, job =>
                {
                    var (path, decode) = PlanFor(job, disaggregated);
                    if (decode.Length == 0)
                    {
                        return false;
                    }

                    Reserve(decode, job);
                    if (path == ServingPaths.Disaggregated)
                    {
                        remote.Add((job, decode));
                    }
                    else
                    {
                        local.Add((job, path, decode));
                    }

                    return true;
                });

                if (remote.Count > 0)
                {
                    assigned = AssignPrefill(remote, capacity[0].AppId);
                }
            }

            QueueChanged();
        }

        var now = _time.GetTimestamp();
        foreach (var (job, path, decode) in local)
        {
            if (Claim(job, now))
            {
                job.Resolve(new RouteOutcome { Path = path, DecodeAppId = decode, DecodeReserved = decode.Length > 0 });
            }
            else
            {
                ReleaseReservation(decode, job);
            }
        }

        foreach (var group in assigned.GroupBy(a => a.PrefillAppId, StringComparer.Ordinal))
        {
            var claimed = new List<(GenerationJob Job, string DecodeAppId)>();
            foreach (var (job, decode, _) in group)
            {
                if (Claim(job, now))
                {
                    claimed.Add((job, decode));
                }
                else
                {
                    ReleaseReservation(decode, job);
                }
            }

            if (claimed.Count > 0)
            {
                _metrics.PrefillBatchRequests.Observe(claimed.Count);
                _ = RunPrefillAsync(claimed, group.Key);
            }
        }

        return true;
    }

    /// <summary>
    /// The prefill worker of each request of a batch. A policy that weighs prefix overlap chooses per request (as NVIDIA
    /// Dynamo's KV router does), so a batch mixing prefixes splits over the workers holding them; the blocks and hashes
    /// given to a worker earlier in the same pass count as its load and its cache. Other policies choose once per batch.
    /// Call under the lock.
    /// </summary>
    private List<(GenerationJob Job, string DecodeAppId, string PrefillAppId)> AssignPrefill(List<(GenerationJob Job, string DecodeAppId)> remote, string fallback)
    {
        var maxInFlight = _batchOptions.MaxInFlightBatchesPerWorker;
        var result = new List<(GenerationJob Job, string DecodeAppId, string PrefillAppId)>(remote.Count);
        long totalBlocks = 0;
        long overlapBlocks = 0;
        if (!_prefillChoice.ChoosesPerRequest)
        {
            var hashes = remote.Select(r => r.Job.PromptHashes).ToArray();
            var blocks = hashes.Sum(h => h.Length);
            var choice = _prefillChoice.Choose(_workers.PrefillCandidates(hashes, maxInFlight), blocks);
            var appId = choice?.AppId ?? fallback;
            result.AddRange(remote.Select(r => (r.Job, r.DecodeAppId, appId)));
            RecordPrefixRouting(blocks, choice?.OverlapBlocks ?? 0);
            return result;
        }

        var passLoad = new Dictionary<string, double>(StringComparer.Ordinal);
        var passHashes = new Dictionary<string, HashSet<UInt128>>(StringComparer.Ordinal);
        foreach (var (job, decode) in remote)
        {
            var candidates = _workers.PrefillCandidates([job.PromptHashes], maxInFlight);
            var adjusted = new PrefillCandidate[candidates.Count];
            for (var i = 0; i < candidates.Count; i++)
            {
                var c = candidates[i];
                var overlap = passHashes.TryGetValue(c.AppId, out var held) ? Math.Max(c.OverlapBlocks, LeadingIn(held, job.PromptHashes)) : c.OverlapBlocks;
                adjusted[i] = c with { LoadBlocks = c.LoadBlocks + passLoad.GetValueOrDefault(c.AppId), OverlapBlocks = overlap };
            }

            var choice = _prefillChoice.Choose(adjusted, job.PromptHashes.Length);
            var appId = choice?.AppId ?? fallback;
            result.Add((job, decode, appId));
            var cached = choice?.OverlapBlocks ?? 0;
            totalBlocks += job.PromptHashes.Length;
            overlapBlocks += cached;
            passLoad[appId] = passLoad.GetValueOrDefault(appId) + ((job.PromptTokens + BlockTokens - 1) / BlockTokens) - cached;
            if (!passHashes.TryGetValue(appId, out var set))
            {
                passHashes[appId] = set = [];
            }

            set.UnionWith(job.PromptHashes);
        }

        RecordPrefixRouting(totalBlocks, overlapBlocks);
        return result;
    }

    private int BlockTokens => _workerOptions.BlockSize;

    private void RecordPrefixRouting(long blocks, long overlap)
    {
        _metrics.PrefillRoutedBlocks.Inc(blocks);
        _metrics.PrefillRoutedOverlapBlocks.Inc(overlap);
    }

    private static int LeadingIn(HashSet<UInt128> held, UInt128[] hashes)
    {
        var n = 0;
        while (n < hashes.Length && held.Contains(hashes[n]))
        {
            n++;
        }

        return n;
    }

    private (string Path, string DecodeAppId) PlanFor(GenerationJob job, bool disaggregated)
    {
        // Candidates were non-empty a moment ago; a worker vanishing in between only costs this pick its preference.
        var decode = _decodeChoice.Choose(_workers.DecodeCandidates())?.AppId ?? string.Empty;
        var cached = decode.Length == 0 ? 0 : _workers.CachedPrefixBlocks(decode, job.PromptHashes);
        return (_planner.Plan(job.PromptTokens, job.PromptHashes.Length, cached, disaggregated), decode);
    }

    private int NextBatchSize()
    {
        // Only requests actually waiting count: SLO-aware admission keeps the queue near its delay target, so batches grow
        // only when that target holds more than GrowQueueDepth requests. Counting refused requests as waiting grew batches
        // to 64 at three times capacity and pushed admitted TTFT past the objective (docs/figures.md).
        var signal = new BatchSignal(_queue.Count, _workers.PrefillUtilization(_batchOptions.MaxInFlightBatchesPerWorker));
        var size = _batching.NextBatchSize(signal);
        if (size != _batchSize)
        {
            Log.BatchSizeChanged(_logger, _batchSize, size, signal.QueuedRequests, signal.Utilization);
            _metrics.BatchSizeChanges.WithLabels(size > _batchSize ? "up" : "down").Inc();
            _batchSize = size;
            _metrics.BatchSize.Set(size);
        }

        return _degraded.Enabled ? Math.Min(size, _degraded.MaxBatchSize) : size;
    }

    private bool Claim(GenerationJob job, long now)
    {
        if (!job.TryDispatch(now))
        {
            return false;
        }

        _drain.Record();
        _passDispatched++;
        _metrics.QueueTime.Observe(_time.GetElapsedTime(job.EnqueuedAt, now).TotalSeconds);
        return true;
    }

    private void Reserve(string decodeAppId, GenerationJob job)
    {
        if (decodeAppId.Length > 0)
        {
            _workers.Started(decodeAppId, job.PromptTokens);
        }
    }

    private void ReleaseReservation(string decodeAppId, GenerationJob job)
    {
        if (decodeAppId.Length > 0)
        {
            _workers.Completed(decodeAppId, job.PromptTokens, failed: false);
        }
    }

    private async Task RunPrefillAsync(List<(GenerationJob Job, string DecodeAppId)> batch, string firstAppId)
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
                DecodeAppId = b.DecodeAppId.Length == 0 ? null : b.DecodeAppId,
                Priority = b.Job.Priority,
            }).ToArray(),
        };
        var tokens = batch.Sum(b => b.Job.PromptTokens);
        var tried = new List<string>();
        var appId = firstAppId;
        for (var attempt = 1; appId is not null; attempt++)
        {
            tried.Add(appId);
            _workers.Started(appId, tokens, batch.Select(b => b.Job.PromptHashes));
            var failed = false;
            try
            {
                var deadline = _time.GetUtcNow() + _workerOptions.PrefillTimeout;
                using var timeout = new CancellationTokenSource(_workerOptions.PrefillTimeout, _time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _stopping);
                var response = await _client.PrefillAsync(appId, request with { DeadlineUnixMs = deadline.ToUnixTimeMilliseconds() }, linked.Token);
                Deliver(batch, response, appId);
                return;
            }
            catch (Exception ex) when (ex is WorkerCallException or OperationCanceledException && !_stopping.IsCancellationRequested)
            {
                failed = true;
                _metrics.WorkerFailures.WithLabels("prefill").Inc();
                Log.PrefillFailed(_logger, batchId, appId, attempt, ex is OperationCanceledException ? "deadline exceeded" : ex.Message);
                if (ex is WorkerCallException { Retryable: false })
                {
                    break;
                }
            }
            catch (OperationCanceledException)
            {
                foreach (var (job, decode) in batch)
                {
                    ReleaseReservation(decode, job);
                    job.Resolve(new RouteOutcome { Error = "router is shutting down" });
                }

                return;
            }
            finally
            {
                _workers.Completed(appId, tokens, failed);
            }

            appId = attempt < _workerOptions.MaxAttempts
                ? _prefillChoice.Choose(_workers.PrefillCandidates([], int.MaxValue).Where(c => !tried.Contains(c.AppId)).ToArray(), 0)?.AppId
                : null;
        }

        // No prefill worker managed: the decode worker prefills locally (same tokens, only slower).
        foreach (var (job, decode) in batch)
        {
            job.Resolve(new RouteOutcome { Path = ServingPaths.Aggregated, DecodeAppId = decode, DecodeReserved = decode.Length > 0 });
        }
    }

    private void Deliver(List<(GenerationJob Job, string DecodeAppId)> batch, PrefillBatchResponse response, string appId)
    {
        var results = response.Results.ToDictionary(r => r.RequestId, StringComparer.Ordinal);
        foreach (var (job, decode) in batch)
        {
            if (results.TryGetValue(job.RequestId, out var r) && r.Error is null && r.FirstToken is not null && (r.KvHandle is not null || r.FinishReason is not null))
            {
                _metrics.PrefixCachedTokens.Inc(r.CachedTokens);
                job.Resolve(new RouteOutcome
                {
                    Path = ServingPaths.Disaggregated,
                    PrefillAppId = appId,
                    DecodeAppId = decode,
                    FirstToken = r.FirstToken,
                    KvHandle = r.KvHandle,
                    CachedTokens = r.CachedTokens,
                    FinishReason = r.FinishReason,
                    DecodeReserved = decode.Length > 0,
                });
            }
            else if (r?.Error?.Code == WorkerError.InvalidRequest)
            {
                ReleaseReservation(decode, job);
                job.Resolve(new RouteOutcome { Error = $"prefill refused the request: {r.Error.Message}" });
            }
            else
            {
                // A sequence the worker could not do (or left out): prefill it on decode instead.
                job.Resolve(new RouteOutcome { Path = ServingPaths.Aggregated, DecodeAppId = decode, DecodeReserved = decode.Length > 0 });
            }
        }
    }
}
