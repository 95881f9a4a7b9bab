namespace MoeDapr.Engine.Scheduling;

/// <summary>Tokens computed per second over the last few seconds of steps.</summary>
internal sealed class ThroughputWindow(TimeProvider time)
{
    private static readonly TimeSpan Span = TimeSpan.FromSeconds(5);
    private readonly Queue<(long Ticks, long Tokens)> _steps = new();

    public void Record(long tokens)
    {
        var now = time.GetTimestamp();
        _steps.Enqueue((now, tokens));
        while (_steps.Count > 0 && time.GetElapsedTime(_steps.Peek().Ticks, now) > Span)
        {
            _steps.Dequeue();
        }
    }

    public double PerSecond()
    {
        if (_steps.Count < 2)
        {
            return 0;
        }

        // The oldest step only marks when the window starts: its tokens were computed before it.
        var seconds = time.GetElapsedTime(_steps.Peek().Ticks, time.GetTimestamp()).TotalSeconds;
        return seconds <= 0 ? 0 : _steps.Skip(1).Sum(x => x.Tokens) / seconds;
    }
}
