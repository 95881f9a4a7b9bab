using System.Globalization;
using System.Text.RegularExpressions;

namespace MoeDapr.Sidecar.Resources;

/// <summary>Parses the duration forms Dapr accepts: Go durations ("1h2m3s", "500ms") and ISO 8601 ("PT1S", "R3/PT2S").</summary>
public static partial class DurationParser
{
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        if (text.StartsWith('P') || text.StartsWith('p'))
        {
            return TryParseIso(text, out value);
        }

        var matches = GoPart().Matches(text);
        if (matches.Count == 0 || string.Concat(matches.Select(m => m.Value)) != text)
        {
            return false;
        }

        double ticks = 0;
        foreach (Match match in matches)
        {
            var amount = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            ticks += match.Groups[2].Value switch
            {
                "h" => amount * TimeSpan.TicksPerHour,
                "m" => amount * TimeSpan.TicksPerMinute,
                "s" => amount * TimeSpan.TicksPerSecond,
                "ms" => amount * TimeSpan.TicksPerMillisecond,
                "us" or "µs" => amount * 10,
                "ns" => amount / 100,
                _ => double.NaN,
            };
        }

        if (double.IsNaN(ticks) || ticks > TimeSpan.MaxValue.Ticks)
        {
            return false;
        }

        value = TimeSpan.FromTicks((long)ticks);
        return true;
    }

    /// <summary>Parses a reminder/timer period: a duration, optionally "R{n}/" prefixed (n repetitions).</summary>
    public static bool TryParsePeriod(string? text, out TimeSpan period, out int? repetitions)
    {
        period = TimeSpan.Zero;
        repetitions = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        if (text.StartsWith('R'))
        {
            var slash = text.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0)
            {
                return false;
            }

            if (slash > 1)
            {
                if (!int.TryParse(text.AsSpan(1, slash - 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n < 0)
                {
                    return false;
                }

                repetitions = n;
            }

            text = text[(slash + 1)..];
        }

        return TryParse(text, out period);
    }

    private static bool TryParseIso(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        var match = IsoDuration().Match(text.ToUpperInvariant());
        if (!match.Success)
        {
            return false;
        }

        static double Part(Group group) => group.Success ? double.Parse(group.Value, CultureInfo.InvariantCulture) : 0;
        var ticks = (Part(match.Groups["d"]) * TimeSpan.TicksPerDay)
            + (Part(match.Groups["h"]) * TimeSpan.TicksPerHour)
            + (Part(match.Groups["m"]) * TimeSpan.TicksPerMinute)
            + (Part(match.Groups["s"]) * TimeSpan.TicksPerSecond);
        value = TimeSpan.FromTicks((long)ticks);
        return true;
    }

    [GeneratedRegex(@"([0-9]+(?:\.[0-9]+)?)(h|ms|m|s|us|µs|ns)")]
    private static partial Regex GoPart();

    [GeneratedRegex(@"^P(?:(?<d>[0-9.]+)D)?(?:T(?:(?<h>[0-9.]+)H)?(?:(?<m>[0-9.]+)M)?(?:(?<s>[0-9.]+)S)?)?$")]
    private static partial Regex IsoDuration();
}
