using Microsoft.Extensions.Logging.Abstractions;
using MoeDapr.Model;
using MoeDapr.Router.Diagnostics;
using MoeDapr.Router.Options;
using MoeDapr.Router.Policies;
using MoeDapr.Router.Scheduling;
using MoeDapr.Router.Workers;
using Prometheus;
using static Microsoft.Extensions.Options.Options;

namespace MoeDapr.Router.Tests.Scheduling;

/// <summary>The dispatch loop driven step by step in virtual time.</summary>
public sealed class DispatcherTests
{
    private readonly ManualTimeProvider _time = new();
    private readonly FakeWorkers _workers = new();
    private readonly WorkerRegistry _registry;
    private readonly ServiceRateMeter _service;
    private readonly AdmissionGate _gate;
    private readonly Dispatcher _dispatcher;

    public DispatcherTests()
        : this(batchSize: 4, degraded: false)
    {
    }

    private DispatcherTests(int batchSize, bool degraded, AdmissionOptions? admission = null, bool adaptive = false)
    {
        admission ??= new AdmissionOptions { TargetQueueDelay = TimeSpan.Zero, DispatchDeadline = TimeSpan.Zero };
        var workerOptions = Create(new WorkerOptions { LocalPrefillMaxTokens = 8 });
        var batching = Create(new BatchingOptions { Policy = "fixed", InitialBatchSize = batchSize, MinBatchSize = 1, MaxBatchSize = 64, MaxBatchTokens = 100_000, MaxInFlightBatchesPerWorker = 1 });
        var random = new RouterRandom(new Random(11));
        var metrics = new RouterMetrics(new CollectorRegistry());
        var prefillChoice = new PrefixAwarePrefillPolicy(random, workerOptions);
        var degradedMode = new DegradedMode(new StaticOptionsMonitor<DegradedOptions>(new DegradedOptions { Enabled = degraded }));
        _registry = new WorkerRegistry(_time, workerOptions);
        _service = new ServiceRateMeter(_time);
        _gate = new AdmissionGate(
            new PriorityAdmissionPolicy(Create(admission)), new DrainRateMeter(_time), _service, metrics, _time, Create(admission), NullLogger<AdmissionGate>.Instance);
        var planner = new BatchPlanner(
            adaptive ? new AdaptiveBatchSizePolicy(batching, _time) : new FixedBatchSizePolicy(batching),
            prefillChoice, new PowerOfTwoDecodePolicy(random), new ServingPathPlanner(workerOptions), degradedMode, batching, workerOptions);
        var prefill = new PrefillExecutor(_workers, _registry, prefillChoice, metrics, _time, workerOptions, NullLogger<PrefillExecutor>.Instance);
        _dispatcher = new Dispatcher(_gate, planner, _registry, prefill, degradedMode, metrics, _time, batching, NullLogger<Dispatcher>.Instance);
    }

    private void Announce(string appId, WorkerRole role, int maxRunning = 16, IReadOnlyList<string>? cachedHashes = null) => _registry.Apply(new WorkerLoadSnapshot
    {
        AppId = appId, Role = role, InstanceId = appId, Sequence = _time.GetTimestamp(), TimestampUnixMs = 0, MaxRunningSequences = maxRunning,
        CachedBlockHashes = cachedHashes,
    });

