using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using MoeDapr.Contracts.Eplb;
using MoeDapr.Engine;

namespace MoeDapr.Decode.Eplb;

/// <summary>
/// Applies the coordinator's plans to this replica's engine between steps, <c>Eplb:LayersPerChunk</c> MoE layers per
/// engine pause, while serving goes on (a sequence in flight keeps its tokens: only where expert weights live changes).
/// Plans arrive from the plans topic (<see cref="Offer"/>) and, every <c>Eplb:PlanPollInterval</c> and at start, from
/// the coordinator itself, so a replica that missed an event or restarted catches up.
/// </summary>
public sealed class PlanApplier(
    EngineHost host, CoordinatorClient coordinator, EplbMetrics metrics, IOptions<EplbOptions> options, IOptions<DecodeOptions> decode,
    ILogger<PlanApplier> logger)
    : BackgroundService
{
    private static readonly TimeSpan EngineWait = TimeSpan.FromMilliseconds(200);

    // Only the newest plan matters: older ones waiting here are dropped.
    private readonly Channel<ExpertPlacementPlan> _offers = Channel.CreateBounded<ExpertPlacementPlan>(
        new BoundedChannelOptions(4) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    private readonly SemaphoreSlim _applying = new(1, 1);
    private long _applied;

    /// <summary>Version of the last plan applied (0: the initial placement).</summary>
    public long AppliedVersion => Interlocked.Read(ref _applied);

    /// <summary>Queues a plan that arrived on the plans topic.</summary>
    public bool Offer(ExpertPlacementPlan plan) => _offers.Writer.TryWrite(plan);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var model = decode.Value.ResolveModelName();
        InferenceEngine? engine;
        while ((engine = host.Engine) is null)
        {
            await Task.Delay(EngineWait, stoppingToken);
        }

        var ask = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            if (ask && await AskAsync(model, stoppingToken) is { } asked)
            {
                await ApplyAsync(engine, asked, stoppingToken);
            }

            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            wait.CancelAfter(settings.PlanPollInterval);
            try
            {
                ask = false;
                await _offers.Reader.WaitToReadAsync(wait.Token);
                ExpertPlacementPlan? newest = null;
                while (_offers.Reader.TryRead(out var offered))
                {
                    newest = newest is null || offered.Version > newest.Version ? offered : newest;
                }

                if (newest is not null)
                {
                    await ApplyAsync(engine, newest, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                ask = true;
            }
        }
    }

    /// <summary>
    /// Moves the engine's experts to <paramref name="plan"/> layer by layer; null when the plan is not newer than the one
    /// in use or does not fit this engine (logged).
    /// </summary>
    public async Task<PlanApplyResult?> ApplyAsync(InferenceEngine engine, ExpertPlacementPlan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(plan);
        await _applying.WaitAsync(cancellationToken);
        try
        {
            if (plan.Version <= AppliedVersion)
            {
                return null;
            }

            var current = engine.ExpertLoads.ToDictionary(l => l.Layer);
            if (Misfit(engine, plan, current) is { } reason)
            {
                EplbLog.PlanIgnored(logger, plan.Version, reason);
                return null;
            }

            var started = Stopwatch.GetTimestamp();
            var pauses = new List<LayerMove>();
            var chunk = Math.Max(1, options.Value.LayersPerChunk);
            try
            {
                for (var first = 0; first < plan.Layers.Count; first += chunk)
                {
                    var moves = new List<(int Index, int[] Old, Task<TimeSpan> Pause)>();
                    for (var i = first; i < Math.Min(first + chunk, plan.Layers.Count); i++)
                    {
                        var old = current[plan.Layers[i]].Phy2Log;
                        if (!old.SequenceEqual(plan.Phy2Log[i]))
                        {
                            // Posted together: the engine runs the chunk's moves in one gap between steps.
                            moves.Add((i, old, engine.ApplyPlacementAsync(plan.Layers[i], plan.Phy2Log[i], cancellationToken)));
                        }
                    }

                    foreach (var (index, old, pause) in moves)
                    {
                        pauses.Add(new LayerMove(plan.Layers[index], await pause));
                        Report(plan, index, old);
                    }
                }
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or ObjectDisposedException)
            {
                EplbLog.PlanFailed(logger, plan.Version, e);
                return null;
            }

            Interlocked.Exchange(ref _applied, plan.Version);
            metrics.Rebalances.Inc();
            var elapsed = Stopwatch.GetElapsedTime(started);
            var longest = pauses.Count > 0 ? pauses.Max(p => p.Pause.TotalMilliseconds) : 0;
            EplbLog.PlanApplied(logger, plan.Version, pauses.Count, elapsed.TotalMilliseconds, longest, plan.BalancednessBefore, plan.BalancednessAfter);
            return new PlanApplyResult(plan.Version, pauses, elapsed);
        }
        finally
        {
            _applying.Release();
        }
    }

    private async Task<ExpertPlacementPlan?> AskAsync(string model, CancellationToken stoppingToken)
    {
        try
        {
            return await coordinator.For(model).GetPlanAsync().WaitAsync(CoordinatorClient.CallTimeout, stoppingToken);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            // The sidecar or the coordinator's host may be starting or restarting: the next poll retries.
            EplbLog.CoordinatorUnreachable(logger, e.Message);
            return null;
        }
    }

    /// <summary>Why <paramref name="plan"/> cannot be applied to <paramref name="engine"/>, or null.</summary>
    private string? Misfit(InferenceEngine engine, ExpertPlacementPlan plan, Dictionary<int, ExpertLoad> current)
    {
        var model = decode.Value.ResolveModelName();
        if (!string.Equals(plan.Model, model, StringComparison.Ordinal))
        {
            return $"it is for model '{plan.Model}', this replica serves '{model}'";
        }

        var slots = current.Values.FirstOrDefault()?.Phy2Log.Length ?? 0;
        if (plan.Ranks != engine.Options.ExpertParallelSize || plan.Slots != slots || plan.Experts != engine.Config.NumExperts)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"it places {plan.Experts} experts on {plan.Slots} slots over {plan.Ranks} ranks; this engine has {engine.Config.NumExperts} experts, {slots} slots, {engine.Options.ExpertParallelSize} ranks");
        }

        if (plan.Phy2Log.Count != plan.Layers.Count || plan.Layers.Any(l => !current.ContainsKey(l)) || plan.Phy2Log.Any(p => p.Length != slots))
        {
            return "its layers are not this model's MoE layers";
        }

        return null;
    }

    /// <summary>Logs the experts that arrived on a rank and counts those that left one.</summary>
    private void Report(ExpertPlacementPlan plan, int index, int[] old)
    {
        var layer = plan.Layers[index];
        var next = plan.Phy2Log[index];
        var slotsPerRank = plan.Slots / plan.Ranks;
        var before = Holdings(old, slotsPerRank);
        var after = Holdings(next, slotsPerRank);
        var oldCount = old.CountBy(e => e).ToDictionary();
        var newCount = next.CountBy(e => e).ToDictionary();
        foreach (var (expert, rank) in after.Except(before).Order())
        {
            var load = plan.LoadShares is { } shares && index < shares.Count && expert < shares[index].Length ? shares[index][expert] : double.NaN;
            if (newCount[expert] > oldCount[expert])
            {
                EplbLog.ExpertReplicated(logger, expert, rank, load, layer);
            }
            else
            {
                EplbLog.ExpertMoved(logger, expert, rank, load, layer);
            }
        }

        foreach (var (_, rank) in before.Except(after))
        {
            metrics.CacheEvictions.WithLabels(rank.ToString(CultureInfo.InvariantCulture)).Inc();
        }
    }

    private static HashSet<(int Expert, int Rank)> Holdings(int[] phy2Log, int slotsPerRank) =>
        phy2Log.Select((expert, slot) => (expert, slot / slotsPerRank)).ToHashSet();

    public override void Dispose()
    {
        _applying.Dispose();
        base.Dispose();
    }
}
