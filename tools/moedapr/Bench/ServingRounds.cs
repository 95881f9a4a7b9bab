using System.Diagnostics;
using MoeDapr.Contracts;
using MoeDapr.Engine;

namespace MoeDapr.Cli.Bench;

/// <summary>
/// The timed rounds of <c>bench serving</c>: each round sends one prompt down every path (decode alone, then the
/// in-process engine and the disaggregated path in alternating order) and records the rounds after the warm-ups.
/// </summary>
internal sealed class ServingRounds(InferenceEngine engine, ServingWorkers workers, HttpClient http, SamplingParams sampling)
{
    /// <summary>The engine in this process.</summary>
    public PathTimings Local { get; } = new();

    /// <summary>Prefill, the KV hop and decode, each its own process.</summary>
    public PathTimings Remote { get; } = new();

    /// <summary>The decode process prefilling by itself: the worker process and its stream without the KV hop.</summary>
    public PathTimings DecodeAlone { get; } = new();

    /// <summary>Prefill's own stage times on the disaggregated path.</summary>
    public PrefillStages Stages { get; } = new();

    /// <summary>Runs one round per prompt; the first <paramref name="warmUps"/> rounds are not recorded.</summary>
    public async Task RunAsync(IReadOnlyList<int[]> prompts, int warmUps, CancellationToken cancellationToken)
    {
        for (var r = 0; r < prompts.Count; r++)
        {
            var keep = r >= warmUps;
            var decodeCpu = workers.DecodeCpu();
            var clientCpu = SelfCpu();
            var (aloneTtft, aloneTpot) = await ServingPaths.DecodeAloneAsync(http, workers, r, prompts[r], sampling, keep ? DecodeAlone : null, cancellationToken);
            if (keep)
            {
                DecodeAlone.Add(aloneTtft, aloneTpot);
                DecodeAlone.AddCpu(workers.DecodeCpu() - decodeCpu, SelfCpu() - clientCpu);
            }

            // The two compared paths swap order every round, so neither always runs right after the other.
            double localTtft, localTpot, remoteTtft, remoteTpot;
            if (r % 2 == 0)
            {
                (localTtft, localTpot) = await InProcessAsync(r, prompts[r], keep, cancellationToken);
                (remoteTtft, remoteTpot) = await DisaggregatedAsync(r, prompts[r], keep, cancellationToken);
            }
            else
            {
                (remoteTtft, remoteTpot) = await DisaggregatedAsync(r, prompts[r], keep, cancellationToken);
                (localTtft, localTpot) = await InProcessAsync(r, prompts[r], keep, cancellationToken);
            }

            if (keep)
            {
                Local.Add(localTtft, localTpot);
                Remote.Add(remoteTtft, remoteTpot);
            }
        }
    }

    private Task<(double Ttft, double Tpot)> DisaggregatedAsync(int r, int[] prompt, bool keep, CancellationToken cancellationToken) =>
        ServingPaths.DisaggregatedAsync(http, workers, r, prompt, sampling, keep ? Remote : null, keep ? Stages : null, cancellationToken);

    private async Task<(double Ttft, double Tpot)> InProcessAsync(int r, int[] prompt, bool keep, CancellationToken cancellationToken)
    {
        var localCpu = SelfCpu();
        var timed = await ServingPaths.InProcessAsync(engine, r, prompt, sampling, Local, keep, cancellationToken);
        if (keep)
        {
            Local.AddCpu(SelfCpu() - localCpu, 0);
        }

        return timed;
    }

    /// <summary>CPU seconds this process has used (user + system, all threads).</summary>
    private static double SelfCpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalSeconds;
    }
}
