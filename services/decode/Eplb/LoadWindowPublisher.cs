using Dapr.Client;
using Microsoft.Extensions.Options;
using MoeDapr.Contracts;
using MoeDapr.Contracts.Eplb;
using MoeDapr.Engine;
using MoeDapr.ServiceDefaults;

namespace MoeDapr.Decode.Eplb;

/// <summary>
/// Publishes an <see cref="ExpertLoadWindow"/> every <c>Eplb:WindowSize</c> engine steps, or after
/// <c>Eplb:WindowInterval</c> when fewer steps ran (never for an idle engine), from the engine's counters.
/// </summary>
public sealed class LoadWindowPublisher(
    DaprClient dapr, EngineHost host, PlanApplier applier, IOptions<EplbOptions> options, IOptions<DecodeOptions> decode,
    TimeProvider time, ILogger<LoadWindowPublisher> logger)
    : BackgroundService
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(2);
    private readonly BestEffortPublisher _publisher = new(dapr, PubSub.Name, PublishTimeout);
    private readonly string _instanceId = Guid.NewGuid().ToString("N");
    private readonly Dictionary<int, long[]> _marks = [];
    private long _sequence;
    private long _stepsMark = -1;
    private long _windowStart;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Poll, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (host.Engine is { } engine && Next(engine) is { } window)
            {
                await PublishAsync(window, stoppingToken);
            }
        }
    }

    /// <summary>The window that just closed, or null while it is still open.</summary>
    public ExpertLoadWindow? Next(InferenceEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var steps = engine.Stats.Steps;
        var loads = engine.ExpertLoads;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (_stepsMark < 0)
        {
            Mark(loads, steps, now);
            return null;
        }

        var settings = options.Value;
        var ran = steps - _stepsMark;
        if (ran <= 0 || loads.Count == 0 || (ran < settings.WindowSize && now - _windowStart < settings.WindowInterval.TotalMilliseconds))
        {
            return null;
        }

        var window = new ExpertLoadWindow
        {
            Model = decode.Value.ResolveModelName(),
            AppId = decode.Value.AppId,
            InstanceId = _instanceId,
            Sequence = ++_sequence,
            StartUnixMs = _windowStart,
            EndUnixMs = now,
            Steps = ran,
            Ranks = engine.Options.ExpertParallelSize,
            Slots = loads[0].Phy2Log.Length,
            Experts = engine.Config.NumExperts,
            Layers = loads.Select(l => l.Layer).ToArray(),
            Tokens = loads.Select(l => _marks.TryGetValue(l.Layer, out var mark) ? l.ExpertTokens.Select((c, e) => c - mark[e]).ToArray() : l.ExpertTokens).ToArray(),
            PlanVersion = applier.AppliedVersion,
        };
        Mark(loads, steps, now);
        return window;
    }

    private void Mark(IReadOnlyList<ExpertLoad> loads, long steps, long now)
    {
        foreach (var load in loads)
        {
            _marks[load.Layer] = load.ExpertTokens;
        }

        _stepsMark = steps;
        _windowStart = now;
    }

    // A lost window only delays the next decision.
    private Task PublishAsync(ExpertLoadWindow window, CancellationToken stoppingToken) =>
        _publisher.PublishAsync(EplbTopics.LoadWindows, window, reason => EplbLog.PublishFailed(logger, EplbTopics.LoadWindows, reason), stoppingToken);
}
