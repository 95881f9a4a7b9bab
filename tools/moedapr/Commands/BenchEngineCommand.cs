using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using MoeDapr.Engine;
using MoeDapr.Engine.Kernels;
using MoeDapr.Contracts;
using MoeDapr.Model;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeDapr.Cli.Commands;

/// <summary>
/// <c>moedapr bench engine</c>: prefill and decode throughput of the engine, each beside the machine's own
/// ceiling measured in the same run (plain matrix products of the model's shapes; a memory copy).
/// </summary>
internal static class BenchEngineCommand
{
    private static readonly int[] DecodeBatches = [1, 8, 32];

    /// <summary>The <c>engine</c> subcommand of <c>moedapr bench</c>.</summary>
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = ModelSpec.EngineHelp, Required = true };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "Prompt length of the prefill measurement.", DefaultValueFactory = _ => 512 };
        var decodeTokens = new Option<int>("--decode-tokens") { Description = "Tokens each sequence decodes per decode measurement.", DefaultValueFactory = _ => 32 };
        var threads = new Option<int>("--threads") { Description = "Intra-op threads (0: TorchSharp's default, one per core).", DefaultValueFactory = _ => 0 };
        var device = EngineCommandOptions.Device();
        var dtype = EngineCommandOptions.Dtype();
        var engine = new Command("engine", "Prefill tokens/s and GFLOP/s beside plain matmuls; decode tokens/s at batch 1, 8, 32 beside an all-threads memory read (and a memory copy).")
        {
            model, promptTokens, decodeTokens, threads, device, dtype,
        };
        engine.SetAction(async (parse, cancellationToken) =>
        {
            var modelValue = parse.GetValue(model)!;
            if (EngineSession.Validate(modelValue) is { } modelError)
            {
                return EngineCommandOptions.Usage(modelError);
            }

            var prompt = parse.GetValue(promptTokens);
            var decode = parse.GetValue(decodeTokens);
            if (prompt is < 16 or > 8192)
            {
                return EngineCommandOptions.Usage($"--prompt-tokens: must be between 16 and 8192 (got {prompt})");
            }

            if (decode is < 4 or > 1024)
            {
                return EngineCommandOptions.Usage($"--decode-tokens: must be between 4 and 1024 (got {decode})");
            }

            var options = new EngineOptions
            {
                Device = parse.GetValue(device)!,
                Dtype = parse.GetValue(dtype)!,
                Threads = parse.GetValue(threads),
                MaxBatchSize = DecodeBatches.Max(),
                MaxPrefillTokens = Math.Max(prompt, 64),
                MaxSequenceLength = prompt + decode + 64,
                KvCacheBytes = 0,
                NumBlocks = ((prompt + 15) / 16 * 2) + (DecodeBatches.Max() * (((64 + decode) / 16) + 2)),
            };
            if (EngineCommandOptions.ValidateOptions(options) is { } optionError)
            {
                return EngineCommandOptions.Usage(optionError);
            }

            return await EngineSession.RunAsync(modelValue, options, async session =>
            {
                var report = await RunAsync(session, prompt, decode, cancellationToken);
                Print(report);
                return 0;
            }, cancellationToken);
        });
        return engine;
    }

    private static async Task<JsonObject> RunAsync(EngineSession session, int promptLength, int decodeTokens, CancellationToken cancellationToken)
    {
        var config = session.Config;
        var engine = session.Engine;
        var random = new Random(17);
        int[] RandomPrompt(int length) => Enumerable.Range(0, length).Select(_ => random.Next(config.VocabSize)).ToArray();

        // Warm-up: first calls allocate and pick kernels.
        await engine.GenerateAsync(new GenerateRequest { RequestId = "warmup", PromptTokens = RandomPrompt(64), Sampling = SamplingParams.Greedy(4) with { IgnoreEos = true } }, cancellationToken)
            .CountAsync(cancellationToken);

        // Prefill: best of three distinct prompts (distinct, so the prefix cache cannot help).
        var prefillSeconds = double.MaxValue;
        for (var run = 0; run < 3; run++)
        {
            var request = new PrefillRequest($"prefill-{run}", RandomPrompt(promptLength), SamplingParams.Greedy(1));
            var started = Stopwatch.GetTimestamp();
            var result = await engine.PrefillAsync([request], cancellationToken);
            prefillSeconds = Math.Min(prefillSeconds, Stopwatch.GetElapsedTime(started).TotalSeconds);
            if (result[0].Kv is { } kv)
            {
                await engine.ReleaseAsync(kv, cancellationToken);
            }
        }

        var device = engine.Options.ResolveDevice();
        var dtype = engine.Options.ResolveDtype(device);
        var shapes = PrefillMatmuls(config, promptLength);
        var linearFlops = shapes.Sum(s => 2.0 * s.Rows * s.In * s.Out);
        var matmulSeconds = TimeMatmuls(shapes, dtype, device);

        var bytesPerElement = dtype == ScalarType.Float32 ? 4 : 2;
        var decodeRows = new List<JsonObject>();
        foreach (var batch in DecodeBatches)
        {
            var (tokensPerSecond, steps) = await MeasureDecodeAsync(engine, batch, decodeTokens, RandomPrompt, cancellationToken);
            var bytesPerStep = WeightBytesPerDecodeStep(config, batch) * bytesPerElement;
            decodeRows.Add(new JsonObject
            {
                ["batch"] = batch,
                ["tokens_per_s"] = Round(tokensPerSecond),
                ["steps_per_s"] = Round(steps),
                ["weight_bytes_per_step"] = bytesPerStep,
                ["weight_gb_per_s"] = Round(bytesPerStep * steps / 1e9),
            });
        }

        // Decode reads its weights on every core: its ceiling is an all-threads streaming read of memory far beyond the
        // last-level cache, measured in this run; a copy (read + write) is kept as the second reference.
        var readGbPerSecond = MeasureRead(device);
        var copyGbPerSecond = MeasureCopy(device);
        foreach (var row in decodeRows)
        {
            row["of_read"] = Round((double)row["weight_gb_per_s"]! / readGbPerSecond);
            row["of_memcpy"] = Round((double)row["weight_gb_per_s"]! / copyGbPerSecond);
        }

        var batch1 = (double)decodeRows[0]["tokens_per_s"]!;
        return new JsonObject
        {
            ["model"] = config.ModelType,
            ["device"] = device.ToString(),
            ["dtype"] = dtype.ToString(),
            ["threads"] = torch.get_num_threads(),
            ["prefill"] = new JsonObject
            {
                ["prompt_tokens"] = promptLength,
                ["tokens_per_s"] = Round(promptLength / prefillSeconds),
                ["seconds"] = Round(prefillSeconds),
                ["linear_gflop"] = Round(linearFlops / 1e9),
                ["gflop_per_s"] = Round(linearFlops / prefillSeconds / 1e9),
                ["matmul_gflop_per_s"] = Round(linearFlops / matmulSeconds / 1e9),
                ["of_matmul"] = Round(matmulSeconds / prefillSeconds),
            },
            ["decode"] = new JsonArray([.. decodeRows]),
            ["read_gb_per_s"] = Round(readGbPerSecond),
            ["memcpy_gb_per_s"] = Round(copyGbPerSecond),
            ["batch32_over_batch1"] = Round((double)decodeRows[^1]["tokens_per_s"]! / batch1),
            // What the ratio would be if both batches streamed their weights at the same GB/s: batch 32 reads more
            // bytes per step (nearly every expert), so beyond this the batch-32 step must stream faster than batch 1.
            ["batch32_over_batch1_at_equal_gb_per_s"] = Round(32.0 * (long)decodeRows[0]["weight_bytes_per_step"]! / (long)decodeRows[^1]["weight_bytes_per_step"]!),
        };
    }

    /// <summary>Decodes <paramref name="batch"/> sequences together; counts tokens produced once all have started.</summary>
    private static async Task<(double TokensPerSecond, double StepsPerSecond)> MeasureDecodeAsync(
        InferenceEngine engine, int batch, int tokens, Func<int, int[]> prompt, CancellationToken cancellationToken)
    {
        var firstTokenAt = new long[batch];
        var stamps = new List<long>[batch];
        var runs = Enumerable.Range(0, batch).Select(async i =>
        {
            stamps[i] = [];
            var request = new GenerateRequest { RequestId = $"decode-{batch}-{i}", PromptTokens = prompt(32), Sampling = SamplingParams.Greedy(tokens) with { IgnoreEos = true } };
            await foreach (var _ in engine.GenerateAsync(request, cancellationToken))
            {
                stamps[i].Add(Stopwatch.GetTimestamp());
            }

            firstTokenAt[i] = stamps[i][0];
        }).ToArray();
        await Task.WhenAll(runs);

        var start = firstTokenAt.Max();
        var end = stamps.Min(s => s[^1]);
        var counted = stamps.Sum(s => s.Count(t => t > start && t <= end));
        var seconds = Stopwatch.GetElapsedTime(start, end).TotalSeconds;
        var steps = stamps.Select(s => s.Count(t => t > start && t <= end)).Max();
        return (counted / seconds, steps / seconds);
    }

    /// <summary>Weight elements one decode step reads: attention, routers, norms, LM head, and the experts the batch is expected to touch (uniform routing).</summary>
    private static long WeightBytesPerDecodeStep(ModelConfig c, int batch)
    {
        long h = c.HiddenSize;
        var attention = h * ((long)(c.NumHeads + (2 * c.NumKvHeads)) * c.HeadDim) + ((long)c.NumHeads * c.HeadDim * h);
        long total = (c.NumLayers * (attention + (2 * h))) + (c.VocabSize * h);
        var expert = 3 * h * c.MoeIntermediateSize;
        var touched = c.NumExperts * (1 - Math.Pow(1 - ((double)c.NumExpertsPerToken / c.NumExperts), batch));
        foreach (var layer in Enumerable.Range(0, c.NumLayers))
        {
            if (c.FeedForwardKindOf(layer) == FeedForwardKind.Moe)
            {
                total += (c.NumExperts * h) + (long)(touched * expert) + (c.SharedExpertIntermediateSize > 0 ? (3 * h * c.SharedExpertIntermediateSize) + h : 0);
            }
            else
            {
                total += 3 * h * c.DenseIntermediateSize;
            }
        }

        return total;
    }

    private sealed record Matmul(long Rows, long In, long Out);

    /// <summary>The linear layers a prefill of <paramref name="t"/> tokens runs, with tokens spread evenly over experts.</summary>
    private static List<Matmul> PrefillMatmuls(ModelConfig c, long t)
    {
        long h = c.HiddenSize;
        var shapes = new List<Matmul>();
        for (var layer = 0; layer < c.NumLayers; layer++)
        {
            shapes.Add(new(t, h, (c.NumHeads + (2L * c.NumKvHeads)) * c.HeadDim));
            shapes.Add(new(t, (long)c.NumHeads * c.HeadDim, h));
            if (c.FeedForwardKindOf(layer) == FeedForwardKind.Moe)
            {
                shapes.Add(new(t, h, c.NumExperts));
                var perExpert = Math.Max(1, t * c.NumExpertsPerToken / c.NumExperts);
                for (var e = 0; e < c.NumExperts; e++)
                {
                    shapes.Add(new(perExpert, h, 2L * c.MoeIntermediateSize));
                    shapes.Add(new(perExpert, c.MoeIntermediateSize, h));
                }

                if (c.SharedExpertIntermediateSize > 0)
                {
                    shapes.Add(new(t, h, 2L * c.SharedExpertIntermediateSize));
                    shapes.Add(new(t, c.SharedExpertIntermediateSize, h));
                }
            }
            else
            {
                shapes.Add(new(t, h, 2L * c.DenseIntermediateSize));
                shapes.Add(new(t, c.DenseIntermediateSize, h));
            }
        }

        shapes.Add(new(1, h, c.VocabSize));
        return shapes;
    }

    /// <summary>Best of three timings of the same matrix products done back to back with nothing else.</summary>
    private static double TimeMatmuls(List<Matmul> shapes, ScalarType dtype, Device device)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var operands = shapes.Select(s => (X: randn([s.Rows, s.In], dtype: dtype, device: device), W: randn([s.Out, s.In], dtype: dtype, device: device))).ToList();
        var best = double.MaxValue;
        for (var run = 0; run < 3; run++)
        {
            var started = Stopwatch.GetTimestamp();
            foreach (var (x, w) in operands)
            {
                using var y = nn.functional.linear(x, w);
            }

            if (device.type == DeviceType.CUDA)
            {
                torch.cuda.synchronize();
            }

            best = Math.Min(best, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }

        return best;
    }

    /// <summary>GB copied per second (each byte read once and written once) with a 512 MiB tensor copy.</summary>
    /// <summary>GB/s of a read-only pass over 1 GiB: every thread on the CPU, a reduction kernel on a GPU.</summary>
    private static double MeasureRead(Device device)
    {
        if (device.type != DeviceType.CUDA)
        {
            return ReadBandwidth.MeasureGbPerSecond(torch.get_num_threads());
        }

        using var scope = NewDisposeScope();
        const long bytes = ReadBandwidth.DefaultBytes;
        var source = ones(bytes / 4, dtype: ScalarType.Float32, device: device);
        source.sum();
        torch.cuda.synchronize();
        var best = double.MaxValue;
        for (var run = 0; run < 3; run++)
        {
            var started = Stopwatch.GetTimestamp();
            source.sum();
            torch.cuda.synchronize();
            best = Math.Min(best, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }

        return bytes / best / 1e9;
    }

    private static double MeasureCopy(Device device)
    {
        using var scope = NewDisposeScope();
        const long bytes = 512L << 20;
        var source = ones(bytes / 4, dtype: ScalarType.Float32, device: device);
        var destination = empty(bytes / 4, dtype: ScalarType.Float32, device: device);
        destination.copy_(source);
        var best = double.MaxValue;
        for (var run = 0; run < 3; run++)
        {
            var started = Stopwatch.GetTimestamp();
            destination.copy_(source);
            if (device.type == DeviceType.CUDA)
            {
                torch.cuda.synchronize();
            }

            best = Math.Min(best, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }

        return bytes / best / 1e9;
    }

    private static void Print(JsonObject report)
    {
        var prefill = report["prefill"]!.AsObject();
        var table = new Table().AddColumns("measure", "value", "ceiling (same run)", "share", "of memcpy");
        table.AddRow(
            $"prefill {prefill["prompt_tokens"]} tokens",
            $"{prefill["tokens_per_s"]} tok/s, {prefill["gflop_per_s"]} GFLOP/s",
            $"{prefill["matmul_gflop_per_s"]} GFLOP/s plain matmul",
            Percent((double)prefill["of_matmul"]!),
            string.Empty);
        foreach (var row in report["decode"]!.AsArray())
        {
            table.AddRow(
                $"decode batch {row!["batch"]}",
                $"{row["tokens_per_s"]} tok/s, {row["weight_gb_per_s"]} GB/s weights",
                $"{report["read_gb_per_s"]} GB/s all-threads read",
                Percent((double)row["of_read"]!),
                $"{Percent((double)row["of_memcpy"]!)} of {report["memcpy_gb_per_s"]} GB/s");
        }

        AnsiConsole.Write(table);
        AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"batch 32 / batch 1 tokens/s: {report["batch32_over_batch1"]} (at equal weight GB/s it would be {report["batch32_over_batch1_at_equal_gb_per_s"]})"));
        Console.WriteLine(report.ToJsonString());
    }

    private static string Percent(double share) => string.Create(CultureInfo.InvariantCulture, $"{share * 100:F0}%");

    private static double Round(double value) => Math.Round(value, 3);
}
