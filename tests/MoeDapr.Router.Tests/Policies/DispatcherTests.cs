using Microsoft.Extensions.Logging.Abstractions;
using MoeDapr.Contracts;
using MoeDapr.Model;
using MoeDapr.Router.Diagnostics;
using MoeDapr.Router.Options;
using MoeDapr.Router.Policies;
using MoeDapr.Router.Scheduling;
using MoeDapr.Router.Tests.Infrastructure;
using MoeDapr.Router.Workers;
using Prometheus;
using static Microsoft.Extensions.Options.Options;

namespace MoeDapr.Router.Tests.Policies;

/// <summary>The dispatch loop driven step by step in virtual time.</summary>
public sealed class DispatcherTests
{
    private readonly ManualTimeProvider _time = new();
    private readonly FakeWorkers _workers = new();
    private readonly WorkerRegistry _registry;
    private readonly Dispatcher _dispatcher;

    public DispatcherTests()
        : this(batchSize: 4, degraded: false)
    {
    }

    private DispatcherTests(int batchSize, bool degraded)
    {
        var workerOptions = Create(new WorkerOptions { LocalPrefillMaxTokens = 8 });
        var batching = Create(new BatchingOptions { Policy = "fixed", InitialBatchSize = batchSize, MaxBatchSize = 64, MaxBatchTokens = 100_000, MaxInFlightBatchesPerWorker = 1 });
        var random = new RouterRandom(new Random(11));
        _registry = new WorkerRegistry(_time, workerOptions);
        _dispatcher = new Dispatcher(
            new PriorityAdmissionPolicy(Create(new AdmissionOptions())), new FixedBatchSizePolicy(batching),
            new PrefixAwarePrefillPolicy(random, workerOptions), new PowerOfTwoDecodePolicy(random),
            _registry, _workers, new ServingPathPlanner(workerOptions), new DegradedMode(new StaticMonitor<DegradedOptions>(new DegradedOptions { Enabled = degraded })),
            new RouterMetrics(new CollectorRegistry()), _time, batching, workerOptions, NullLogger<Dispatcher>.Instance);
    }

    private void Announce(string appId, WorkerRole role, int maxRunning = 16) => _registry.Apply(new WorkerLoadSnapshot
    {
        AppId = appId, Role = role, InstanceId = appId, Sequence = _time.GetTimestamp(), TimestampUnixMs = 0, MaxRunningSequences = maxRunning,
    });

    private GenerationJob Submit(int promptTokens)
    {
        var prompt = Enumerable.Range(3, promptTokens).ToArray();
        var job = new GenerationJob(Guid.NewGuid().ToString("N"), prompt, new SamplingParams(), RequestPriority.Normal, PrefixBlockHash.Chain(prompt, 16), _time.GetTimestamp());
        Assert.True(_dispatcher.Submit(job).Admitted);
        return job;
    }

    [Fact]
    public void DispatchReady_NoDecodeWorker_EverythingKeepsWaiting()
    {
        var jobs = Enumerable.Range(0, 3).Select(_ => Submit(4)).ToArray();

        _dispatcher.DispatchReady();

        Assert.All(jobs, j => Assert.False(j.Outcome.IsCompleted));
        Assert.Equal(3, _dispatcher.Waiting);
    }

    [Fact]
    public void DispatchReady_BurstOfShortPrompts_SpreadsOverDecodeWorkersAndStopsAtTheirSlots()
    {
        Announce("d1", WorkerRole.Decode, maxRunning: 2);
        Announce("d2", WorkerRole.Decode, maxRunning: 2);
        var jobs = Enumerable.Range(0, 6).Select(_ => Submit(4)).ToArray();

        _dispatcher.DispatchReady();

        var routed = jobs.Where(j => j.Outcome.IsCompleted).Select(j => j.Outcome.Result).ToList();
        Assert.Equal(4, routed.Count); // two slots each; the rest wait for capacity
        Assert.All(routed, r => Assert.Equal(ServingPaths.Aggregated, r.Path)); // no prefill worker at all
        Assert.Equal(2, routed.Count(r => r.DecodeAppId == "d1"));
        Assert.Equal(2, _dispatcher.Waiting);

        _registry.Completed("d1", 4, failed: false); // one sequence finished
        _dispatcher.DispatchReady();
        Assert.Equal(1, _dispatcher.Waiting);
    }

    [Fact]
    public async Task DispatchReady_LongPrompts_FormBatchesOfTheConfiguredSize()
    {
        Announce("p1", WorkerRole.Prefill);
        Announce("d1", WorkerRole.Decode);
        _registry.ReportKvTransferProbe(true);
        var jobs = Enumerable.Range(0, 6).Select(_ => Submit(100)).ToArray();

        _dispatcher.DispatchReady(); // one batch in flight per worker: the first 4
        await Eventually.TrueAsync(() => jobs.Take(4).All(j => j.Outcome.IsCompleted), "the first batch to finish");
        _dispatcher.DispatchReady();
        await Eventually.TrueAsync(() => jobs.All(j => j.Outcome.IsCompleted), "the second batch to finish");

        Assert.Equal([4, 2], _workers.PrefillCalls.Select(c => c.Request.Sequences.Count));
        Assert.All(jobs, j => Assert.Equal(ServingPaths.Disaggregated, j.Outcome.Result.Path));
    }

    [Fact]
    public void DispatchReady_BatchLargerThanDecodeCapacity_RestWaitsInsteadOfFailing()
    {
        Announce("p1", WorkerRole.Prefill);
        Announce("d1", WorkerRole.Decode, maxRunning: 3);
        _registry.ReportKvTransferProbe(true);
        var jobs = Enumerable.Range(0, 4).Select(_ => Submit(100)).ToArray();

        _dispatcher.DispatchReady();

        Assert.Equal(3, Assert.Single(_workers.PrefillCalls).Request.Sequences.Count);
        Assert.Equal(1, _dispatcher.Waiting);
        Assert.False(jobs[3].Outcome.IsCompleted);
    }

    [Fact]
    public void DispatchReady_DegradedMode_CapsTheBatchAndTakesShortPromptsFirst()
    {
        var test = new DispatcherTests(batchSize: 32, degraded: true);
        test.Announce("p1", WorkerRole.Prefill);
        test.Announce("d1", WorkerRole.Decode, maxRunning: 64);
        test._registry.ReportKvTransferProbe(true);
        var longJobs = Enumerable.Range(0, 20).Select(_ => test.Submit(300)).ToArray();
        var shortJob = test.Submit(40);

        test._dispatcher.DispatchReady();

        // The fake prefill answers at once, so both batches go in this one step.
        var batches = test._workers.PrefillCalls.Select(c => c.Request.Sequences).ToArray();
        Assert.Equal([16, 5], batches.Select(b => b.Count));
        Assert.Equal(shortJob.RequestId, batches[0][0].RequestId);
    }

    private sealed class StaticMonitor<T>(T value) : Microsoft.Extensions.Options.IOptionsMonitor<T>
    {
        public T CurrentValue => value;

        public T Get(string? name) => value;

        public IDisposable? OnChange(Action<T, string?> listener) => null;
    }
}
