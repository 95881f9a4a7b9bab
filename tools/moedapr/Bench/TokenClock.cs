using System.Diagnostics;

namespace MoeDapr.Cli.Bench;

/// <summary>When one request's tokens arrived (seconds since it was sent): the first, the second, and the count.</summary>
internal sealed class TokenClock
{
    private readonly long _start = Stopwatch.GetTimestamp();

    public int Count { get; private set; }

    public double First { get; private set; }

    public double Second { get; private set; }

    public void Token()
    {
        var now = Stopwatch.GetElapsedTime(_start).TotalSeconds;
        if (Count == 0)
        {
            First = now;
        }
        else if (Count == 1)
        {
            Second = now;
        }

        Count++;
    }

    /// <summary>
    /// TTFT and TPOT (from the first token to the last); adds the steady inter-token time (after the second token)
    /// to <paramref name="steady"/> when given and there were more than two tokens.
    /// </summary>
    public (double Ttft, double Tpot) Finish(PathTimings? steady)
    {
        var total = Stopwatch.GetElapsedTime(_start).TotalSeconds;
        if (steady is not null && Count > 2)
        {
            steady.AddSteady((total - Second) / (Count - 2));
        }

        return (First, (total - First) / (Count - 1));
    }
}
