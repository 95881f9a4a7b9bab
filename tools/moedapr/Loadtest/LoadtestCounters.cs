namespace MoeDapr.Cli.Loadtest;

/// <summary>Live tallies of a running load test, safe to read from the progress display while requests finish.</summary>
public sealed class LoadtestCounters
{
    private long _arrivals;
    private long _sent;
    private long _inFlight;
    private long _ok;
    private long _rejected;
    private long _timedOut;
    private long _failed;
    private long _dropped;
    private long _outputTokens;

    /// <summary>Requests the schedule holds for the whole run.</summary>
    public long Scheduled { get; internal set; }

    public long Arrivals => Interlocked.Read(ref _arrivals);

    public long Sent => Interlocked.Read(ref _sent);

    public long InFlight => Interlocked.Read(ref _inFlight);

    public long Ok => Interlocked.Read(ref _ok);

    public long Rejected => Interlocked.Read(ref _rejected);

    public long TimedOut => Interlocked.Read(ref _timedOut);

    public long Failed => Interlocked.Read(ref _failed);

    public long Dropped => Interlocked.Read(ref _dropped);

    public long OutputTokens => Interlocked.Read(ref _outputTokens);

    internal void Arrived() => Interlocked.Increment(ref _arrivals);

    internal void Dropping() => Interlocked.Increment(ref _dropped);

    internal void Sending()
    {
        Interlocked.Increment(ref _sent);
        Interlocked.Increment(ref _inFlight);
    }

    internal void Finished(CompletionResult result)
    {
        Interlocked.Decrement(ref _inFlight);
        switch (result.Outcome)
        {
            case RequestOutcome.Ok:
                Interlocked.Increment(ref _ok);
                Interlocked.Add(ref _outputTokens, result.OutputTokens);
                break;
            case RequestOutcome.Rejected:
                Interlocked.Increment(ref _rejected);
                break;
            case RequestOutcome.TimedOut:
                Interlocked.Increment(ref _timedOut);
                break;
            default:
                Interlocked.Increment(ref _failed);
                break;
        }
    }
}
