using System.Globalization;
using MoeDapr.Cli.Statistics;

namespace MoeDapr.Cli.Bench;

/// <summary>Prints the latency part of <c>bench serving</c>: per-path medians, CPU per request, prefill stages and the paired ratios.</summary>
internal static class ServingReport
{
    public static void Print(ServingRounds rounds, int maxTokens)
    {
        var (local, remote, alone) = (rounds.Local, rounds.Remote, rounds.DecodeAlone);
        Console.WriteLine($"  one process      TTFT {Ms(local.Ttft)}  TPOT {Ms(local.Tpot)}  (steady inter-token {Ms(local.Steady)})");
        Console.WriteLine($"  disaggregated    TTFT {Ms(remote.Ttft)}  TPOT {Ms(remote.Tpot)}  (steady inter-token {Ms(remote.Steady)}, decode call to its first token {Ms(remote.DecodeFirst)})");
        Console.WriteLine($"  decode process   TTFT {Ms(alone.Ttft)}  TPOT {Ms(alone.Tpot)}  (steady inter-token {Ms(alone.Steady)}; prefilled there too: the worker process and its stream without the KV hop)");
        Console.WriteLine($"  CPU per request (prefill + {maxTokens} tokens, all threads; spin-waits inflate it on a busy machine): one process {Ms(local.Cpu)}, decode process {Ms(alone.Cpu)} + its client {Ms(alone.ClientCpu)}");
        Console.WriteLine("  prefill stages (median ms, from its Server-Timing header): " + rounds.Stages.Describe());
        // Each round's disaggregated figure over the same round's one-process figure, then the median: a slow spell of
        // a shared machine slows both requests of a round alike and drops out of the ratio.
        var ttftRatios = Paired(remote.TtftRounds, local.TtftRounds);
        var tpotRatios = Paired(remote.TpotRounds, local.TpotRounds);
        var ttftRatio = SampleStatistics.Median(ttftRatios);
        var tpotRatio = SampleStatistics.Median(tpotRatios);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  ratio            TTFT {ttftRatio:F2} (target <= 1.2, {(ttftRatio <= 1.2 ? "met" : "missed")})  TPOT {tpotRatio:F2} (target <= 1.1, {(tpotRatio <= 1.1 ? "met" : "missed")})  (medians of per-round ratios; quartiles TTFT {SampleStatistics.QuartileRange(ttftRatios)}, TPOT {SampleStatistics.QuartileRange(tpotRatios)}; ratio of the medians TTFT {remote.Ttft / local.Ttft:F2}, TPOT {remote.Tpot / local.Tpot:F2})"));
    }

    private static List<double> Paired(IReadOnlyList<double> numerators, IReadOnlyList<double> denominators) =>
        numerators.Select((n, i) => n / denominators[i]).ToList();

    private static string Ms(double seconds) => string.Create(CultureInfo.InvariantCulture, $"{seconds * 1000,8:F1} ms");
}
