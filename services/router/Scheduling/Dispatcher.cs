using Microsoft.Extensions.Options;
using MoeDapr.Contracts;
using MoeDapr.Router.Diagnostics;
using MoeDapr.Router.Options;
using MoeDapr.Router.Workers;

namespace MoeDapr.Router.Scheduling;

/// <summary>
/// One dispatch pass: sheds what waited past its deadline (<see cref="AdmissionGate"/>), then plans step after step
/// (<see cref="BatchPlanner"/>) until the rest must wait for capacity, leases each routed request's decode slot, hands
/// requests served on decode their route and starts each prefill batch (<see cref="PrefillExecutor"/>).
/// </summary>
public sealed class Dispatcher
{
    private readonly AdmissionGate _gate;
    private readonly BatchPlanner _planner;
    private readonly WorkerRegistry _workers;
    private readonly PrefillExecutor _prefill;
    private readonly RouterMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<Dispatcher> _logger;
    private int _batchSize;
    private bool? _disaggregated;

    public Dispatcher(
        AdmissionGate gate, BatchPlanner planner, WorkerRegistry workers, PrefillExecutor prefill, DegradedMode degraded,
        RouterMetrics metrics, TimeProvider time, IOptions<BatchingOptions> batchOptions, ILogger<Dispatcher> logger)
    {
        _gate = gate;
        _planner = planner;
        _workers = workers;
        _prefill = prefill;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _batchSize = batchOptions.Value.InitialBatchSize;
        _metrics.BatchSize.Set(_batchSize);
        _metrics.Degraded.Set(degraded.Enabled ? 1 : 0);
    }

    /// <summary>Dispatches everything that can go now; prefill batches started here stop with <paramref name="stopping"/>.</summary>
    public void DispatchReady(CancellationToken stopping = default)
    {
        _gate.ShedExpired();
        while (DispatchOne(stopping))
        {
        }

        _gate.EndPass();
    }

    private bool DispatchOne(CancellationToken stopping)
    {
        var plan = _gate.Dequeue(queue => _planner.PlanNext(queue, _workers));
        Report(plan);
        if (!plan.Advanced)
        {
            return false;
        }

        var now = _time.GetTimestamp();
        foreach (var route in plan.Routes.Where(r => r.PrefillAppId is null))
        {
            if (_gate.Claim(route.Job, now))
            {
                route.Job.Resolve(new RouteOutcome { Path = route.Path, Decode = _workers.Lease(route.DecodeAppId, route.Job.PromptTokens) });
            }
        }

        foreach (var group in plan.Routes.Where(r => r.PrefillAppId is not null).GroupBy(r => r.PrefillAppId!, StringComparer.Ordinal))
        {
            var claimed = new List<(GenerationJob Job, WorkerLease Decode)>();
            foreach (var route in group)
            {
                if (_gate.Claim(route.Job, now))
                {
                    claimed.Add((route.Job, _workers.Lease(route.DecodeAppId, route.Job.PromptTokens)));
                }
            }

            if (claimed.Count > 0)
            {
                _metrics.PrefillBatchRequests.Observe(claimed.Count);
                _ = _prefill.RunAsync(claimed, group.Key, stopping);
            }
        }

        return true;
    }

    /// <summary>Logs and counts what the plan saw: the serving path switching, the batch size changing, prefix routing.</summary>
    private void Report(DispatchPlan plan)
    {
        if (plan.Disaggregated is { } disaggregated && _disaggregated != disaggregated)
        {
            _disaggregated = disaggregated;
            Log.DisaggregationSwitched(_logger, disaggregated ? "available" : "unavailable, serving aggregated on decode");
        }

        if (plan.BatchSize is var (size, signal) && size != _batchSize)
        {
            Log.BatchSizeChanged(_logger, _batchSize, size, signal.QueuedRequests, signal.Utilization);
            _metrics.BatchSizeChanges.WithLabels(size > _batchSize ? "up" : "down").Inc();
            _batchSize = size;
            _metrics.BatchSize.Set(size);
        }

        if (plan.PrefixRouting is var (blocks, overlap))
        {
            _metrics.PrefillRoutedBlocks.Inc(blocks);
            _metrics.PrefillRoutedOverlapBlocks.Inc(overlap);
        }
    }
}