    [Fact]
    public void DispatchReady_BatchMixingTwoPrefixes_EachRequestGoesToTheWorkerHoldingItsPrefix()
    {
        var test = new DispatcherTests(batchSize: 8, degraded: false);
        int[] Prompt(int prefix, int i) => [.. Enumerable.Range(100 * prefix, 96), 7, 8, 9, i];
        string[] Hashes(int prefix) => [.. PrefixBlockHash.Chain(Prompt(prefix, 0).AsSpan(0, 96), 16).Select(PrefixBlockHash.ToHex)];
        test.Announce("p1", WorkerRole.Prefill, cachedHashes: Hashes(1));
        test.Announce("p2", WorkerRole.Prefill, cachedHashes: Hashes(2));
        test.Announce("d1", WorkerRole.Decode, maxRunning: 64);
        test._registry.ReportKvTransferProbe(true);
        var jobs = Enumerable.Range(0, 8).Select(i =>
        {
            var prompt = Prompt(1 + (i % 2), i);
            var job = new GenerationJob($"r{i}", prompt, new SamplingParams(), RequestPriority.Normal, PrefixBlockHash.Chain(prompt, 16), test._time.GetTimestamp());
            Assert.True(test._gate.Submit(job).Admitted);
            return job;
        }).ToArray();

        test._dispatcher.DispatchReady();

        var calls = test._workers.PrefillCalls.ToDictionary(c => c.AppId, c => c.Request.Sequences.Select(q => q.RequestId).ToArray());
        Assert.Equal(["r0", "r2", "r4", "r6"], calls["p1"]);
        Assert.Equal(["r1", "r3", "r5", "r7"], calls["p2"]);
    }

    private GenerationJob Submit(int promptTokens)
    {
        var job = NewJob(promptTokens);
        Assert.True(_gate.Submit(job).Admitted);
        return job;
    }

    private GenerationJob NewJob(int promptTokens)
    {
        var prompt = Enumerable.Range(3, promptTokens).ToArray();
        return new GenerationJob(Guid.NewGuid().ToString("N"), prompt, new SamplingParams(), RequestPriority.Normal, PrefixBlockHash.Chain(prompt, 16), _time.GetTimestamp());
    }

    [Fact]
    public void DispatchReady_AdaptiveBatchingWhileAdmissionRefuses_RefusalsDoNotGrowTheBatch()
    {
        var test = new DispatcherTests(8, false, new AdmissionOptions { MaxQueuedRequests = 8, TargetQueueDelay = TimeSpan.Zero, DispatchDeadline = TimeSpan.Zero }, adaptive: true);
        test.Announce("p1", WorkerRole.Prefill);
        test.Announce("d1", WorkerRole.Decode, maxRunning: 64);
        test._registry.ReportKvTransferProbe(true);
        Enumerable.Range(0, 8).Select(_ => test.Submit(100)).ToArray();
        for (var i = 0; i < 500; i++)
        {
            Assert.False(test._gate.Submit(test.NewJob(100)).Admitted);
        }

        test._dispatcher.DispatchReady();

        // Eight waiting, an idle worker: the adaptive rule halves the batch, however many were refused.
        Assert.Equal(4, test._workers.PrefillCalls.First().Request.Sequences.Count);
    }

    [Fact]
    public void DispatchReady_RequestsPastTheirDispatchDeadline_ShedBeforeAnyWorkerSeesThem()
    {
        var test = new DispatcherTests(4, false, new AdmissionOptions { TargetQueueDelay = TimeSpan.Zero, DispatchDeadline = TimeSpan.FromSeconds(1) });
        var old = Enumerable.Range(0, 2).Select(_ => test.Submit(100)).ToArray();
        test._time.Advance(TimeSpan.FromMilliseconds(600));
        var young = test.Submit(100);
        test._time.Advance(TimeSpan.FromMilliseconds(500));

        test._dispatcher.DispatchReady(); // no worker yet: only the deadline can end a wait here

        Assert.All(old, j => Assert.True(j.Outcome.IsCompleted && j.Outcome.Result.Expired));
        Assert.False(young.Outcome.IsCompleted);
        Assert.Equal(1, test._gate.Waiting);

        test.Announce("p1", WorkerRole.Prefill);
        test.Announce("d1", WorkerRole.Decode);
        test._registry.ReportKvTransferProbe(true);
        test._dispatcher.DispatchReady();

        var call = Assert.Single(test._workers.PrefillCalls);
        Assert.Equal(young.RequestId, Assert.Single(call.Request.Sequences).RequestId);
    }

