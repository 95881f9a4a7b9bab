using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace MoeDapr.Cli.Loadtest;

/// <summary>The live progress display of a run and its closing summary.</summary>
public static class LoadtestConsole
{
    private static readonly TimeSpan LiveRefresh = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan PlainRefresh = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Awaits <paramref name="run"/> while showing the runner's tallies: a live table on the terminal, or, given
    /// <paramref name="plainOutput"/> (output redirected), a plain line there every two seconds.
    /// </summary>
    public static async Task<LoadtestResult> ShowProgressAsync(
        IAnsiConsole console, TextWriter? plainOutput, LoadtestRunner runner, LoadtestSettings settings, TimeProvider time, Task<LoadtestResult> run)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(run);
        var start = time.GetTimestamp();
        if (plainOutput is null)
        {
            await console.Live(Progress(runner.Counters, settings, TimeSpan.Zero)).StartAsync(async live =>
            {
                while (!run.IsCompleted)
                {
                    await Task.WhenAny(run, Task.Delay(LiveRefresh, time));
                    live.UpdateTarget(Progress(runner.Counters, settings, time.GetElapsedTime(start)));
                }
            });
        }
        else
        {
            while (!run.IsCompleted)
            {
                await Task.WhenAny(run, Task.Delay(PlainRefresh, time));
                await plainOutput.WriteLineAsync(ProgressLine(runner.Counters, settings, time.GetElapsedTime(start)));
            }
        }

        return await run;
    }

    /// <summary>One line of tallies, as the redirected display prints it.</summary>
    public static string ProgressLine(LoadtestCounters counters, LoadtestSettings settings, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(counters);
        ArgumentNullException.ThrowIfNull(settings);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"[{elapsed.TotalSeconds,6:F1}s/{settings.DurationSeconds:0.#}s] arrivals {counters.Arrivals}/{counters.Scheduled} " +
            $"in-flight {counters.InFlight} ok {counters.Ok} 429 {counters.Rejected} 503 {counters.TimedOut} " +
            $"failed {counters.Failed} dropped {counters.Dropped} tokens {counters.OutputTokens}");
    }

    /// <summary>Writes the closing summary table.</summary>
    public static void WriteSummary(IAnsiConsole console, LoadtestReport report)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(report);
        var counts = report.Counts;
        var table = new Table().Border(TableBorder.Rounded).Title("moedapr loadtest")
            .AddColumn("figure").AddColumn(new TableColumn("value").RightAligned());
        table.AddRow("elapsed", F($"{report.ElapsedSeconds:F2} s{(report.Cancelled ? " (cancelled)" : string.Empty)}"));
        table.AddRow("arrivals (offered QPS)", F($"{counts.Arrivals} ({report.Throughput.OfferedQps:F2}/s)"));
        table.AddRow("sent", F($"{counts.Sent}"));
        table.AddRow("ok", F($"{counts.Ok}"));
        table.AddRow("rejected (429)", F($"{counts.Rejected}"));
        table.AddRow("timed out (503)", F($"{counts.TimedOut}"));
        table.AddRow("failed", F($"{counts.Failed}{FailureDetail(counts)}"));
        table.AddRow("dropped by --concurrency", F($"{counts.Dropped}"));
        table.AddRow("request throughput", F($"{report.Throughput.RequestsPerSecond:F2} req/s"));
        table.AddRow("output token throughput", F($"{report.Throughput.OutputTokensPerSecond:F1} tok/s ({report.Throughput.OutputTokens} tokens)"));
        var slo = report.Goodput.SloTtftMs is null && report.Goodput.SloTpotMs is null
            ? "no SLO given"
            : F($"TTFT ≤ {Slo(report.Goodput.SloTtftMs)}, TPOT ≤ {Slo(report.Goodput.SloTpotMs)}");
        table.AddRow("goodput", F($"{report.Goodput.RequestsPerSecond:F2} req/s, {report.Goodput.FractionOfArrivals:P1} of arrivals ({slo})"));
        console.Write(table);

        var latency = new Table().Border(TableBorder.Rounded).Title("latency (ms)").AddColumn("metric");
        foreach (var column in new[] { "count", "mean", "p50", "p90", "p99", "max" })
        {
            latency.AddColumn(new TableColumn(column).RightAligned());
        }

        AddLatency(latency, "TTFT", report.LatencyMs.Ttft);
        AddLatency(latency, "TPOT", report.LatencyMs.Tpot);
        AddLatency(latency, "ITL", report.LatencyMs.Itl);
        AddLatency(latency, "e2e", report.LatencyMs.E2e);
        AddLatency(latency, "429 answer", report.LatencyMs.Rejection);
        AddLatency(latency, "send lag", report.LatencyMs.ScheduleLag);
        console.Write(latency);
    }

    private static IRenderable Progress(LoadtestCounters counters, LoadtestSettings settings, TimeSpan elapsed)
    {
        var fraction = Math.Clamp(elapsed.TotalSeconds / settings.DurationSeconds, 0, 1);
        var bar = new BarChart().Width(60).Label(F($"{elapsed.TotalSeconds:F1} s of {settings.DurationSeconds:0.#} s"))
            .AddItem("elapsed", Math.Round(fraction * 100, 1), Color.Green).WithMaxValue(100);
        var grid = new Grid().AddColumn().AddColumn(new GridColumn().RightAligned());
        grid.AddRow("arrivals", F($"{counters.Arrivals} / {counters.Scheduled}"));
        grid.AddRow("in flight", F($"{counters.InFlight}"));
        grid.AddRow("ok", F($"{counters.Ok}"));
        grid.AddRow("rejected (429)", F($"{counters.Rejected}"));
        grid.AddRow("timed out (503)", F($"{counters.TimedOut}"));
        grid.AddRow("failed", F($"{counters.Failed}"));
        grid.AddRow("dropped", F($"{counters.Dropped}"));
        grid.AddRow("output tokens", F($"{counters.OutputTokens}"));
        return new Rows(bar, grid);
    }

    private static void AddLatency(Table table, string name, LatencySummary? summary)
    {
        if (summary is null)
        {
            table.AddRow(name, "0", "-", "-", "-", "-", "-");
            return;
        }

        table.AddRow(name, F($"{summary.Count}"), F($"{summary.Mean:F1}"), F($"{summary.P50:F1}"), F($"{summary.P90:F1}"), F($"{summary.P99:F1}"), F($"{summary.Max:F1}"));
    }

    private static string FailureDetail(ReportCounts counts) =>
        counts.FailureReasons.Count == 0 ? string.Empty : " (" + string.Join(", ", counts.FailureReasons.Select(r => F($"{r.Key}: {r.Value}"))) + ")";

    private static string Slo(double? ms) => ms is { } value ? F($"{value:0.##} ms") : "-";

    // Spectre reads [..] as markup; figures never contain brackets, but failure reasons come from the server.
    private static string F(FormattableString text) => Markup.Escape(text.ToString(CultureInfo.InvariantCulture));
}
