using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using MoeDapr.Engine;
using MoeDapr.Engine.Checkpoint;
using MoeDapr.Engine.Eplb;
using MoeDapr.Contracts;
using MoeDapr.Model;

namespace MoeDapr.Cli.Bench;

/// <summary>The runs behind <c>moedapr bench eplb</c>: per EP size, the load imbalance and decode tokens/s with the balancer off and on, and the pause per layer moved.</summary>
internal sealed class EplbBench(ModelConfig config, IWeightSource weights, EplbBenchSettings settings)
{
    public async Task<JsonObject> RunAsync(string description, int[] sizes, CancellationToken cancellationToken)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{description}: {config.NumLayers} layers, {config.NumExperts} experts, top-{config.NumExpertsPerToken}; batch {settings.Batch}, prompt {settings.Prompt}, {settings.Tokens} tokens; {Environment.ProcessorCount} cores"));
        var rows = new JsonArray();
        var table = new List<string[]>
        {
            new[] { "EP", "expert gini", "bal. before", "bal. after", "rank gini before", "rank gini after", "tok/s off", "tok/s on", "par. tok/s off", "par. tok/s on", "slots moved/layer", "pause/layer ms" },
        };
        foreach (var ranks in sizes)
        {
            var row = await MeasureAsync(ranks, cancellationToken).ConfigureAwait(false);
            rows.Add(row);
            table.Add([
                ranks.ToString(CultureInfo.InvariantCulture), F(row["expert_gini"]), F(row["balancedness_before"]), F(row["balancedness_after"]),
                F(row["rank_gini_before"]), F(row["rank_gini_after"]), F1(row["tokens_per_second_off"]), F1(row["tokens_per_second_on"]),
                F1(row["parallel_tokens_per_second_off"]), F1(row["parallel_tokens_per_second_on"]), F1(row["slots_moved_per_layer_mean"]), F(row["pause_per_layer_ms_mean"]),
            ]);
        }

        var widths = Enumerable.Range(0, table[0].Length).Select(c => table.Max(r => r[c].Length)).ToArray();
        foreach (var line in table)
        {
            Console.WriteLine(string.Join("  ", line.Select((cell, c) => cell.PadLeft(widths[c]))));
        }

