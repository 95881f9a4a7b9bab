using System.Xml.Linq;
using MoeDapr.Cli.Loadtest;

namespace MoeDapr.Cli.Tests.Loadtest;

public sealed class SvgPlotTests
{
    [Fact]
    public void Render_NoRequests_IsStillAValidSvg()
    {
        var svg = XDocument.Parse(SvgPlot.Render(Report([])));

        Assert.Equal("svg", svg.Root?.Name.LocalName);
        Assert.DoesNotContain(svg.Descendants(), e => e.Name.LocalName == "circle");
    }

    [Fact]
    public void Render_MixedOutcomes_OnePointPerLatencyAndOneCurvePerDistribution()
    {
        CompletionResult[] results =
        [
            new() { Outcome = RequestOutcome.Ok, TtftMs = 40, E2eMs = 90, OutputTokens = 3 },
            new() { Outcome = RequestOutcome.Rejected, Status = 429, E2eMs = 2 },
            new() { Outcome = RequestOutcome.Failed, Error = "http 500: <b>broken</b> & gone", E2eMs = 5 },
        ];

        var svg = XDocument.Parse(SvgPlot.Render(Report(results), itlMs: [20, 21]));

        // ok: e2e and TTFT points; rejected and failed: one each.
        Assert.Equal(4, svg.Descendants().Count(e => e.Name.LocalName == "circle"));
        // TTFT, TPOT, ITL, e2e and 429 curves.
        Assert.Equal(5, svg.Descendants().Count(e => e.Name.LocalName == "path"));
    }

    private static LoadtestReport Report(IReadOnlyList<CompletionResult> results)
    {
        var settings = new LoadtestSettings
        {
            Url = "http://localhost/",
            DurationSeconds = 1,
            TargetQps = 3,
            MaxNewTokens = 3,
            PromptLengthMin = 1,
            PromptLengthMax = 1,
            Stream = true,
        };
        var records = results.Select((r, i) => new RequestRecord(i, i * 100, i * 100, 1, r)).ToList();
        return LoadtestReport.Create(settings, new LoadtestResult(records, TimeSpan.FromSeconds(1), DateTimeOffset.UnixEpoch, false), "m");
    }
}
