namespace MoeDapr.Cli.Loadtest;

/// <summary>
/// Offers open-loop Poisson load: each request is sent at its scheduled time whether or not earlier ones have
/// answered (a late loop catches up at once), so a slow server meets the offered rate, not a politely reduced one.
/// </summary>
public sealed class LoadtestRunner
{
    // Past the last request's own deadline, how long to wait for stragglers before reporting them as failed.
    private static readonly TimeSpan DrainGrace = TimeSpan.FromSeconds(10);

    private readonly LoadtestSettings _settings;
    private readonly ICompletionClient _client;
    private readonly TimeProvider _time;

    public LoadtestRunner(LoadtestSettings settings, ICompletionClient client, TimeProvider time)
    {
        _settings = settings;
        _client = client;
        _time = time;
    }

    /// <summary>Live tallies for a progress display.</summary>
    public LoadtestCounters Counters { get; } = new();

    /// <summary>Runs the whole schedule and waits for every request to end; cancelling stops arrivals and in-flight requests.</summary>
    public async Task<LoadtestResult> RunAsync(CancellationToken cancellationToken)
    {
        // Separate streams, so prompt lengths do not shift arrival times when the length range changes.
        var arrivals = ArrivalSchedule.Poisson(_settings.TargetQps, _settings.Duration, new Random(_settings.Seed));
        var prompts = new PromptFactory(
            new Random(_settings.Seed + 1), _settings.PromptLengthMin, _settings.PromptLengthMax, _settings.SharedPrefixLength, _settings.SharedPrefixes);
        Counters.Scheduled = arrivals.Count;

        var cap = _settings.Concurrency ?? int.MaxValue;
        var pending = new List<(int Index, double ScheduledMs, double SentMs, int Words, Task<CompletionResult> Task)>(arrivals.Count);
        var dropped = new List<RequestRecord>();
        var startedAt = _time.GetUtcNow();
        var start = _time.GetTimestamp();
        var cancelled = false;
        for (var index = 0; index < arrivals.Count; index++)
        {
            var wait = arrivals[index] - _time.GetElapsedTime(start);
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, _time, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    cancelled = true;
                    break;
                }
            }

            var (prompt, words) = prompts.Next();
            var scheduledMs = arrivals[index].TotalMilliseconds;
            var sentMs = _time.GetElapsedTime(start).TotalMilliseconds;
            Counters.Arrived();
            if (Counters.InFlight >= cap)
            {
                Counters.Dropping();
                dropped.Add(new RequestRecord(index, scheduledMs, sentMs, words, new CompletionResult { Outcome = RequestOutcome.Dropped }));
                continue;
            }

            Counters.Sending();
            pending.Add((index, scheduledMs, sentMs, words, SendAsync(prompt, cancellationToken)));
        }

        var all = Task.WhenAll(pending.Select(p => p.Task));
        try
        {
            await all.WaitAsync(_settings.RequestTimeout + DrainGrace, _time, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            // Reported below as failed requests; the client's own deadline should have ended them already.
        }

        var elapsed = _time.GetElapsedTime(start);
        var records = new List<RequestRecord>(pending.Count + dropped.Count);
        foreach (var (index, scheduledMs, sentMs, words, task) in pending)
        {
            var result = task.IsCompletedSuccessfully
                ? task.Result
                : new CompletionResult { Outcome = RequestOutcome.Failed, Error = "no answer by the end of the run", E2eMs = elapsed.TotalMilliseconds - sentMs };
            records.Add(new RequestRecord(index, scheduledMs, sentMs, words, result));
        }

        records.AddRange(dropped);
        records.Sort((a, b) => a.Index.CompareTo(b.Index));
        return new LoadtestResult(records, elapsed, startedAt, cancelled || cancellationToken.IsCancellationRequested);
    }

    private async Task<CompletionResult> SendAsync(string prompt, CancellationToken cancellationToken)
    {
        CompletionResult result;
        try
        {
            result = await _client.SendAsync(prompt, cancellationToken);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The client reports failures as results; anything else still ends this request, not the run.
            result = new CompletionResult { Outcome = RequestOutcome.Failed, Error = $"client error: {e.GetType().Name}" };
        }

        Counters.Finished(result);
        return result;
    }
}