    [Fact]
    public async Task Submit_BackloggedQueueWouldWaitPastTarget_RefusedAtOnceAndBeforeTokenizing()
    {
        var test = new DispatcherTests(4, false, new AdmissionOptions { TargetQueueDelay = TimeSpan.FromMilliseconds(500), DispatchDeadline = TimeSpan.Zero });
        test.Announce("d1", WorkerRole.Decode, maxRunning: 2); // short prompts run on decode: two at a time
        var jobs = Enumerable.Range(0, 10).Select(_ => test.Submit(4)).ToArray(); // rate unknown yet: bounds only
        test._dispatcher.DispatchReady();
        Assert.Equal(8, test._gate.Waiting);
        Assert.Null(test._gate.RefuseEarly(RequestPriority.Normal));

        // Half a second later both finish and two more leave: the backlogged queue drains at 4 per second.
        test._time.Advance(TimeSpan.FromMilliseconds(500));
        test.Announce("d1", WorkerRole.Decode, maxRunning: 2);
        foreach (var finished in jobs.Where(j => j.Outcome.IsCompleted))
        {
            await (await finished.Outcome).Decode!.DisposeAsync();
        }

        test._dispatcher.DispatchReady();
        Assert.Equal(6, test._gate.Waiting);
        Assert.Equal(4.0, test._service.PerSecond()!.Value, 6);

        // (6 ahead + itself) / 4 per s = 1.75 s > 0.5 s.
        var refused = test._gate.Submit(test.NewJob(4));
        Assert.False(refused.Admitted);
        Assert.Equal("queue_delay", refused.Reason);
        Assert.Equal(TimeSpan.FromSeconds(2), refused.RetryAfter);
        Assert.Equal("queue_delay", test._gate.RefuseEarly(RequestPriority.Normal)?.Reason);
        Assert.Null(test._gate.RefuseEarly(RequestPriority.High)); // nobody of its class is ahead
        Assert.Equal(6, test._gate.Waiting);
        Assert.Equal(4, jobs.Count(j => j.Outcome.IsCompleted));
    }

    [Fact]
    public void DispatchReady_NoDecodeWorker_EverythingKeepsWaiting()
    {
        var jobs = Enumerable.Range(0, 3).Select(_ => Submit(4)).ToArray();

        _dispatcher.DispatchReady();

        Assert.All(jobs, j => Assert.False(j.Outcome.IsCompleted));
        Assert.Equal(3, _gate.Waiting);
    }

    [Fact]
    public async Task DispatchReady_BurstOfShortPrompts_SpreadsOverDecodeWorkersAndStopsAtTheirSlots()
    {
        Announce("d1", WorkerRole.Decode, maxRunning: 2);
        Announce("d2", WorkerRole.Decode, maxRunning: 2);
        var jobs = Enumerable.Range(0, 6).Select(_ => Submit(4)).ToArray();

        _dispatcher.DispatchReady();

        var routed = jobs.Where(j => j.Outcome.IsCompleted).Select(j => j.Outcome.Result).ToList();
        Assert.Equal(4, routed.Count); // two slots each; the rest wait for capacity
        Assert.All(routed, r => Assert.Equal(ServingPaths.Aggregated, r.Path)); // no prefill worker at all
        Assert.Equal(2, routed.Count(r => r.DecodeAppId == "d1"));
        Assert.Equal(2, _gate.Waiting);

        await routed.First(r => r.DecodeAppId == "d1").Decode!.DisposeAsync(); // one sequence finished
        _dispatcher.DispatchReady();
        Assert.Equal(1, _gate.Waiting);
    }

    [Fact]
    public async Task DispatchReady_LongPrompts_FormBatchesOfTheConfiguredSize()
    {
        Announce("p1", WorkerRole.Prefill);
        Announce("d1", WorkerRole.Decode);
        _registry.ReportKvTransferProbe(true);
        var jobs = Enumerable.Range(0, 6).Select(_ => Submit(100)).ToArray();

        _dispatcher.DispatchReady(); // one batch in flight per worker: the first 4
        await Poll.UntilAsync(() => jobs.Take(4).All(j => j.Outcome.IsCompleted), "the first batch to finish");
        _dispatcher.DispatchReady();
        await Poll.UntilAsync(() => jobs.All(j => j.Outcome.IsCompleted), "the second batch to finish");

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
        Assert.Equal(1, _gate.Waiting);
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
}
