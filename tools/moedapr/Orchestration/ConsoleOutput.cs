using System.Text.RegularExpressions;

namespace MoeDapr.Cli.Orchestration;

/// <summary>
/// What <c>moedapr up</c> shows of its children: each line labelled with the app that wrote it (the sidecar host prefixes
/// app lines as <c>dapr run -f</c> does, <c>== APP - id == </c>; its own lines are the sidecar's), and, unless verbose, only
/// warnings and the project's own events: the services are told so through their logging configuration, so the noise
/// (a line per HTTP request, health polls, health checks failing while models load) is never written at all.
/// </summary>
public static partial class ConsoleOutput
{
    /// <summary>The label of lines the sidecar host writes itself.</summary>
    public const string SidecarLabel = "sidecar";

    /// <summary>
    /// Log levels for every app when quiet (ASP.NET configuration keys as environment variables). The router logs its
    /// readiness transitions itself, once each, so the health-check service's per-probe lines add nothing.
    /// </summary>
    public static IReadOnlyDictionary<string, string> QuietLogLevels { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["Logging__LogLevel__Default"] = "Warning",
        ["Logging__LogLevel__MoeDapr"] = "Information",
        ["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning",
        ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Warning",
        ["Logging__LogLevel__System.Net.Http.HttpClient"] = "Warning",
        ["Logging__LogLevel__Microsoft.Extensions.Diagnostics.HealthChecks"] = "None",
    };

    /// <summary><c>[app] text</c> for a line of the sidecar host's output.</summary>
    public static string FormatLine(string line)
    {
        var match = AppLine().Match(line);
        return match.Success ? $"[{match.Groups["app"].Value}] {match.Groups["text"].Value}" : $"[{SidecarLabel}] {line}";
    }

    [GeneratedRegex(@"^== APP - (?<app>[^=\s]+) == (?<text>.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex AppLine();
}
