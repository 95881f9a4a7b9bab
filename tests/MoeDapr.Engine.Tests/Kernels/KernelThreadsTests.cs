using System.Text.Json.Nodes;
using MoeDapr.Engine.Checkpoint;
using MoeDapr.Engine.Kernels;
using MoeDapr.Engine.Kv;
using MoeDapr.Engine.Modeling;
using MoeDapr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Tests.Kernels;

public sealed class KernelThreadsTests
{
    [Fact]
    public void Models_WithDifferentKernelThreads_EachKeepsItsOwnAndBothMatchTheReference()
    {
        // A vocabulary wide enough that the LM head's product is split over threads when a model allows two.
        var json = new JsonObject
        {
            ["model_type"] = "mixtral", ["vocab_size"] = 8192, ["hidden_size"] = 64, ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = 4, ["num_key_value_heads"] = 2, ["intermediate_size"] = 48,
            ["num_local_experts"] = 4, ["num_experts_per_tok"] = 2, ["rope_theta"] = 10000.0,
            ["max_position_embeddings"] = 256, ["rms_norm_eps"] = 1e-5,
        };
        var config = ModelConfig.Parse((JsonObject)JsonNode.Parse(json.ToJsonString())!);
        var weights = TinyModels.Weights(config);
        var prompt = TinyModels.Prompt(7);
        using var alone = Build(config, weights, kernelThreads: 1);
        using var split = Build(config, weights, kernelThreads: 2); // built second: must not change the first one's count

        var aloneLogits = Logits(alone, prompt);
        var splitLogits = Logits(split, prompt);

        Assert.Equal(1, alone.Linear.Threads);
        Assert.Equal(2, split.Linear.Threads);
        Assert.Equal(aloneLogits, splitLogits); // the kernel sums in one order whatever the thread split
        var expected = new ReferenceModel(config, weights).Logits(prompt);
        Assert.True(EngineTestExtensions.MaxAbsDiff(expected, splitLogits) < 2e-4, $"max diff {EngineTestExtensions.MaxAbsDiff(expected, splitLogits)}");
    }

    [Fact]
    public void Model_KernelThreadsBelowOne_IsRejected()
    {
        var config = TinyModels.Config("mixtral");

        var error = Assert.Throws<ArgumentException>(() => Build(config, TinyModels.Weights(config), kernelThreads: 0));

        Assert.Contains("kernel threads", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RowLinear(0));
    }

    private static MoeTransformer Build(ModelConfig config, Dictionary<string, Tensor> weights, int kernelThreads) =>
        new(config, new InMemoryWeightSource(weights), new ModelPlacement
        {
            Device = CPU,
            Dtype = ScalarType.Float32,
            RankDevices = [CPU],
            ExpertSlots = config.NumExperts,
            MaxPositions = config.MaxPositionEmbeddings,
            KernelThreads = kernelThreads,
        });

    private static float[] Logits(MoeTransformer model, int[] prompt)
    {
        const int blockSize = 4;
        using var scope = NewDisposeScope();
        using var cache = new PagedKvCache(model.Config, 4, blockSize, ScalarType.Float32, CPU);
        var batch = new ForwardBatch
        {
            Tokens = prompt,
            QueryLengths = [prompt.Length],
            StartPositions = [0],
            BlockTables = [Enumerable.Range(0, (prompt.Length + blockSize - 1) / blockSize).ToArray()],
        };
        return model.Forward(batch, cache).data<float>().ToArray();
    }
}
