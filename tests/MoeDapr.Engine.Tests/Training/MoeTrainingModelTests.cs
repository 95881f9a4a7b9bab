using MoeDapr.Engine.Checkpoint;
using MoeDapr.Engine.Training;
using MoeDapr.Model;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Tests.Training;

public sealed class MoeTrainingModelTests
{
    public static TheoryData<string> Families => new("qwen3_moe", "mixtral");

    [Theory]
    [MemberData(nameof(Families))]
    public void CheckpointTensors_AreExactlyTheSchemaOfTheConfig(string family)
    {
        var config = TinyModels.Config(family);
        using var model = MoeTrainingModel.Create(config, seed: 3);

        var tensors = model.CheckpointTensors();

        var expected = CheckpointSchema.ExpectedTensors(config);
        Assert.Equal(expected.Select(s => s.Name).Order(StringComparer.Ordinal), tensors.Keys.Order(StringComparer.Ordinal));
        Assert.All(expected, spec => Assert.Equal(spec.Shape, tensors[spec.Name].shape));
        // Every trainable parameter is saved (none is left out of the checkpoint), and none twice.
        Assert.Equal(model.parameters().Count(), tensors.Count);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public async Task Forward_OnTheEnginesWeights_EqualsTheEngineLogits(string family)
    {
        // The tests' tiny configs cover tied embeddings, a dense layer and qk-norm (qwen3_moe) and GQA (both).
        var config = TinyModels.Config(family);
        var weights = TinyModels.Weights(config);
        using var model = MoeTrainingModel.Create(config, seed: 1);
        model.LoadFrom(new InMemoryWeightSource(weights));
        await using var engine = await InferenceEngine.CreateAsync(TinyModels.Options(), config, new InMemoryWeightSource(weights));
        var prompt = TinyModels.Prompt(23, salt: 2);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var all = model.forward(tensor(prompt.Select(t => (long)t).ToArray()).view(1, -1)); // [1, T, vocab]
        foreach (var length in new[] { 1, 8, 23 })
        {
            var expected = all[0, length - 1].data<float>().ToArray();
            var actual = await engine.LogitsAsync(prompt[..length]);
            var scale = expected.Max(Math.Abs);
            Assert.True(EngineTestExtensions.MaxAbsDiff(expected, actual) < 1e-4 * (1 + scale), $"length {length}: max diff {EngineTestExtensions.MaxAbsDiff(expected, actual)}");
        }
    }

    [Fact]
    public void Forward_LaterTokens_DoNotChangeEarlierLogits()
    {
        var config = TinyModels.Config("mixtral");
        using var model = MoeTrainingModel.Create(config, seed: 5);
        model.LoadFrom(new InMemoryWeightSource(TinyModels.Weights(config)));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        var shortRun = model.forward(tensor(new long[] { 4, 8, 15 }).view(1, -1));
        var longRun = model.forward(tensor(new long[] { 4, 8, 15, 16, 23, 42 }).view(1, -1));

        Assert.True(longRun.narrow(1, 0, 3).allclose(shortRun, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void Create_SameSeed_SameWeights_OtherSeed_OtherWeights()
    {
        var config = TinyModels.Config("qwen3_moe");
        using var a = MoeTrainingModel.Create(config, seed: 9);
        using var b = MoeTrainingModel.Create(config, seed: 9);
        using var c = MoeTrainingModel.Create(config, seed: 10);

        Assert.All(a.CheckpointTensors(), kv => Assert.True(kv.Value.allclose(b.CheckpointTensors()[kv.Key], rtol: 0, atol: 0)));
        Assert.False(a.CheckpointTensors()[CheckpointSchema.Embedding].allclose(c.CheckpointTensors()[CheckpointSchema.Embedding], rtol: 0, atol: 0));
    }
}
