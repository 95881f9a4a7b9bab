using System.Globalization;
using System.Net;
using System.Text;

namespace MoeDapr.Cli.Loadtest;

/// <summary>
/// Draws a report as a standalone SVG: latency of every request over the run (log scale) above the cumulative
/// distributions of TTFT, TPOT, inter-token and end-to-end latency.
/// </summary>
public static class SvgPlot
{
    private const int Width = 960;
    private const int PanelHeight = 300;
    private const int Left = 70;
    private const int Right = 170;
    private const int Top = 60;
    private const int Gap = 80;

    // The scatter keeps at most this many points per series, evenly strided, so large runs stay viewable.
    private const int MaxPointsPerSeries = 5000;

    private static readonly (string Name, string Colour)[] Palette =
    [
        ("e2e (ok)", "#1f77b4"),
        ("TTFT (ok)", "#ff7f0e"),
        ("429 rejected", "#d62728"),
        ("503 timed out", "#9467bd"),
        ("failed", "#555555"),
        ("TPOT", "#2ca02c"),
        ("ITL", "#17becf"),
    ];

    /// <summary>
    /// The SVG document for <paramref name="report"/>; <paramref name="itlMs"/> (inter-token gaps, which the report
    /// only summarises) adds their distribution.
    /// </summary>
    public static string Render(LoadtestReport report, IEnumerable<double>? itlMs = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        var requests = report.Requests;
        var scatter = new List<(string Name, string Colour, List<(double X, double Y)> Points)>
        {
            Series(0, requests.Where(r => r.Outcome == RequestOutcome.Ok).Select(r => (r.SentMs / 1000, r.E2eMs ?? 0))),
            Series(1, requests.Where(r => r.Outcome == RequestOutcome.Ok && r.TtftMs.HasValue).Select(r => (r.SentMs / 1000, r.TtftMs!.Value))),
            Series(2, requests.Where(r => r.Outcome == RequestOutcome.Rejected).Select(r => (r.SentMs / 1000, r.E2eMs ?? 0))),
            Series(3, requests.Where(r => r.Outcome == RequestOutcome.TimedOut).Select(r => (r.SentMs / 1000, r.E2eMs ?? 0))),
            Series(4, requests.Where(r => r.Outcome == RequestOutcome.Failed).Select(r => (r.SentMs / 1000, r.E2eMs ?? 0))),
        };
        var ok = requests.Where(r => r.Outcome == RequestOutcome.Ok).ToList();
        var itl = itlMs?.ToList() ?? [];
        var cdfs = new List<(string Name, string Colour, double[] Values)>
        {
            (Palette[1].Name, Palette[1].Colour, [.. ok.Where(r => r.TtftMs.HasValue).Select(r => r.TtftMs!.Value).Order()]),
            (Palette[5].Name, Palette[5].Colour, [.. ok.Where(r => r.TpotMs.HasValue).Select(r => r.TpotMs!.Value).Order()]),
            (Palette[6].Name, Palette[6].Colour, [.. itl.Order()]),
            (Palette[0].Name, Palette[0].Colour, [.. ok.Select(r => r.E2eMs ?? 0).Order()]),
            (Palette[2].Name, Palette[2].Colour, [.. requests.Where(r => r.Outcome == RequestOutcome.Rejected).Select(r => r.E2eMs ?? 0).Order()]),
        };

        var latencies = scatter.SelectMany(s => s.Points.Select(p => p.Y)).Concat(cdfs.SelectMany(c => c.Values)).Where(v => v > 0).ToList();
        var (logMin, logMax) = latencies.Count == 0
            ? (0.0, 3.0)
            : (Math.Floor(Math.Log10(latencies.Min())), Math.Max(Math.Ceiling(Math.Log10(latencies.Max())), Math.Floor(Math.Log10(latencies.Min())) + 1));
        var seconds = Math.Max(report.Config.DurationSeconds, requests.Count == 0 ? 1 : requests.Max(r => r.SentMs) / 1000);

        var svg = new StringBuilder();
        var height = Top + PanelHeight + Gap + PanelHeight + 50;
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n"));
        svg.Append(Invariant($"<rect width=\"{Width}\" height=\"{height}\" fill=\"white\"/>\n"));
        var title = $"moedapr loadtest: {report.Config.TargetQps:0.##} QPS offered for {report.Config.DurationSeconds:0.##} s, " +
            $"{report.Counts.Ok}/{report.Counts.Arrivals} ok, {report.Counts.Rejected} × 429, {report.Counts.TimedOut} × 503, " +
            $"{report.Counts.Failed} failed, {report.Counts.Dropped} dropped";
        Text(svg, Left, 24, title, "start", bold: true);

        // Panel 1: latency over time.
        var top1 = Top;
        Frame(svg, top1, "latency over time", "request sent at (s)", "latency (ms, log)");
        XTicksLinear(svg, top1, seconds);
        YTicksLog(svg, top1, logMin, logMax);
        foreach (var (name, colour, points) in scatter)
        {
            svg.Append(Invariant($"<g fill=\"{colour}\" fill-opacity=\"0.6\"><title>{Escape(name)}</title>\n"));
            foreach (var (x, y) in points)
            {
                var px = Left + (x / seconds * PlotWidth);
                var py = LogY(top1, y, logMin, logMax);
                svg.Append(Invariant($"<circle cx=\"{px:F1}\" cy=\"{py:F1}\" r=\"1.8\"/>"));
            }

            svg.Append("\n</g>\n");
        }

        Legend(svg, top1, scatter.Select(s => (s.Name, s.Colour, s.Points.Count)));

        // Panel 2: cumulative distributions on a shared log latency axis.
        var top2 = Top + PanelHeight + Gap;
        Frame(svg, top2, "latency distributions (CDF)", "latency (ms, log)", "fraction of requests (ITL: of gaps)");
        for (var decade = logMin; decade <= logMax; decade++)
        {
            var px = LogX(Math.Pow(10, decade), logMin, logMax);
            svg.Append(Invariant($"<line x1=\"{px:F1}\" y1=\"{top2}\" x2=\"{px:F1}\" y2=\"{top2 + PanelHeight}\" stroke=\"#eee\"/>"));
            Text(svg, px, top2 + PanelHeight + 16, FormatMs(Math.Pow(10, decade)), "middle");
        }

        for (var tick = 0; tick <= 4; tick++)
        {
            var py = top2 + PanelHeight - (tick / 4.0 * PanelHeight);
            svg.Append(Invariant($"<line x1=\"{Left}\" y1=\"{py:F1}\" x2=\"{Left + PlotWidth}\" y2=\"{py:F1}\" stroke=\"#eee\"/>"));
            Text(svg, Left - 6, py + 4, Invariant($"{tick * 25}%"), "end");
        }

        foreach (var (name, colour, values) in cdfs.Where(c => c.Values.Length > 0))
        {
            var stride = Math.Max(1, values.Length / 1000);
            var path = new StringBuilder();
            for (var i = 0; i < values.Length; i += stride)
            {
                var px = LogX(Math.Max(values[i], Math.Pow(10, logMin)), logMin, logMax);
                var py = top2 + PanelHeight - ((i + 1.0) / values.Length * PanelHeight);
                path.Append(Invariant($"{(i == 0 ? 'M' : 'L')}{px:F1},{py:F1} "));
            }

            path.Append(Invariant($"L{LogX(Math.Max(values[^1], Math.Pow(10, logMin)), logMin, logMax):F1},{top2:F1}"));
            svg.Append(Invariant($"<path d=\"{path}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"><title>{Escape(name)}</title></path>\n"));
        }

        // Objectives as dashed lines in the colour of the latency they bound.
        foreach (var (slo, colour, label) in new[] { (report.Goodput.SloTtftMs, Palette[1].Colour, "TTFT SLO"), (report.Goodput.SloTpotMs, Palette[5].Colour, "TPOT SLO") })
        {
            if (slo is { } ms && ms >= Math.Pow(10, logMin) && ms <= Math.Pow(10, logMax))
            {
                var px = LogX(ms, logMin, logMax);
                svg.Append(Invariant($"<line x1=\"{px:F1}\" y1=\"{top2}\" x2=\"{px:F1}\" y2=\"{top2 + PanelHeight}\" stroke=\"{colour}\" stroke-dasharray=\"6 4\"/>"));
                Text(svg, px + 4, top2 + 14, label, "start");
            }
        }

        Legend(svg, top2, cdfs.Select(c => (c.Name, c.Colour, c.Values.Length)));
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static int PlotWidth => Width - Left - Right;

    private static (string, string, List<(double, double)>) Series(int palette, IEnumerable<(double X, double Y)> points)
    {
        var all = points.ToList();
        var stride = Math.Max(1, (all.Count + MaxPointsPerSeries - 1) / MaxPointsPerSeries);
        return (Palette[palette].Name, Palette[palette].Colour, [.. all.Where((_, i) => i % stride == 0)]);
    }

    private static double LogY(int top, double ms, double logMin, double logMax)
    {
        var fraction = (Math.Log10(Math.Max(ms, Math.Pow(10, logMin))) - logMin) / (logMax - logMin);
        return top + PanelHeight - (fraction * PanelHeight);
    }

    private static double LogX(double ms, double logMin, double logMax) =>
        Left + ((Math.Log10(ms) - logMin) / (logMax - logMin) * PlotWidth);

    private static void Frame(StringBuilder svg, int top, string title, string xLabel, string yLabel)
    {
        svg.Append(Invariant($"<rect x=\"{Left}\" y=\"{top}\" width=\"{PlotWidth}\" height=\"{PanelHeight}\" fill=\"none\" stroke=\"#333\"/>\n"));
        Text(svg, Left + (PlotWidth / 2), top - 8, title, "middle", bold: true);
        Text(svg, Left + (PlotWidth / 2), top + PanelHeight + 34, xLabel, "middle");
        svg.Append(Invariant($"<text x=\"16\" y=\"{top + (PanelHeight / 2)}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {top + (PanelHeight / 2)})\">{Escape(yLabel)}</text>\n"));
    }

    private static void XTicksLinear(StringBuilder svg, int top, double seconds)
    {
        var step = NiceStep(seconds / 8);
        for (var x = 0.0; x <= seconds + 1e-9; x += step)
        {
            var px = Left + (x / seconds * PlotWidth);
            svg.Append(Invariant($"<line x1=\"{px:F1}\" y1=\"{top}\" x2=\"{px:F1}\" y2=\"{top + PanelHeight}\" stroke=\"#eee\"/>"));
            Text(svg, px, top + PanelHeight + 16, Invariant($"{x:0.##}"), "middle");
        }
    }

    private static void YTicksLog(StringBuilder svg, int top, double logMin, double logMax)
    {
        for (var decade = logMin; decade <= logMax; decade++)
        {
            var py = LogY(top, Math.Pow(10, decade), logMin, logMax);
            svg.Append(Invariant($"<line x1=\"{Left}\" y1=\"{py:F1}\" x2=\"{Left + PlotWidth}\" y2=\"{py:F1}\" stroke=\"#eee\"/>"));
            Text(svg, Left - 6, py + 4, FormatMs(Math.Pow(10, decade)), "end");
        }
    }

    private static void Legend(StringBuilder svg, int top, IEnumerable<(string Name, string Colour, int Count)> entries)
    {
        var y = top + 14;
        foreach (var (name, colour, count) in entries)
        {
            svg.Append(Invariant($"<rect x=\"{Left + PlotWidth + 12}\" y=\"{y - 9}\" width=\"10\" height=\"10\" fill=\"{colour}\"/>"));
            Text(svg, Left + PlotWidth + 28, y, Invariant($"{name} ({count})"), "start");
            y += 18;
        }
    }

    private static void Text(StringBuilder svg, double x, double y, string text, string anchor, bool bold = false) =>
        svg.Append(Invariant($"<text x=\"{x:F1}\" y=\"{y:F1}\" text-anchor=\"{anchor}\"{(bold ? " font-weight=\"bold\"" : string.Empty)}>{Escape(text)}</text>\n"));

    private static double NiceStep(double raw)
    {
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(Math.Max(raw, 1e-9))));
        var normalised = raw / magnitude;
        return magnitude * (normalised <= 1 ? 1 : normalised <= 2 ? 2 : normalised <= 5 ? 5 : 10);
    }

    private static string FormatMs(double ms) => ms >= 1000 ? Invariant($"{ms / 1000:0.###} s") : Invariant($"{ms:0.###} ms");

    private static string Escape(string text) => WebUtility.HtmlEncode(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
