using MoeDapr.Sidecar.Resources;

namespace MoeDapr.Sidecar.Actors;

/// <summary>A timer's or reminder's dueTime and period as daprd reads them: Go or ISO 8601 durations, "R5/PT1S" repetitions.</summary>
public readonly record struct ActorSchedule(TimeSpan Due, TimeSpan Period, int? Repetitions)
{
    /// <summary>True when it fires once (no period).</summary>
    public bool IsOneShot => Period == Timeout.InfiniteTimeSpan;

    /// <summary>Reads body.dueTime and body.period; <paramref name="what"/> ("timer", "reminder") names it in the 400 error.</summary>
    public static ActorSchedule Parse(System.Text.Json.Nodes.JsonObject body, string what)
    {
        var dueText = body["dueTime"]?.GetValue<string>();
        var due = TimeSpan.Zero;
        if (!string.IsNullOrEmpty(dueText) && !DurationParser.TryParse(dueText, out due))
        {
            throw new ActorException(400, "ERR_MALFORMED_REQUEST", $"error parsing {what} due time: '{dueText}' is not a duration");
        }

        var periodText = body["period"]?.GetValue<string>();
        var period = Timeout.InfiniteTimeSpan;
        int? repetitions = null;
        if (!string.IsNullOrEmpty(periodText))
        {
            if (!DurationParser.TryParsePeriod(periodText, out period, out repetitions))
            {
                throw new ActorException(400, "ERR_MALFORMED_REQUEST", $"error parsing {what} period: '{periodText}' is not a duration");
            }

            if (period <= TimeSpan.Zero)
            {
                period = Timeout.InfiniteTimeSpan;
            }
        }

        return new ActorSchedule(due, period, repetitions);
    }
}
