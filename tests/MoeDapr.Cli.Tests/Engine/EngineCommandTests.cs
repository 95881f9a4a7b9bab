using System.Text.Json;
using MoeDapr.Cli.Tests.Eplb;

namespace MoeDapr.Cli.Tests.Engine;

public sealed class EngineCommandTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("moedapr-engine-cli-").FullName;

    private string ModelDir => Path.Combine(_folder, "model");

    public async Task InitializeAsync()
    {
        var (code, _, stderr) = await EplbCommandTests.RunProcessAsync("model", "init", "--arch", "qwen3_moe", "--preset", "tiny", "--out", ModelDir);
        Assert.True(code == 0, stderr);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Logits_CheckpointFolder_PrintsOneFiniteLogitPerVocabularyEntry()
    {
        var (code, stdout, stderr) = await EplbCommandTests.RunProcessAsync("logits", "--model", ModelDir, "--tokens", "5,17,42");

        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var logits = json.RootElement.GetProperty("logits").EnumerateArray().Select(x => x.GetSingle()).ToArray();
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(ModelDir, "config.json")));
        Assert.Equal(config.RootElement.GetProperty("vocab_size").GetInt32(), logits.Length);
        Assert.All(logits, x => Assert.True(float.IsFinite(x)));
        Assert.True(logits.Distinct().Count() > 1);
    }

    [Fact]
    public async Task Generate_SameSeedAndExpertParallelSizes_PrintSameTokens()
    {
        string[] args = ["generate", "--model", ModelDir, "--tokens", "5,17,42", "--max-tokens", "6", "--temperature", "0.8", "--seed", "11"];

        var single = await EplbCommandTests.RunProcessAsync(args);
        var sharded = await EplbCommandTests.RunProcessAsync([.. args, "--ep", "2"]);

        Assert.True(single.Code == 0, single.Stderr);
        Assert.True(sharded.Code == 0, sharded.Stderr);
        using var a = JsonDocument.Parse(single.Stdout);
        using var b = JsonDocument.Parse(sharded.Stdout);
        var tokens = a.RootElement.GetProperty("tokens").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        Assert.InRange(tokens.Length, 1, 6); // fewer when the model samples its EOS
        Assert.Equal(tokens.Length == 6 ? "length" : "stop", a.RootElement.GetProperty("finish_reason").GetString());
        Assert.Equal(tokens, b.RootElement.GetProperty("tokens").EnumerateArray().Select(x => x.GetInt32()));
    }

    [Theory]
    [InlineData("--tokens", "logits", "--tokens", "5,x")]
    [InlineData("--ep", "generate", "--tokens", "5", "--max-tokens", "2", "--ep", "3")]
    [InlineData("--max-tokens", "generate", "--tokens", "5", "--max-tokens", "0")]
    [InlineData("--prompt, --tokens", "generate", "--max-tokens", "2")]
    public async Task EngineCommand_BadArgument_ExitsNonZeroNamingIt(string argument, params string[] args)
    {
        var (code, stdout, stderr) = await EplbCommandTests.RunProcessAsync([args[0], "--model", ModelDir, .. args[1..]]);

        Assert.NotEqual(0, code);
        Assert.Empty(stdout.Trim());
        Assert.Contains(argument, stderr, StringComparison.Ordinal);
    }
}
