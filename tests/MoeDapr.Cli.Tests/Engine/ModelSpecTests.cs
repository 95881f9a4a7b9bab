using MoeDapr.Cli.Commands;
using MoeDapr.Model;

namespace MoeDapr.Cli.Tests.Engine;

public sealed class ModelSpecTests
{
    [Fact]
    public void TryParse_Folder_KeepsThePathAndIsNotRandom()
    {
        Assert.True(ModelSpec.TryParse("models/tiny", ModelPreset.Tiny, out var spec, out _));

        Assert.False(spec.IsRandom);
        Assert.Equal("models/tiny", spec.Folder);
    }

    [Theory]
    [InlineData(ModelPreset.Tiny)]
    [InlineData(ModelPreset.Bench)]
    public void TryParse_RandomWithoutPreset_TakesTheContextDefault(ModelPreset defaultPreset)
    {
        Assert.True(ModelSpec.TryParse("random:mixtral", defaultPreset, out var spec, out _));

        Assert.True(spec.IsRandom);
        Assert.Equal("mixtral", spec.ModelType);
        Assert.Equal(ModelConfig.SupportedModelTypes["mixtral"], spec.Family);
        Assert.Equal(defaultPreset, spec.Preset);
    }

    [Fact]
    public void TryParse_RandomWithPreset_OverridesTheDefault()
    {
        Assert.True(ModelSpec.TryParse("random:qwen3_moe:demo", ModelPreset.Bench, out var spec, out _));

        Assert.Equal("qwen3_moe", spec.ModelType);
        Assert.Equal(ModelPreset.Demo, spec.Preset);
    }

    [Fact]
    public void DefaultPresets_DifferPerContext()
    {
        Assert.Equal(ModelPreset.Tiny, ModelSpec.EngineDefaultPreset);
        Assert.Equal(ModelPreset.Bench, ModelSpec.ServingBenchDefaultPreset);
    }

    [Theory]
    [InlineData("random:")]
    [InlineData("random:gpt2")]
    [InlineData("random:mixtral:huge")]
    [InlineData("random:mixtral:tiny:extra")]
    public void TryParse_BadRandomSpec_NamesTheArgumentAndTheChoices(string text)
    {
        Assert.False(ModelSpec.TryParse(text, ModelPreset.Tiny, out _, out var error, "--model"));

        Assert.StartsWith("--model: ", error, StringComparison.Ordinal);
        Assert.Contains(text, error, StringComparison.Ordinal);
        Assert.Contains(string.Join(", ", ModelPresets.PresetNames), error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_Empty_NamesTheArgument()
    {
        Assert.False(ModelSpec.TryParse("", ModelPreset.Tiny, out _, out var error, "--model"));

        Assert.StartsWith("--model: ", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("logits", "--tokens", "5")]
    [InlineData("bench", "serving")]
    public async Task Command_BadRandomSpec_ExitsWithUsageErrorNamingModel(params string[] args)
    {
        var (code, stdout, stderr) = await CliProcess.RunAsync([.. args, "--model", "random:mixtral:huge"]);

        Assert.Equal(2, code);
        Assert.DoesNotContain("Model ", stdout, StringComparison.Ordinal);
        Assert.Contains("--model: \"random:mixtral:huge\"", stderr, StringComparison.Ordinal);
    }
}
