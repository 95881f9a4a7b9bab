using Dapr;
using Dapr.Actors.Runtime;
using Dapr.Client;
using Microsoft.Extensions.Options;
using MoeDapr.Contracts;
using MoeDapr.Contracts.Eplb;
using MoeDapr.Engine.Eplb;

namespace MoeDapr.Decode.Eplb;

/// <summary>
/// One per model (actor id = model name), hosted by decode: sums the load windows of every replica, decides every
/// <c>Eplb:RebalanceFrequency</c> steps or when the placement in use scores below <c>Eplb:BalancednessThreshold</c>,
/// and publishes a plan only when it beats the current one by <c>Eplb:MinImprovement</c>. The plan, the pending load
/// and the last window seen per replica live in actor state, so a restarted host resumes where it stopped.
/// </summary>
[Actor(TypeName = EplbTopics.CoordinatorActorType)]
public sealed class EplbCoordinatorActor(
    ActorHost host, IOptions<EplbOptions> options, DaprClient dapr, TimeProvider time, ILogger<EplbCoordinatorActor> logger)
    : Actor(host), IEplbCoordinatorActor
{
    internal const string PlanKey = "plan";
    internal const string PendingKey = "pending";
    internal const string SeenKey = "seen";

    // Replica instances remembered for duplicate detection; the oldest are forgotten beyond this.
    private const int MaxInstances = 256;
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(5);

    public async Task<ExpertPlacementPlan?> ReportWindowAsync(ExpertLoadWindow window)
    {
        ArgumentNullException.ThrowIfNull(window);
        var model = Id.GetId();
        var settings = options.Value;
        var plan = (await StateManager.TryGetStateAsync<ExpertPlacementPlan>(PlanKey)).Value;
        if (Refusal(window, model, plan) is { } reason)
        {
            EplbLog.WindowRefused(logger, model, window.AppId, reason);
            return null;
        }

        // Pub/sub delivers at least once, and every decode app's subscription forwards the same window.
        var seen = (await StateManager.TryGetStateAsync<Dictionary<string, SeenWindow>>(SeenKey)).Value ?? [];
        if (seen.TryGetValue(window.InstanceId, out var last) && last.Sequence >= window.Sequence)
        {
            return null;
        }

        seen[window.InstanceId] = new SeenWindow(window.Sequence, window.EndUnixMs);
        if (seen.Count > MaxInstances)
        {
            seen.Remove(seen.MinBy(s => s.Value.EndUnixMs).Key);
        }

        await StateManager.SetStateAsync(SeenKey, seen);
        var pending = (await StateManager.TryGetStateAsync<PendingLoad>(PendingKey)).Value;
        if (pending is null || !pending.Matches(window))
        {
            pending = PendingLoad.Empty(window);
        }

        pending = pending.Add(window);
        var current = plan?.Phy2Log ?? window.Layers.Select(_ => PlanMaker.InitialPhy2Log(window.Slots, window.Experts)).ToArray();
        var decision = pending.Steps >= settings.RebalanceFrequency
            ? "frequency"
            : settings.BalancednessThreshold > 0 && pending.HasLoad
                && PlanMaker.Balancedness(pending.Tokens, current, window.Ranks, window.Experts) < settings.BalancednessThreshold
                    ? "threshold"
                    : null;
        ExpertPlacementPlan? decided = null;
        if (decision is not null && pending.HasLoad)
        {
            var topology = new EplbTopology(window.Slots, settings.Groups, settings.Nodes, window.Ranks);
            var proposal = PlanMaker.Propose(pending.Tokens, current, topology, ExpertPlacementPolicies.Create(settings.Algorithm));
            var version = (plan?.Version ?? 0) + 1;
            if (proposal.After >= proposal.Before + settings.MinImprovement)
            {
                decided = new ExpertPlacementPlan
                {
                    Model = model,
                    Version = version,
                    CreatedUnixMs = time.GetUtcNow().ToUnixTimeMilliseconds(),
                    Algorithm = settings.Algorithm,
                    Ranks = window.Ranks,
                    Slots = window.Slots,
                    Experts = window.Experts,
                    Layers = window.Layers,
                    Phy2Log = proposal.Phy2Log,
                    BalancednessBefore = proposal.Before,
                    BalancednessAfter = proposal.After,
                    LoadShares = PlanMaker.Shares(pending.Tokens),
                    Reason = decision,
                };
                await StateManager.SetStateAsync(PlanKey, decided);
                EplbLog.PlanDecided(logger, model, version, decision, pending.Steps, proposal.Before, proposal.After);
            }
            else
            {
                EplbLog.PlanKept(logger, model, version - 1, decision, proposal.Before, proposal.After);
            }

            pending = PendingLoad.Empty(window);
        }

        await StateManager.SetStateAsync(PendingKey, pending);

        // Saved before publishing: a replica that misses the event still finds the plan when it asks (GetPlanAsync).
        await StateManager.SaveStateAsync();
        if (decided is not null)
        {
            await PublishAsync(decided);
        }

        return decided;
    }

    public async Task<ExpertPlacementPlan?> GetPlanAsync() => (await StateManager.TryGetStateAsync<ExpertPlacementPlan>(PlanKey)).Value;

    private async Task PublishAsync(ExpertPlacementPlan plan)
    {
        try
        {
            using var timeout = new CancellationTokenSource(PublishTimeout);
            await dapr.PublishEventAsync(PubSub.Name, EplbTopics.Plans, plan, timeout.Token);
        }
        catch (Exception e) when (e is DaprException or OperationCanceledException)
        {
            EplbLog.PublishFailed(logger, EplbTopics.Plans, e.Message);
        }
    }

    private static string? Refusal(ExpertLoadWindow window, string model, ExpertPlacementPlan? plan)
    {
        if (!string.Equals(window.Model, model, StringComparison.Ordinal))
        {
            return $"it is for model '{window.Model}'";
        }

        if (window.Experts < 1 || window.Ranks < 1 || window.Slots < window.Experts || window.Slots % window.Ranks != 0)
        {
            return $"{window.Slots} slots cannot hold {window.Experts} experts on {window.Ranks} ranks";
        }

        if (window.Layers.Count == 0 || window.Tokens.Count != window.Layers.Count || window.Tokens.Any(row => row.Length != window.Experts || row.Any(t => t < 0)))
        {
            return "its token counts are not [layers][experts] non-negative counts";
        }

        if (window.Steps < 0)
        {
            return $"it claims {window.Steps} steps";
        }

        if (plan is not null && (plan.Slots != window.Slots || plan.Ranks != window.Ranks || plan.Experts != window.Experts || !plan.Layers.SequenceEqual(window.Layers)))
        {
            return $"its shape ({window.Slots} slots on {window.Ranks} ranks) differs from the plan's ({plan.Slots} on {plan.Ranks}): replicas of one model must share Engine:ExpertParallelSize and Eplb:RedundantExperts";
        }

        return null;
    }
}
