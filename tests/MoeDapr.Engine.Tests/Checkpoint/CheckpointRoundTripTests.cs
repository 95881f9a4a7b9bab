using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using MoeDapr.Engine.Checkpoint;
using MoeDapr.Model;
using TorchSharp;

namespace MoeDapr.Engine.Tests.Checkpoint;

public sealed class CheckpointRoundTripTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static void AssertSameTensors(ModelConfig config, IReadOnlyDictionary<string, torch.Tensor> expected, IWeightSource source, torch.ScalarType storedAs)
    {
        foreach (var spec in CheckpointSchema.ExpectedTensors(config))
        {
            using var loaded = source.Load(spec, torch.float32, torch.CPU);
            using var reference = expected[spec.Name].to(storedAs).to(torch.float32);
            Assert.True(loaded.shape.SequenceEqual(spec.Shape), spec.Name);
            Assert.True(reference.equal(loaded).all().item<bool>(), $"{spec.Name} differs after the round trip");
        }
    }

    [Theory]
    [InlineData(ModelFamily.Mixtral)]
    [InlineData(ModelFamily.Qwen2Moe)]
    [InlineData(ModelFamily.Qwen3Moe)]
    public void WriteRandom_ThenOpen_GivesTheSameTensors(ModelFamily family)
    {
        var config = CheckpointWriter.WriteRandom(_dir.Path, new RandomCheckpointOptions { Family = family, Seed = 7 });
        var expected = RandomWeights.Create(config, new RandomWeightOptions { Seed = 7 });
        try
        {
            using var checkpoint = CheckpointLoader.Open(_dir.Path);

            Assert.Equal(config, checkpoint.Config with { MlpOnlyLayers = config.MlpOnlyLayers, EosTokenIds = config.EosTokenIds });
            Assert.Equal(CheckpointSchema.ExpectedTensors(config).Count, checkpoint.Weights.Names.Count);
            AssertSameTensors(config, expected, checkpoint.Weights, torch.float32);
        }
        finally
        {
            foreach (var tensor in expected.Values)
            {
                tensor.Dispose();
            }
        }
    }

    [Fact]
    public void WriteRandom_BF16Sharded_LoadsBFloat16ValuesFromEveryShard()
    {
        var options = new RandomCheckpointOptions { Family = ModelFamily.Qwen2Moe, Dtype = "BF16", MaxShardBytes = 64 * 1024, Seed = 3 };
        var config = CheckpointWriter.WriteRandom(_dir.Path, options);
        var expected = RandomWeights.Create(config, new RandomWeightOptions { Seed = 3 });
        try
        {
            using var checkpoint = CheckpointLoader.Open(_dir.Path);

            Assert.False(File.Exists(_dir.File("model.safetensors")));
            Assert.True(checkpoint.Weights.Files.Count > 1);
            Assert.Equal(["BF16"], checkpoint.Weights.Dtypes);
            Assert.Equal("bfloat16", checkpoint.Config.TorchDtype);
            AssertSameTensors(config, expected, checkpoint.Weights, torch.bfloat16);

            var index = JsonNode.Parse(File.ReadAllText(_dir.File(SafetensorsWeightSource.IndexFileName)))!;
            Assert.Equal(checkpoint.Weights.TotalTensorBytes, index["metadata"]!["total_size"]!.GetValue<long>());
        }
        finally
        {
            foreach (var tensor in expected.Values)
            {
                tensor.Dispose();
            }
        }
    }

    [Fact]
    public void WriteWeights_File_HasPaddedHeaderWithPyTorchMetadataAsHuggingFaceWrites()
    {
        using var tensor = torch.arange(6, dtype: torch.float32).reshape(2, 3);
        CheckpointWriter.WriteWeights(_dir.Path, [SafetensorsWriteEntry.FromTensor("t", tensor, "BF16")]);

        var bytes = File.ReadAllBytes(_dir.File("model.safetensors"));
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var header = Encoding.UTF8.GetString(bytes, 8, headerLength);

        Assert.Equal(0, (8 + headerLength) % 8);
        Assert.Equal("""{"__metadata__":{"format":"pt"},"t":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]}}""", header.TrimEnd(' '));
        Assert.Equal(8 + headerLength + 12, bytes.Length);
        // bfloat16 of 1.0 is 0x3F80, stored little-endian.
        Assert.Equal(new byte[] { 0x80, 0x3F }, bytes[(8 + headerLength + 2)..(8 + headerLength + 4)]);
    }

    private (ModelConfig Config, Dictionary<string, torch.Tensor> Tensors) TinyCheckpoint()
    {
        var config = CheckpointWriter.WriteRandom(_dir.Path, new RandomCheckpointOptions { Family = ModelFamily.Mixtral });
        return (config, RandomWeights.Create(config));
    }

    private void Rewrite(ModelConfig config, Dictionary<string, torch.Tensor> tensors, Func<IEnumerable<SafetensorsWriteEntry>, IEnumerable<SafetensorsWriteEntry>> edit)
    {
        var entries = CheckpointSchema.ExpectedTensors(config).Select(s => SafetensorsWriteEntry.FromTensor(s.Name, tensors[s.Name], "F32"));
        CheckpointWriter.WriteWeights(_dir.Path, edit(entries).ToArray());
    }

    [Fact]
    public void Open_MissingTensor_NamesFileAndTensor()
    {
        var (config, tensors) = TinyCheckpoint();
        const string missing = "model.layers.1.block_sparse_moe.experts.3.w2.weight";
        Rewrite(config, tensors, entries => entries.Where(e => e.Name != missing));

        var error = Assert.Throws<ModelFormatException>(() => CheckpointLoader.Open(_dir.Path));

        Assert.Contains(_dir.File("model.safetensors"), error.Message);
        Assert.Contains($"missing tensor {missing} (expected shape [64, 32])", error.Message);
    }

    [Fact]
    public void Open_ExtraTensor_NamesFileAndTensor()
    {
        var (config, tensors) = TinyCheckpoint();
        Rewrite(config, tensors, entries => entries.Append(SafetensorsWriteEntry.FromBytes("model.layers.0.self_attn.extra.weight", "F32", [1], new byte[4])));

        var error = Assert.Throws<ModelFormatException>(() => CheckpointLoader.Open(_dir.Path));

        Assert.Contains(_dir.File("model.safetensors"), error.Message);
        Assert.Contains("unexpected tensor model.layers.0.self_attn.extra.weight", error.Message);
    }

    [Fact]
    public void Open_RotaryInverseFrequencyBuffer_IsTolerated()
    {
        var (config, tensors) = TinyCheckpoint();
        Rewrite(config, tensors, entries => entries.Append(SafetensorsWriteEntry.FromBytes("model.layers.0.self_attn.rotary_emb.inv_freq", "F32", [1], new byte[4])));

        using var checkpoint = CheckpointLoader.Open(_dir.Path);

        Assert.Equal(CheckpointSchema.ExpectedTensors(config).Count + 1, checkpoint.Weights.Names.Count);
    }

    [Fact]
    public void Open_WrongShape_NamesFileTensorAndBothShapes()
    {
        var (config, tensors) = TinyCheckpoint();
        const string name = "model.layers.0.self_attn.k_proj.weight";
        Rewrite(config, tensors, entries => entries.Select(e => e.Name == name ? SafetensorsWriteEntry.FromBytes(name, "F32", [64, 32], new byte[64 * 32 * 4]) : e));

        var error = Assert.Throws<ModelFormatException>(() => CheckpointLoader.Open(_dir.Path));

        Assert.Contains(_dir.File("model.safetensors"), error.Message);
        Assert.Contains($"tensor {name} has shape [64, 32], expected [32, 64]", error.Message);
    }

    [Fact]
    public void Open_UnsupportedDtypeTensor_FailsAtOpenNotAtLoad()
    {
        var (config, tensors) = TinyCheckpoint();
        Rewrite(config, tensors, entries => entries.Select(e => e.Name == CheckpointSchema.FinalNorm ? SafetensorsWriteEntry.FromBytes(e.Name, "F64", [64], new byte[64 * 8]) : e));

        var error = Assert.Throws<ModelFormatException>(() => CheckpointLoader.Open(_dir.Path));

        Assert.Contains($"tensor {CheckpointSchema.FinalNorm} has unsupported dtype \"F64\"", error.Message);
    }

    [Fact]
    public void Open_BothSingleFileAndIndex_PrefersSingleFileAsTransformersDoes()
    {
        var (config, tensors) = TinyCheckpoint();
        File.WriteAllText(_dir.File(SafetensorsWeightSource.IndexFileName), """{"weight_map":{"x":"nowhere.safetensors"}}""");

        using var checkpoint = CheckpointLoader.Open(_dir.Path);

        Assert.Single(checkpoint.Weights.Files);
        foreach (var tensor in tensors.Values)
        {
            tensor.Dispose();
        }

        Assert.NotNull(config);
    }

    [Fact]
    public void Open_GenerationConfig_OverridesEosFromConfigJson()
    {
        CheckpointWriter.WriteRandom(_dir.Path, new RandomCheckpointOptions { Family = ModelFamily.Qwen3Moe });

        using var checkpoint = CheckpointLoader.Open(_dir.Path);

        // config.json names <|endoftext|> only; generation_config.json adds <|im_end|> first, as Qwen chat checkpoints do.
        Assert.Equal([509], checkpoint.Config.EosTokenIds);
        Assert.Equal([511, 509], checkpoint.Generation.EosTokenIds);
        Assert.Equal(509, checkpoint.Generation.PadTokenId);
    }
}
