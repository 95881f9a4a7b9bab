using System.Globalization;
using Microsoft.Extensions.Options;
using MoeDapr.Engine;
using MoeDapr.Engine.Eplb;
using Prometheus;

namespace MoeDapr.Decode.Eplb;

/// <summary>
/// Exports the engine's expert counters as the <c>moe_*</c> metrics: counters copied at every scrape and refresh,
/// windowed gauges (utilization, Gini, max/mean, balancedness) every <c>Eplb:TelemetryInterval</c>, step timings as
/// they happen (the engine's step observer); and logs "Expert usage" every <c>Worker:ExpertLogInterval</c>, with a
/// warning when a layer's Gini exceeds 0.5 or its max/mean exceeds 3. The counting itself lives in the engine; this
/// only reads snapshots, off the engine thread.
/// </summary>
public sealed class ExpertTelemetry : BackgroundService
{
    public const double GiniWarning = 0.5;
    public const double MaxOverMeanWarning = 3;

    private readonly EngineHost _host;
    private readonly EplbMetrics _metrics;
    private readonly EplbOptions _options;
    private readonly DecodeOptions _decode;
    private readonly TimeProvider _time;
    private readonly ILogger<ExpertTelemetry> _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, long[]> _windowMark = [];
    private readonly Dictionary<int, long[]> _logMark = [];
    private long _lastLog;
    private InferenceEngine? _observed;
    private Histogram.Child[] _rankStep = [];

    public ExpertTelemetry(
        EngineHost host, EplbMetrics metrics, IOptions<EplbOptions> options, IOptions<DecodeOptions> decode, TimeProvider time, ILogger<ExpertTelemetry> logger)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _host = host;
        _metrics = metrics;
        _options = options.Value;
        _decode = decode.Value;
        _time = time;
        _logger = logger;
        _lastLog = time.GetTimestamp();
        metrics.Registry.AddBeforeCollectCallback(() =>
        {
            if (_host.Engine is { } engine)
            {
                UpdateCounters(engine.ExpertLoads);
            }
        });
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.TelemetryInterval, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            Refresh();
        }
    }

    /// <summary>Copies the counters, closes a gauge window, and logs usage when its interval is due.</summary>
    public void Refresh()
    {
        if (_host.Engine is not { } engine)
        {
            return;
        }

        Observe(engine);
        var loads = engine.ExpertLoads;
        UpdateCounters(loads);
        lock (_lock)
        {
            var topK = engine.Config.NumExpertsPerToken;
            var balance = new List<double>();
            foreach (var load in loads)
            {
                var window = Delta(_windowMark, load);
                var total = window.Sum();
                if (total <= 0)
                {
                    continue; // an idle layer keeps its last window's figures
                }

                var layer = load.Layer.ToString(CultureInfo.InvariantCulture);
                for (var e = 0; e < window.Length; e++)
                {
                    // tokens to the expert / tokens through the layer, where each token makes top-k assignments.
                    _metrics.ExpertUtilization.WithLabels(layer, e.ToString(CultureInfo.InvariantCulture)).Set((double)window[e] * topK / total);
                }

                _metrics.LoadGini.WithLabels(layer).Set(ExpertLoadStatistics.Gini(window));
                _metrics.LoadMaxMeanRatio.WithLabels(layer).Set(ExpertLoadStatistics.MaxOverMean(window));
                balance.Add(LayerBalancedness(load, window, engine.Options.ExpertParallelSize));
            }

            if (balance.Count > 0)
            {
                _metrics.Balancedness.Set(balance.Average());
            }

            if (_decode.ExpertLogInterval > TimeSpan.Zero && _time.GetElapsedTime(_lastLog) >= _decode.ExpertLogInterval)
            {
                _lastLog = _time.GetTimestamp();
                LogUsage(loads, topK);
            }
        }
    }

    /// <summary>Balancedness of the layer's placement in use under one window's counts.</summary>
    public static double LayerBalancedness(ExpertLoad load, long[] window, int ranks)
    {
        ArgumentNullException.ThrowIfNull(load);
        ArgumentNullException.ThrowIfNull(window);
        var placement = ExpertPlacement.FromPhy2Log(ranks, window.Length, [load.Phy2Log]);
        var counts = window.Select(c => (double)c).ToArray();
        return PlacementBalance.Balancedness(PlacementBalance.RankLoads(counts, placement.Layers[0], ranks));
    }

    private void Observe(InferenceEngine engine)
    {
        if (ReferenceEquals(_observed, engine))
        {
            return;
        }

        _observed = engine;
        _rankStep = Enumerable.Range(0, engine.Options.ExpertParallelSize)
            .Select(r => _metrics.RankStepSeconds.WithLabels(r.ToString(CultureInfo.InvariantCulture)))
            .ToArray();
        var rankStep = _rankStep;
        var routing = _metrics.RoutingLatency;
        engine.StepObserver = timing =>
        {
            routing.Observe(timing.RoutingSeconds);
            for (var r = 0; r < rankStep.Length && r < timing.RankSeconds.Length; r++)
            {
                rankStep[r].Observe(timing.RankSeconds[r]);
            }
        };
    }

    private void UpdateCounters(IReadOnlyList<ExpertLoad> loads)
    {
        var rankTotals = new long[loads.Count > 0 ? loads[0].RankTokens.Length : 0];
        foreach (var load in loads)
        {
            var layer = load.Layer.ToString(CultureInfo.InvariantCulture);
            for (var e = 0; e < load.ExpertTokens.Length; e++)
            {
                _metrics.ExpertTokens.WithLabels(layer, e.ToString(CultureInfo.InvariantCulture)).IncTo(load.ExpertTokens[e]);
            }

            for (var r = 0; r < rankTotals.Length && r < load.RankTokens.Length; r++)
            {
                rankTotals[r] += load.RankTokens[r];
            }
        }

        for (var r = 0; r < rankTotals.Length; r++)
        {
            _metrics.RankTokens.WithLabels(r.ToString(CultureInfo.InvariantCulture)).IncTo(rankTotals[r]);
        }
    }

    private void LogUsage(IReadOnlyList<ExpertLoad> loads, int topK)
    {
        foreach (var load in loads)
        {
            var window = Delta(_logMark, load);
            var total = window.Sum();
            if (total <= 0)
            {
                continue;
            }

            var gini = ExpertLoadStatistics.Gini(window);
            var maxOverMean = ExpertLoadStatistics.MaxOverMean(window);
            var usage = "[" + string.Join(", ", window.Select(c => ((double)c * topK / total).ToString("F3", CultureInfo.InvariantCulture))) + "]";
            EplbLog.ExpertUsage(_logger, load.Layer, usage, gini, maxOverMean);
            if (gini > GiniWarning || maxOverMean > MaxOverMeanWarning)
            {
                EplbLog.ExpertImbalance(_logger, load.Layer, gini, maxOverMean);
            }
        }
    }

    /// <summary>Counts since the mark, and the mark moved to now.</summary>
    private static long[] Delta(Dictionary<int, long[]> marks, ExpertLoad load)
    {
        var now = load.ExpertTokens;
        var delta = marks.TryGetValue(load.Layer, out var mark) && mark.Length == now.Length
            ? now.Select((c, e) => c - mark[e]).ToArray()
            : (long[])now.Clone();
        marks[load.Layer] = now;
        return delta;
    }
}
