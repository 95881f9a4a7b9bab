using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MoeDapr.Contracts.Eplb;
using MoeDapr.WorkerHosting;
using MoeDapr.Decode;
using MoeDapr.Decode.Eplb;
using MoeDapr.Engine;
using Prometheus;

namespace MoeDapr.Eplb.Tests.Infrastructure;

/// <summary>A <see cref="PlanApplier"/> for an engine the test owns (no sidecar: plans are handed to it directly).</summary>
public static class Applier
{
    public const string Model = "tiny-skewed";

    public static PlanApplier Create(EplbMetrics metrics, ILogger<PlanApplier>? logger = null, int layersPerChunk = 1)
    {
        var decode = Options.Create(new DecodeOptions { ModelName = Model, ModelPath = "unused" });
        var configuration = new ConfigurationBuilder().Build();
        var host = new EngineHost(new ModelLocation(decode.Value.ModelPath), new EngineOptions(), new NoLifetime(), NullLogger<EngineHost>.Instance);
        return new PlanApplier(
            host, new CoordinatorClient(configuration), metrics, Options.Create(new EplbOptions { Enabled = true, LayersPerChunk = layersPerChunk }), decode,
            logger ?? NullLogger<PlanApplier>.Instance);
    }

    public static EplbMetrics Metrics() => new(Prometheus.Metrics.NewCustomRegistry());

    /// <summary>The plan the coordinator would make from everything <paramref name="engine"/> routed so far.</summary>
    public static (ExpertPlacementPlan Plan, Proposal Proposal) PlanFromCounters(InferenceEngine engine, long version = 1)
    {
        var loads = engine.ExpertLoads;
        var tokens = loads.Select(l => l.ExpertTokens.Select(c => (double)c).ToArray()).ToArray();
        var ranks = engine.Options.ExpertParallelSize;
        var slots = loads[0].Phy2Log.Length;
        var proposal = PlanMaker.Propose(
            tokens, loads.Select(l => l.Phy2Log).ToArray(), new Engine.Eplb.EplbTopology(slots, 1, 1, ranks), new Engine.Eplb.DeepSeekEplbPolicy());
        var plan = new ExpertPlacementPlan
        {
            Model = Model,
            Version = version,
            CreatedUnixMs = 0,
            Algorithm = "deepseek",
            Ranks = ranks,
            Slots = slots,
            Experts = engine.Config.NumExperts,
            Layers = loads.Select(l => l.Layer).ToArray(),
            Phy2Log = proposal.Phy2Log,
            BalancednessBefore = proposal.Before,
            BalancednessAfter = proposal.After,
            LoadShares = PlanMaker.Shares(tokens),
        };
        return (plan, proposal);
    }

    private sealed class NoLifetime : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication()
        {
        }
    }
}

/// <summary>Keeps formatted log lines for assertions.</summary>
public sealed class ListLogger<T> : ILogger<T>
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        lock (_lines)
        {
            _lines.Add($"{logLevel}: {formatter(state, exception)}");
        }
    }
}
