using System.CommandLine;
using MoeDapr.Cli.Bench;
using MoeDapr.Cli.Orchestration;
using MoeDapr.Engine;
using MoeDapr.Engine.Checkpoint;
using MoeDapr.KvTransfer.DataPlane;
using MoeDapr.KvTransfer.DataPlane.Client;

namespace MoeDapr.Cli.Commands;

/// <summary>
/// <c>moedapr bench serving</c>: time to first token and time per output token through the disaggregated path
/// (prefill → kv-transfer → decode, each its own process) beside the same engine serving in this process, and the
/// KV transfer rate of the running kv-transfer on the shared-memory and socket planes beside a memory copy.
/// </summary>
internal static class BenchServingCommand
{
    private const int UsageError = 2;
    private const int Failure = 1;

    public static Command Create()
    {
        var model = new Option<string?>("--model")
        {
            Description = "Checkpoint folder, or random:FAMILY[:PRESET] (a random-weight checkpoint generated once into the cache; PRESET defaults to bench); without it the cached demo checkpoint.",
        };
        var promptLength = new Option<int>("--prompt-len") { Description = "Prompt tokens per request.", DefaultValueFactory = _ => 512 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Output tokens per request.", DefaultValueFactory = _ => 32 };
        var requests = new Option<int>("--requests")
        {
            // The ratios are medians of per-round ratios; on a shared machine a handful of rounds leaves them to chance.
            Description = "Timed requests per path (run one at a time).",
            DefaultValueFactory = _ => 20,
        };
        var warmUp = new Option<int>("--warmup")
        {
            // The services and this process start in tier-0 JIT code and recompile their hot methods in the background
            // over the first requests; timed requests measure the steady state.
            Description = "Untimed requests per path before the timed ones.",
            DefaultValueFactory = _ => 8,
        };
        var kvMib = new Option<int[]>("--kv-size-mib")
        {
            // 8 MiB is a 512-token prompt's KV on the bench preset (8 layers × K,V × 512 tokens × 4 KV heads × 64 dims × 4 B);
            // the demo preset's is 1 MiB (4 layers, 32 dims). 256 MiB shows the rate once control calls no longer matter.
            Description = "Payload sizes of the KV transfer measurement (repeat or list them).",
            DefaultValueFactory = _ => [8, 256],
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("serving", "TTFT and TPOT: disaggregated path vs one process; KV transfer GB/s vs a memory copy.")
        {
            model, promptLength, maxTokens, requests, warmUp, kvMib,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(model), parse.GetValue(promptLength), parse.GetValue(maxTokens), parse.GetValue(requests), parse.GetValue(warmUp), parse.GetValue(kvMib) ?? [], cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string? modelDir, int promptLength, int maxTokens, int requests, int warmUps, int[] kvMib, CancellationToken cancellationToken)
    {
        if (promptLength < 1 || maxTokens < 2 || requests < 1 || warmUps < 0 || kvMib.Length == 0 || kvMib.Any(m => m < 1 || m > 4096))
        {
            Console.Error.WriteLine("error: --prompt-len, --requests and --kv-size-mib must be positive (sizes at most 4096), --warmup not negative and --max-tokens at least 2");
            return UsageError;
        }

        string dir;
        if (modelDir is null)
        {
            dir = DemoCheckpoint.Ensure(Console.WriteLine, cancellationToken);
        }
        else if (!ModelSpec.TryParse(modelDir, ModelSpec.ServingBenchDefaultPreset, out var spec, out var specError))
        {
            Console.Error.WriteLine("error: " + specError);
            return UsageError;
        }
        else
        {
            dir = spec.IsRandom ? DemoCheckpoint.EnsureRandom(spec.ModelType, spec.Preset, Console.WriteLine, cancellationToken) : spec.Folder;
        }

        using var checkpoint = OpenOrNull(dir, out var problem);
        if (checkpoint is null)
        {
            Console.Error.WriteLine($"error: --model: {problem}");
            return UsageError;
        }

        if (promptLength + maxTokens > checkpoint.Config.MaxPositionEmbeddings)
        {
            Console.Error.WriteLine($"error: --prompt-len plus --max-tokens exceed the model's context of {checkpoint.Config.MaxPositionEmbeddings}");
            return UsageError;
        }

        var random = new Random(42);
        var prompts = Enumerable.Range(0, requests + warmUps)
            .Select(_ => Enumerable.Range(0, promptLength).Select(_ => random.Next(checkpoint.Config.VocabSize)).ToArray()).ToArray();

        var binaries = ServiceBinaries.Discover();
        try
        {
            await binaries.EnsureBuiltAsync(Console.WriteLine, cancellationToken, ["kv-transfer", "prefill", "decode"]);
        }
        catch (Exception e) when (e is FileNotFoundException or InvalidOperationException)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return Failure;
        }

        await using var workers = new ServingWorkers();
        try
        {
            await workers.StartAsync(binaries, dir, cancellationToken);
        }
        catch (ServiceStartException e)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return Failure;
        }

        var c = checkpoint.Config;
        Console.WriteLine($"Model {dir} ({c.ModelType}: {c.NumLayers} layers, hidden {c.HiddenSize}, {c.NumExperts} experts top-{c.NumExpertsPerToken}, {c.NumKvHeads} KV heads × {c.HeadDim}): {promptLength}-token prompts, {maxTokens} output tokens, {requests} requests per path (after {warmUps} warm-ups).");
        Console.WriteLine("Requests alternate between the paths, so a busy machine slows both alike; figures are medians.");
        await using var engine = await InferenceEngine.CreateAsync(new EngineOptions(), checkpoint.Config, checkpoint.Weights, cancellationToken: cancellationToken);
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        var rounds = new ServingRounds(engine, workers, http, BenchSampling.Create(maxTokens));
        await rounds.RunAsync(prompts, warmUps, cancellationToken);
        ServingReport.Print(rounds, maxTokens);
        await KvRateBench.ReportAsync(workers.KvTransfer, kvMib, cancellationToken);
        return 0;
    }

    private static LoadedCheckpoint? OpenOrNull(string dir, out string? problem)
    {
        try
        {
            problem = null;
            return CheckpointLoader.Open(dir);
        }
        catch (Exception e) when (e is Model.ModelFormatException or IOException)
        {
            problem = $"\"{dir}\" is not a usable checkpoint folder: {e.Message}";
            return null;
        }
    }
}
