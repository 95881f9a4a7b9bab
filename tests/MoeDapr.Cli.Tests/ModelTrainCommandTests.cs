using MoeDapr.Engine;
using MoeDapr.Engine.Checkpoint;
using MoeDapr.Model.Tokenization;

namespace MoeDapr.Cli.Tests;

public sealed class ModelTrainCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "moedapr-cli-tests", Guid.NewGuid().ToString("N"));

    public ModelTrainCommandTests()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(CorpusFile, TrainingCorpus.English);
    }

    private string CorpusFile => Path.Combine(_dir, "english.txt");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("--arch", "qwen2_moe", "--arch:")]
    [InlineData("--corpus", "/no/such/corpus.txt", "--corpus:")]
    [InlineData("--lr", "-1", "--lr:")]
    [InlineData("--seq-len", "4", "--seq-len:")]
    [InlineData("--val-fraction", "0.9", "--val-fraction:")]
    [InlineData("--vocab-size", "100", "--vocab-size:")]
    [InlineData("--minutes", "0", "--minutes:")]
    [InlineData("--dtype", "int8", "--dtype:")]
    public async Task Train_BadArgument_IsAUsageErrorNamingIt(string option, string value, string expected)
    {
        var args = new Dictionary<string, string>
        {
            ["--arch"] = "qwen3_moe", ["--preset"] = "tiny", ["--corpus"] = CorpusFile, ["--out"] = Path.Combine(_dir, "out"), ["--steps"] = "2",
        };
        args[option] = value;

        var result = await CliProcess.RunAsync(["model", "train", .. args.SelectMany(kv => new[] { kv.Key, kv.Value })]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.StdErr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "out")));
    }

    [Fact]
    public async Task TrainThenEvalPerplexity_NumberEqualsTheEngineLogitsByHand_AndBeatsUniform()
    {
        var model = Path.Combine(_dir, "tiny");
        var train = await CliProcess.RunAsync("model", "train", "--arch", "qwen3_moe", "--preset", "tiny", "--corpus", CorpusFile, "--out", model,
            "--steps", "30", "--seq-len", "32", "--batch", "4", "--warmup", "5", "--lr", "3e-3", "--val-fraction", "0.1", "--eval-every", "10",
            "--dtype", "f32", "--threads", "1");
        Assert.True(train.ExitCode == 0, train.StdErr + train.StdOut);
        Assert.Contains("val ppl", train.StdOut, StringComparison.Ordinal);
        var summary = JsonNode.Parse(train.StdOut[train.StdOut.LastIndexOf("\n{", StringComparison.Ordinal)..])!;
        Assert.True(summary["validation_perplexity"]!.GetValue<double>() < summary["initial_validation_perplexity"]!.GetValue<double>());

        var text = Path.Combine(_dir, "sample.txt");
        File.WriteAllText(text, TrainingCorpus.English[..700]);
        const int window = 16, maxTokens = 120;
        var eval = await CliProcess.RunAsync("eval", "perplexity", "--model", model, "--text", text, "--window", $"{window}", "--max-tokens", $"{maxTokens}");
        Assert.True(eval.ExitCode == 0, eval.StdErr);
        var report = JsonNode.Parse(eval.StdOut.TrimEnd().Split('\n')[^1])!;

        using var checkpoint = CheckpointLoader.Open(model);
        await using var engine = await InferenceEngine.CreateAsync(new EngineOptions { NumBlocks = 8, MaxSequenceLength = window, Threads = 1 }, checkpoint.Config, checkpoint.Weights);
        var tokens = checkpoint.Tokenizer.Encode(File.ReadAllText(text)).Take(maxTokens).ToArray();
        double nll = 0;
        for (var i = 1; i < tokens.Length; i++)
        {
            var logits = await engine.LogitsAsync(tokens[Math.Max(0, i - (window - 1))..i]);
            var max = logits.Max();
            nll += Math.Log(logits.Sum(z => Math.Exp(z - max))) + max - logits[tokens[i]];
        }

        var expected = Math.Exp(nll / (tokens.Length - 1));
        Assert.Equal(tokens.Length - 1, report["tokens"]!.GetValue<int>());
        Assert.Equal(expected, report["perplexity"]!.GetValue<double>(), expected * 1e-6);
        Assert.True(expected < checkpoint.Config.VocabSize / 2.0, $"perplexity {expected:F1} vs uniform {checkpoint.Config.VocabSize}");
    }

    [Fact]
    public async Task EvalPerplexity_WindowBeyondTheContext_IsAUsageErrorNamingIt()
    {
        var model = Path.Combine(_dir, "random");
        var init = await CliProcess.RunAsync("model", "init", "--arch", "qwen3_moe", "--preset", "tiny", "--out", model);
        Assert.True(init.ExitCode == 0, init.StdErr);

        var eval = await CliProcess.RunAsync("eval", "perplexity", "--model", model, "--text", CorpusFile, "--window", "999999");

        Assert.Equal(2, eval.ExitCode);
        Assert.Contains("--window:", eval.StdErr, StringComparison.Ordinal);
    }
}
