using Microsoft.Extensions.Options;
using MoeDapr.Contracts;
using MoeDapr.Router.Diagnostics;
using MoeDapr.Router.Options;
using MoeDapr.Router.Policies;

namespace MoeDapr.Router.Scheduling;

/// <summary>
/// Back-pressure: the front door of the waiting queue. Admits or refuses requests (admission policy), sheds lower-priority
/// waiters to make room and requests still waiting past their dispatch deadline, and keeps the queue's totals and drain
/// rates that admission and Retry-After are computed from. The queue is touched only under this gate's lock.
/// </summary>
public sealed class AdmissionGate
{
    /// <summary>Refusals are summed into one log line per this interval.</summary>
    public static readonly TimeSpan RejectionLogInterval = TimeSpan.FromSeconds(10);

    private readonly Lock _lock = new();
    private readonly RequestQueue _queue = new();
    private readonly int[] _publishedCounts = new int[Enum.GetValues<RequestPriority>().Length];
    private readonly long[] _publishedTokens = new long[Enum.GetValues<RequestPriority>().Length];
    private readonly IAdmissionPolicy _admission;
    private readonly DrainRateMeter _drain;
    private readonly ServiceRateMeter _service;
    private readonly AdmissionOptions _options;
    private readonly RouterMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<AdmissionGate> _logger;
    private bool _backlogged;
    private long _backlogSince;
    private int _passDispatched;
    private long _rejectedSinceLog;
    private long _lastRejectionLog;

    public AdmissionGate(
        IAdmissionPolicy admission, DrainRateMeter drain, ServiceRateMeter service, RouterMetrics metrics, TimeProvider time,
        IOptions<AdmissionOptions> options, ILogger<AdmissionGate> logger)
    {
        _admission = admission;
        _drain = drain;
        _service = service;
        _metrics = metrics;
        _time = time;
        _options = options.Value;
        _logger = logger;
        _lastRejectionLog = time.GetTimestamp();
        _metrics.QueueCapacity.Set(_options.MaxQueuedRequests);
    }

    /// <summary>Raised (outside the lock) when a request was admitted, so the dispatch loop wakes.</summary>
    public event Action? Admitted;

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

        var queue = new QueueSnapshot { Count = counts, Tokens = tokens, DrainPerSecond = _drain.PerSecond(), ServicePerSecond = _service.PerSecond() };
        var decision = _admission.Decide(priority, 0, queue);
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

        Admitted?.Invoke();
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

    /// <summary>Sheds the requests still waiting past their dispatch deadline: served now they would miss their TTFT objective anyway.</summary>
    public void ShedExpired()
    {
        if (_options.DispatchDeadline <= TimeSpan.Zero)
        {
            return;
        }

        var cutoff = _time.GetTimestamp() - (long)(_options.DispatchDeadline.TotalSeconds * _time.TimestampFrequency);
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
                job.Resolve(new RouteOutcome { Expired = true, RetryAfter = TimeSpan.FromSeconds(_options.MinRetryAfterSeconds) });
            }
        }
    }

    /// <summary>Runs <paramref name="take"/> on the queue under the lock (it may remove jobs), then republishes the totals.</summary>
    public T Dequeue<T>(Func<RequestQueue, T> take)
    {
        lock (_lock)
        {
            var result = take(_queue);
            QueueChanged();
            return result;
        }
    }

    /// <summary>Claims a dequeued job for a worker (false when its handler gave up first) and counts it as drained.</summary>
    public bool Claim(GenerationJob job, long now)
    {
        if (!job.TryDispatch(now))
        {
            return false;
        }

        _drain.Record();
        Interlocked.Increment(ref _passDispatched);
        _metrics.QueueTime.Observe(_time.GetElapsedTime(job.EnqueuedAt, now).TotalSeconds);
        return true;
    }

    /// <summary>
    /// Ends a dispatch pass: the time the queue stayed backlogged since the last pass, and what left it meanwhile, is the
    /// service rate's sample. Called by the one dispatch loop.
    /// </summary>
    public void EndPass()
    {
        var now = _time.GetTimestamp();
        var dispatched = Interlocked.Exchange(ref _passDispatched, 0);
        if (_backlogged)
        {
            _service.Record(_time.GetElapsedTime(_backlogSince, now), dispatched);
        }

        _backlogged = Waiting > 0;
        _backlogSince = now;
    }

    /// <summary>Counts a refusal by reason, and logs a summary at most every <see cref="RejectionLogInterval"/>, never one line per refusal.</summary>
    private void NoteRejection(string reason)
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
}
