using MoeDapr.Engine.Checkpoint;
using MoeDapr.Model;
using TorchSharp;

namespace MoeDapr.Cli.Tests;

public sealed class ModelCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "moedapr-cli-tests", Guid.NewGuid().ToString("N"));

    public ModelCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Folder(string name) => Path.Combine(_dir, name);

    [Fact]
    public async Task Init_TinyMixtral_WritesHuggingFaceLayoutThatInspectDescribes()
    {
        var folder = Folder("mixtral");

        var init = await CliProcess.RunAsync("model", "init", "--arch", "mixtral", "--preset", "tiny", "--out", folder, "--seed", "11");
        var inspect = await CliProcess.RunAsync("model", "inspect", folder, "--json");

        Assert.True(init.ExitCode == 0, init.StdErr);
        Assert.Equal(
            ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"],
            Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.True(inspect.ExitCode == 0, inspect.StdErr);
        var report = JsonNode.Parse(inspect.StdOut)!;
        var config = ModelPresets.Create(ModelFamily.Mixtral, ModelPreset.Tiny);
        var (total, active) = CheckpointSchema.ParameterCounts(config);
        Assert.Equal("mixtral", report["model_type"]!.GetValue<string>());
        Assert.Equal(2, report["layers"]!.GetValue<int>());
        Assert.Equal(4, report["experts"]!.GetValue<int>());
        Assert.Equal(2, report["experts_per_token"]!.GetValue<int>());
        Assert.Equal(total, report["total_parameters"]!.GetValue<long>());
        Assert.Equal(active, report["active_parameters_per_token"]!.GetValue<long>());
        Assert.True(active < total);
        Assert.Equal(total * 4, report["memory_bytes"]!["float32"]!.GetValue<long>());
        Assert.Equal(total * 2, report["memory_bytes"]!["bfloat16"]!.GetValue<long>());
        Assert.Equal(512, JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!["vocab_size"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("qwen2_moe", "bf16")]
    [InlineData("mixtral", "f32")]
    public async Task Init_ThenLoad_GivesTheSeededRandomTensorsAndATokenizerOfTheConfigSize(string arch, string dtype)
    {
        var folder = Folder(arch);
        var init = await CliProcess.RunAsync("model", "init", "--arch", arch, "--out", folder, "--seed", "21", "--dtype", dtype);
        Assert.True(init.ExitCode == 0, init.StdErr);

        using var checkpoint = CheckpointLoader.Open(folder);
        var expected = RandomWeights.Create(checkpoint.Config, new RandomWeightOptions { Seed = 21 });
        var stored = dtype == "bf16" ? torch.bfloat16 : torch.float32;
        try
        {
            foreach (var spec in CheckpointSchema.ExpectedTensors(checkpoint.Config))
            {
                using var loaded = checkpoint.Weights.Load(spec, torch.float32, torch.CPU);
                using var reference = expected[spec.Name].to(stored).to(torch.float32);
                Assert.True(reference.equal(loaded).all().item<bool>(), $"{spec.Name} differs from RandomWeights with the same seed");
            }
        }
        finally
        {
            foreach (var tensor in expected.Values)
            {
                tensor.Dispose();
            }
        }

        Assert.Equal(checkpoint.Config.VocabSize, checkpoint.Tokenizer.VocabSize);
        var ids = checkpoint.Folder.EncodeChat([new ChatMessage("user", "Hello there!")]);
        Assert.Contains("Hello there!", checkpoint.Tokenizer.Decode(ids));
    }

    [Fact]
    public async Task Inspect_Table_ShowsFamilyParametersAndMemory()
    {
        var folder = Folder("qwen3");
        var init = await CliProcess.RunAsync("model", "init", "--arch", "qwen3_moe", "--out", folder, "--dtype", "bf16");
        Assert.True(init.ExitCode == 0, init.StdErr);

        var inspect = await CliProcess.RunAsync("model", "inspect", folder);

        Assert.True(inspect.ExitCode == 0, inspect.StdErr);
        Assert.Contains("qwen3_moe", inspect.StdOut);
        Assert.Contains("active parameters / token", inspect.StdOut);
        Assert.Contains("memory (bfloat16)", inspect.StdOut);
        Assert.Contains("BF16", inspect.StdOut);
    }

    [Fact]
    public async Task Init_SameSeedTwice_WritesIdenticalWeights_OtherSeedDiffers()
    {
        var a = await CliProcess.RunAsync("model", "init", "--arch", "qwen2_moe", "--out", Folder("a"), "--seed", "5");
        var b = await CliProcess.RunAsync("model", "init", "--arch", "qwen2_moe", "--out", Folder("b"), "--seed", "5");
        var c = await CliProcess.RunAsync("model", "init", "--arch", "qwen2_moe", "--out", Folder("c"), "--seed", "6");

        Assert.All([a, b, c], r => Assert.True(r.ExitCode == 0, r.StdErr));
        var weights = (string f) => File.ReadAllBytes(Path.Combine(Folder(f), "model.safetensors"));
        Assert.Equal(weights("a"), weights("b"));
        Assert.NotEqual(weights("a"), weights("c"));
        Assert.Equal(File.ReadAllText(Path.Combine(Folder("a"), "tokenizer.json")), File.ReadAllText(Path.Combine(Folder("c"), "tokenizer.json")));
    }

    [Fact]
    public async Task Init_SmallShardSize_WritesShardsAndIndexThatInspectReads()
    {
        var folder = Folder("sharded");

        var init = await CliProcess.RunAsync("model", "init", "--arch", "mixtral", "--out", folder, "--max-shard-mb", "1", "--preset", "demo");
        var inspect = await CliProcess.RunAsync("model", "inspect", folder, "--json");

        Assert.True(init.ExitCode == 0, init.StdErr);
        Assert.True(File.Exists(Path.Combine(folder, "model.safetensors.index.json")));
        Assert.False(File.Exists(Path.Combine(folder, "model.safetensors")));
        Assert.True(inspect.ExitCode == 0, inspect.StdErr);
        Assert.True(JsonNode.Parse(inspect.StdOut)!["checkpoint"]!["files"]!.GetValue<int>() > 10);
    }

    [Theory]
    [InlineData("--arch", "llama", "--arch: unknown architecture \"llama\"; expected one of mixtral, qwen2_moe, qwen3_moe")]
    [InlineData("--preset", "huge", "--preset: unknown preset \"huge\"; expected one of tiny, demo, bench")]
    [InlineData("--dtype", "f8", "--dtype: unknown dtype \"f8\"")]
    [InlineData("--router-skew", "-1", "--router-skew: must be a finite number of at least 0")]
    [InlineData("--seed", "abc", "--seed")]
    [InlineData("--max-shard-mb", "0", "--max-shard-mb: must be positive")]
    public async Task Init_BadArgument_FailsNamingTheArgument(string option, string value, string expected)
    {
        var args = new List<string> { "model", "init", "--arch", "mixtral", "--out", Folder("bad") };
        var existing = args.IndexOf(option);
        if (existing >= 0)
        {
            args[existing + 1] = value;
        }
        else
        {
            args.AddRange([option, value]);
        }

        var result = await CliProcess.RunAsync([.. args]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(expected, result.StdErr + result.StdOut);
        Assert.False(File.Exists(Path.Combine(Folder("bad"), "model.safetensors")));
    }

    [Fact]
    public async Task Init_WithoutOut_FailsNamingOut()
    {
        var result = await CliProcess.RunAsync("model", "init", "--arch", "mixtral");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--out", result.StdErr);
    }

    [Fact]
    public async Task Init_OutUnderAFile_FailsNamingOut()
    {
        var file = Folder("plain-file");
        await File.WriteAllTextAsync(file, "not a folder");

        var result = await CliProcess.RunAsync("model", "init", "--arch", "mixtral", "--out", Path.Combine(file, "model"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--out: cannot write the checkpoint", result.StdErr);
    }

    [Fact]
    public async Task Inspect_MissingFolder_FailsNamingIt()
    {
        var result = await CliProcess.RunAsync("model", "inspect", Folder("nothing-here"));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("nothing-here\" not found", result.StdErr);
    }

    [Fact]
    public async Task Inspect_TruncatedWeights_FailsNamingFileAndTensor()
    {
        var folder = Folder("truncated");
        var init = await CliProcess.RunAsync("model", "init", "--arch", "mixtral", "--out", folder);
        Assert.True(init.ExitCode == 0, init.StdErr);
        var weights = Path.Combine(folder, "model.safetensors");
        using (var stream = new FileStream(weights, FileMode.Open))
        {
            stream.SetLength(stream.Length - 100);
        }

        var result = await CliProcess.RunAsync("model", "inspect", folder);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(weights, result.StdErr);
        Assert.Contains("truncated file: tensor", result.StdErr);
    }
}