        return new JsonObject
        {
            ["model"] = description,
            ["layers"] = config.NumLayers,
            ["experts"] = config.NumExperts,
            ["top_k"] = config.NumExpertsPerToken,
            ["batch"] = settings.Batch,
            ["tokens"] = settings.Tokens,
            ["results"] = rows,
        };
    }

    private async Task<JsonObject> MeasureAsync(int ranks, CancellationToken cancellationToken)
    {
        if ((config.NumExperts + ranks) % ranks != 0 || config.NumExperts % ranks != 0)
        {
            throw new ArgumentException($"--ranks: {config.NumExperts} experts do not split over {ranks} ranks");
        }

        // Balancer off: R = experts, expert e on rank e * M / experts.
        Throughput off;
        ExpertLoadMatrix loads;
        await using (var engine = await CreateAsync(ranks, 0, cancellationToken).ConfigureAwait(false))
        {
            await WarmUpAsync(engine, cancellationToken).ConfigureAwait(false);
            off = await DecodeAsync(engine, "off", cancellationToken).ConfigureAwait(false);
            loads = ExpertLoadMatrix.FromCounts(engine.ExpertLoads.Select(l => (IReadOnlyList<long>)l.ExpertTokens).ToArray());
        }

        var topology = new EplbTopology(config.NumExperts + ranks, 1, 1, ranks);
        var before = PlacementBalance.OfIdentity(loads, ranks);
        var plan = new DeepSeekEplbPolicy().Place(loads, topology);
        var after = PlacementBalance.Of(loads, plan);

        // Balancer on: R = experts + ranks; the plan (from this run's own counters) is applied while the batch decodes.
        Throughput on;
        var pauses = new List<double>();
        var slotsMoved = new List<int>();
        await using (var engine = await CreateAsync(ranks, ranks, cancellationToken).ConfigureAwait(false))
        {
            await WarmUpAsync(engine, cancellationToken).ConfigureAwait(false);
            var layers = engine.ExpertLoads.Select(l => l.Layer).ToArray();
            var calibration = DecodeAsync(engine, "calibration", cancellationToken);
            await WaitForStepsAsync(engine, settings.Tokens / 2, cancellationToken).ConfigureAwait(false);
            var live = ExpertLoadMatrix.FromCounts(engine.ExpertLoads.Select(l => (IReadOnlyList<long>)l.ExpertTokens).ToArray());
            var livePlan = new DeepSeekEplbPolicy().Place(live, topology);
            var currentPlacement = engine.ExpertLoads.Select(l => l.Phy2Log).ToArray();
            for (var i = 0; i < layers.Length; i++)
            {
                // As the coordinator does: same rank membership, experts kept in their slots where possible.
                var target = PlacementMoves.KeepInPlace(currentPlacement[i], [.. livePlan.Layers[i].Phy2Log], ranks);
                slotsMoved.Add(PlacementMoves.SlotsChanged(currentPlacement[i], target));
                var pause = await engine.ApplyPlacementAsync(layers[i], target, cancellationToken).ConfigureAwait(false);
                pauses.Add(pause.TotalMilliseconds);
            }

            await calibration.ConfigureAwait(false);
            on = await DecodeAsync(engine, "on", cancellationToken).ConfigureAwait(false);
        }

        var expertGini = Enumerable.Range(0, loads.Layers).Average(l => ExpertLoadStatistics.Gini(loads.Row(l)));
        var rankGiniBefore = Enumerable.Range(0, loads.Layers).Average(l => ExpertLoadStatistics.Gini(IdentityRankLoads(loads.Row(l), ranks)));
        var rankGiniAfter = Enumerable.Range(0, loads.Layers).Average(l => ExpertLoadStatistics.Gini(PlacementBalance.RankLoads(loads.Row(l), plan.Layers[l], ranks)));
        return new JsonObject
        {
            ["ep"] = ranks,
            ["slots_off"] = config.NumExperts,
            ["slots_on"] = config.NumExperts + ranks,
            ["expert_gini"] = expertGini,
            ["expert_max_mean"] = Enumerable.Range(0, loads.Layers).Average(l => ExpertLoadStatistics.MaxOverMean(loads.Row(l))),
            ["balancedness_before"] = before.Mean,
            ["balancedness_after"] = after.Mean,
            ["rank_gini_before"] = rankGiniBefore,
            ["rank_gini_after"] = rankGiniAfter,
            ["observed_rank_share_off"] = new JsonArray(off.RankTokenShare.Select(x => (JsonNode)x).ToArray()),
            ["observed_rank_share_on"] = new JsonArray(on.RankTokenShare.Select(x => (JsonNode)x).ToArray()),
            ["tokens_per_second_off"] = off.TokensPerSecond,
            ["tokens_per_second_on"] = on.TokensPerSecond,
            ["parallel_tokens_per_second_off"] = off.ParallelRanksTokensPerSecond,
            ["parallel_tokens_per_second_on"] = on.ParallelRanksTokensPerSecond,
            ["pause_per_layer_ms_mean"] = pauses.Average(),
            ["pause_per_layer_ms_max"] = pauses.Max(),
            ["layers_moved"] = pauses.Count,
            ["slots_moved_per_layer_mean"] = slotsMoved.Average(),
            ["pause_per_slot_moved_ms"] = slotsMoved.Sum() > 0 ? pauses.Sum() / slotsMoved.Sum() : 0,
        };
    }

    private static double[] IdentityRankLoads(ReadOnlySpan<double> row, int ranks)
    {
        var result = new double[ranks];
        for (var e = 0; e < row.Length; e++)
        {
            result[(int)((long)e * ranks / row.Length)] += row[e];
        }

        return result;
    }

    private Task<InferenceEngine> CreateAsync(int ranks, int redundant, CancellationToken cancellationToken) =>
        InferenceEngine.CreateAsync(new EngineOptions
        {
            ExpertParallelSize = ranks,
            RedundantExperts = redundant,
            MaxBatchSize = settings.Batch,
            MaxSequenceLength = settings.Prompt + settings.Tokens + 16,
            NumBlocks = settings.Batch * (((settings.Prompt + settings.Tokens) / 16) + 2) * 2,
            Threads = settings.Threads,
        }, config, weights, cancellationToken: cancellationToken);

    /// <summary>A short batch first, so that JIT and allocator warm-up stay out of the timed runs.</summary>
    private async Task WarmUpAsync(InferenceEngine engine, CancellationToken cancellationToken)
    {
        var prompt = Enumerable.Range(0, settings.Prompt).Select(i => 3 + (i * 7 % (config.VocabSize - 3))).ToArray();
        var sampling = new SamplingParams { Temperature = 0, MaxTokens = 4, IgnoreEos = true };
        await Task.WhenAll(Enumerable.Range(0, settings.Batch).Select(async i =>
        {
            await foreach (var _ in engine.GenerateAsync(new GenerateRequest { RequestId = $"warm-{i}", PromptTokens = prompt, Sampling = sampling }, cancellationToken).ConfigureAwait(false))
            {
            }
        })).ConfigureAwait(false);
    }

    private static async Task WaitForStepsAsync(InferenceEngine engine, int decodeSteps, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp();
        var generated = engine.Stats.GeneratedTokens;
        while (engine.Stats.GeneratedTokens - generated < (long)decodeSteps * engine.Options.MaxBatchSize)
        {
            if (Stopwatch.GetElapsedTime(deadline) > TimeSpan.FromMinutes(5))
            {
                throw new TimeoutException("the calibration batch made no progress for 5 minutes");
            }

            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Decodes one batch; times the span where every sequence is past its prompt (decode steps only).</summary>
    private async Task<Throughput> DecodeAsync(InferenceEngine engine, string tag, CancellationToken cancellationToken)
    {
        var random = new Random(42);
        var started = 0;
        long decodeStart = 0;
        long decodeTokens = 0;
        double sumRank = 0;
        double maxRank = 0;
        var ranks = engine.Options.ExpertParallelSize;
        var rankTokensAtStart = new long[ranks];
        var rankTokensAtEnd = new long[ranks];
        var timing = false;
        engine.StepObserver = step =>
        {
            if (Volatile.Read(ref timing))
            {
                sumRank += step.RankSeconds.Sum();
                maxRank += step.RankSeconds.Max();
            }
        };
        var sampling = new SamplingParams { Temperature = 0, MaxTokens = settings.Tokens, IgnoreEos = true };
        var prompts = Enumerable.Range(0, settings.Batch).Select(_ => Enumerable.Range(0, settings.Prompt).Select(_ => random.Next(3, config.VocabSize)).ToArray()).ToArray();
        var runs = prompts.Select(async (prompt, i) =>
        {
            var first = true;
            await foreach (var output in engine.GenerateAsync(new GenerateRequest { RequestId = $"{tag}-{i}", PromptTokens = prompt, Sampling = sampling }, cancellationToken).ConfigureAwait(false))
            {
                if (first)
                {
                    first = false;
                    if (Interlocked.Increment(ref started) == settings.Batch)
                    {
                        SumRankTokens(engine, rankTokensAtStart);
                        Volatile.Write(ref timing, true);
                        Interlocked.Exchange(ref decodeStart, Stopwatch.GetTimestamp());
                    }
                }
                else if (Interlocked.Read(ref decodeStart) != 0)
                {
                    Interlocked.Increment(ref decodeTokens);
                }
            }
        }).ToArray();
        await Task.WhenAll(runs).ConfigureAwait(false);
        var seconds = Stopwatch.GetElapsedTime(decodeStart).TotalSeconds;
        Volatile.Write(ref timing, false);
        engine.StepObserver = null;
        SumRankTokens(engine, rankTokensAtEnd);
        var rankTokens = rankTokensAtEnd.Zip(rankTokensAtStart, (a, b) => (double)(a - b)).ToArray();
        var total = rankTokens.Sum();
        var parallelSeconds = Math.Max(1e-9, seconds - (sumRank - maxRank));
        return new Throughput(
            decodeTokens / seconds,
            decodeTokens / parallelSeconds,
            rankTokens.Select(t => total > 0 ? t / total : 0).ToArray());
    }

    private static void SumRankTokens(InferenceEngine engine, long[] into)
    {
        Array.Clear(into);
        foreach (var load in engine.ExpertLoads)
        {
            for (var r = 0; r < into.Length; r++)
            {
                into[r] += load.RankTokens[r];
            }
        }
    }

    /// <summary>Decode throughput of one run: measured, and with each step's expert time cut to its slowest rank.</summary>
    private sealed record Throughput(double TokensPerSecond, double ParallelRanksTokensPerSecond, double[] RankTokenShare);

    private static string F(JsonNode? node) => node!.GetValue<double>().ToString("F3", CultureInfo.InvariantCulture);

    private static string F1(JsonNode? node) => node!.GetValue<double>().ToString("F1", CultureInfo.InvariantCulture);
}
