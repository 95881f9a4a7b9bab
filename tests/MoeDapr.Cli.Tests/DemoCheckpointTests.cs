using MoeDapr.Cli.Commands;
using MoeDapr.Model;

namespace MoeDapr.Cli.Tests;

public sealed class DemoCheckpointTests
{
    [Fact]
    public void FindTrained_FromTheCheckout_IsTheShippedModelFolder()
    {
        var found = DemoCheckpoint.FindTrained(AppContext.BaseDirectory);

        var root = ServiceBinaries.FindRepositoryRoot(AppContext.BaseDirectory);
        Assert.NotNull(root);
        Assert.Equal(Path.Combine(root, "models", DemoCheckpoint.TrainedName), found);
        var folder = ModelFolder.Load(found!);
        Assert.Equal(ModelFamily.Qwen3Moe, folder.Config.Family);
        Assert.True(folder.HasTokenizer);
    }

    [Fact]
    public void FindTrained_OutsideAnyCheckout_IsNull()
    {
        var empty = Directory.CreateTempSubdirectory("moedapr-no-checkout-");
        try
        {
            Assert.Null(DemoCheckpoint.FindTrained(empty.FullName));
        }
        finally
        {
            empty.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("random:")]
    [InlineData("random:gpt2")]
    [InlineData("random:qwen3_moe:huge")]
    [InlineData("random:qwen3_moe:demo:x")]
    public void ParseUpModel_Malformed_NamesModel(string spec)
    {
        Assert.False(ModelSpec.TryParse(spec, ModelSpec.UpDefaultPreset, out var parsed, out var error));

        Assert.Null(parsed);
        Assert.StartsWith("--model:", error, StringComparison.Ordinal);
    }
}
