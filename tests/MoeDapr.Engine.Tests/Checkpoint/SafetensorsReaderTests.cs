using MoeDapr.Engine.Checkpoint;
using MoeDapr.Model;
using TorchSharp;

namespace MoeDapr.Engine.Tests.Checkpoint;

public sealed class SafetensorsReaderTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string WriteFile(string name, byte[] bytes)
    {
        var path = _dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static float[] ToFloats(torch.Tensor tensor)
    {
        using var f = tensor.to(torch.float32).contiguous();
        return f.data<float>().ToArray();
    }

    [Fact]
    public void Load_F32Tensor_ReturnsExactValuesAndShape()
    {
        float[] values = [1.5f, -2.25f, 3.0e-8f, 1234567.9f, float.Epsilon, -0.0f];
        var path = WriteFile("a.safetensors", RawSafetensors.Build(
            """{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}""", RawSafetensors.F32(values)));

        using var file = SafetensorsFile.Open(path);
        using var tensor = file.Load("w", torch.float32, torch.CPU);

        Assert.Equal([2L, 3L], tensor.shape);
        Assert.Equal(torch.float32, tensor.dtype);
        Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), ToFloats(tensor).Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Load_F16Tensor_ConvertsExactlyToFloat32()
    {
        float[] values = [1f, -2.5f, 0.099975586f, 65504f, 6.1035156e-5f, -0.333251953f];
        var path = WriteFile("h.safetensors", RawSafetensors.Build(
            """{"w":{"dtype":"F16","shape":[3,2],"data_offsets":[0,12]}}""", RawSafetensors.F16(values)));

        using var file = SafetensorsFile.Open(path);
        using var tensor = file.Load("w", torch.float32, torch.CPU);

        Assert.Equal([3L, 2L], tensor.shape);
        Assert.Equal(values, ToFloats(tensor));
    }

    [Fact]
    public void Load_BF16Tensor_ConvertsExactlyToFloat32AndKeepsBitsAsBFloat16()
    {
        float[] values = [1f, -2f, 0.5f, 3.140625f, 196608f, -1.1754944e-38f, 0f, -0.0078125f];
        var path = WriteFile("b.safetensors", RawSafetensors.Build(
            """{"w":{"dtype":"BF16","shape":[8],"data_offsets":[0,16]}}""", RawSafetensors.BF16(values)));

        using var file = SafetensorsFile.Open(path);
        using var asFloat = file.Load("w", torch.float32, torch.CPU);
        using var asBf16 = file.Load("w", torch.bfloat16, torch.CPU);

        Assert.Equal(values, ToFloats(asFloat));
        Assert.Equal(torch.bfloat16, asBf16.dtype);
        Assert.Equal(values, ToFloats(asBf16));
    }

    [Fact]
    public void Load_F32TensorAsBFloat16_RoundsLikeTorch()
    {
        float[] values = [1.00390625f, 0.1f, -7.77f];
        var path = WriteFile("r.safetensors", RawSafetensors.Build(
            """{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}""", RawSafetensors.F32(values)));

        using var file = SafetensorsFile.Open(path);
        using var loaded = file.Load("w", torch.bfloat16, torch.CPU);
        using var expected = torch.tensor(values).to(torch.bfloat16);

        Assert.Equal(ToFloats(expected), ToFloats(loaded));
    }

    [Fact]
    public void Load_SeveralTensorsAndScalar_EachReadsItsOwnRange()
    {
        var data = RawSafetensors.F32(1, 2, 3).Concat(RawSafetensors.BF16(4, 5)).Concat(RawSafetensors.F32(6)).ToArray();
        var path = WriteFile("m.safetensors", RawSafetensors.Build(
            """{"c":{"dtype":"F32","shape":[],"data_offsets":[16,20]},"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"b":{"dtype":"BF16","shape":[2,1],"data_offsets":[12,16]},"z":{"dtype":"F16","shape":[0,4],"data_offsets":[20,20]}}""",
            data));

        using var file = SafetensorsFile.Open(path);
        using var a = file.Load("a", torch.float32, torch.CPU);
        using var b = file.Load("b", torch.float32, torch.CPU);
        using var c = file.Load("c", torch.float32, torch.CPU);
        using var z = file.Load("z", torch.float32, torch.CPU);

        Assert.Equal([1f, 2f, 3f], ToFloats(a));
        Assert.Equal([4f, 5f], ToFloats(b));
        Assert.Equal([2L, 1L], b.shape);
        Assert.Empty(c.shape);
        Assert.Equal(6f, c.item<float>());
        Assert.Equal([0L, 4L], z.shape);
    }

    [Fact]
    public void Load_TensorInsideCallersDisposeScope_SurvivesTheScope()
    {
        var path = WriteFile("s.safetensors", RawSafetensors.Build(
            """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", RawSafetensors.F32(7, 8)));
        using var file = SafetensorsFile.Open(path);

        torch.Tensor tensor;
        using (torch.NewDisposeScope())
        {
            tensor = file.Load("w", torch.float32, torch.CPU);
        }

        using (tensor)
        {
            Assert.Equal([7f, 8f], ToFloats(tensor));
        }
    }

    [Fact]
    public void OpenUnchecked_ShardedIndex_ReadsTensorsFromEveryShard()
    {
        WriteFile("model-00001-of-00002.safetensors", RawSafetensors.Build(
            """{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", RawSafetensors.F32(1, 2)));
        WriteFile("model-00002-of-00002.safetensors", RawSafetensors.Build(
            """{"y":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]},"z":{"dtype":"F16","shape":[1],"data_offsets":[2,4]}}""",
            RawSafetensors.BF16(3).Concat(RawSafetensors.F16(4)).ToArray()));
        WriteFile(SafetensorsWeightSource.IndexFileName, System.Text.Encoding.UTF8.GetBytes(
            """{"metadata":{"total_size":12},"weight_map":{"x":"model-00001-of-00002.safetensors","y":"model-00002-of-00002.safetensors","z":"model-00002-of-00002.safetensors"}}"""));

        using var source = SafetensorsWeightSource.OpenUnchecked(_dir.Path);
        using var y = source.Load(new TensorSpec("y", [1]), torch.float32, torch.CPU);
        using var x = source.Load(new TensorSpec("x", [2]), torch.float32, torch.CPU);
        using var z = source.Load(new TensorSpec("z", [1]), torch.float32, torch.CPU);

        Assert.Equal(["x", "y", "z"], source.Names.Order());
        Assert.Equal(2, source.Files.Count);
        Assert.Equal([1f, 2f], ToFloats(x));
        Assert.Equal([3f], ToFloats(y));
        Assert.Equal([4f], ToFloats(z));
    }

    [Fact]
    public void Load_ShapeDiffersFromSpec_NamesFileAndTensor()
    {
        var path = WriteFile("model.safetensors", RawSafetensors.Build(
            """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", RawSafetensors.F32(1, 2)));
        using var source = SafetensorsWeightSource.OpenUnchecked(_dir.Path);

        var error = Assert.Throws<ModelFormatException>(() => source.Load(new TensorSpec("w", [1, 2]), torch.float32, torch.CPU));

        Assert.Contains(path, error.Message);
        Assert.Contains("tensor w has shape [2], expected [1, 2]", error.Message);
    }

    public static TheoryData<string, byte[], string> CorruptFiles()
    {
        var ok = RawSafetensors.F32(1, 2);
        return new TheoryData<string, byte[], string>
        {
            { "too short for length", [1, 2, 3], "too few for the 8-byte header length" },
            { "length past end", BitConverter.GetBytes(4096L).Concat("{}      "u8.ToArray()).ToArray(), "header length 4096 runs past the end of the file" },
            { "length above limit", BitConverter.GetBytes(200_000_000L).Concat(new byte[16]).ToArray(), "above the 100000000-byte limit" },
            { "invalid json", RawSafetensors.Build("""{"w":{"dtype":"F32",""", ok), "invalid JSON" },
            { "not an object", RawSafetensors.Build("[1,2]", ok), "not a JSON object" },
            { "missing offsets", RawSafetensors.Build("""{"w":{"dtype":"F32","shape":[2]}}""", ok), "tensor w: missing \"data_offsets\"" },
            { "negative dimension", RawSafetensors.Build("""{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", ok), "tensor w: shape must hold non-negative integers" },
            { "span disagrees with shape", RawSafetensors.Build("""{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", ok), "tensor w: data_offsets [0, 8] span 8 bytes but F32 [3] needs 12" },
            { "end before begin", RawSafetensors.Build("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", ok), "tensor w: data_offsets [8, 0] end before they begin" },
            {
                "overlapping offsets",
                RawSafetensors.Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", ok),
                "tensor b data_offsets [4, 8] overlap tensor a [0, 8]"
            },
            { "gap", RawSafetensors.Build("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", ok), "tensor w starts at 4, leaving a gap" },
            { "out of range", RawSafetensors.Build("""{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", ok), "truncated file: tensor w needs data bytes [0, 16) but the data section holds only 8 bytes" },
            { "trailing bytes", RawSafetensors.Build("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", ok), "the tensors cover 4 bytes but the data section holds 8" },
            { "unknown dtype", RawSafetensors.Build("""{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}""", ok), "tensor w has unsupported dtype \"Q4\"" },
            { "duplicate tensor", RawSafetensors.Build("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", ok), "tensor w is listed twice" },
        };
    }

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public void Open_CorruptFile_ThrowsNamingFileAndDefect(string caseName, byte[] bytes, string expected)
    {
        var path = WriteFile("model.safetensors", bytes);

        var error = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path));

        Assert.True(error.Message.Contains(path, StringComparison.Ordinal), $"{caseName}: {error.Message}");
        Assert.True(error.Message.Contains(expected, StringComparison.Ordinal), $"{caseName}: {error.Message}");
    }

    [Fact]
    public void Open_TruncatedCopyOfValidFile_ReportsTruncationAndTensor()
    {
        var full = RawSafetensors.Build(
            """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""",
            RawSafetensors.F32(1, 2, 3, 4));
        var path = WriteFile("model.safetensors", full[..^3]);

        var error = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("truncated file: tensor b", error.Message);
    }

    [Fact]
    public void Load_UnsupportedDtype_NamesFileTensorAndSupportedDtypes()
    {
        var path = WriteFile("model.safetensors", RawSafetensors.Build(
            """{"w":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}""", new byte[8]));
        using var source = SafetensorsWeightSource.OpenUnchecked(_dir.Path);

        var error = Assert.Throws<ModelFormatException>(() => source.Load(new TensorSpec("w", [1]), torch.float32, torch.CPU));

        Assert.Contains(path, error.Message);
        Assert.Contains("tensor w has unsupported dtype \"I64\" (supported: F32, F16, BF16)", error.Message);
    }

    [Fact]
    public void OpenUnchecked_IndexNamesMissingShard_NamesIndexShardAndTensor()
    {
        WriteFile("model-00001-of-00002.safetensors", RawSafetensors.Build(
            """{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", RawSafetensors.F32(1, 2)));
        var index = WriteFile(SafetensorsWeightSource.IndexFileName, System.Text.Encoding.UTF8.GetBytes(
            """{"weight_map":{"x":"model-00001-of-00002.safetensors","y":"model-00002-of-00002.safetensors"}}"""));

        var error = Assert.Throws<ModelFormatException>(() => SafetensorsWeightSource.OpenUnchecked(_dir.Path));

        Assert.Contains(index, error.Message);
        Assert.Contains("shard model-00002-of-00002.safetensors (holding tensor y) not found", error.Message);
    }

    [Fact]
    public void OpenUnchecked_IndexMapsTensorToShardWithoutIt_NamesTensor()
    {
        WriteFile("model-00001-of-00001.safetensors", RawSafetensors.Build(
            """{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", RawSafetensors.F32(1, 2)));
        WriteFile(SafetensorsWeightSource.IndexFileName, System.Text.Encoding.UTF8.GetBytes(
            """{"weight_map":{"x":"model-00001-of-00001.safetensors","ghost":"model-00001-of-00001.safetensors"}}"""));

        var error = Assert.Throws<ModelFormatException>(() => SafetensorsWeightSource.OpenUnchecked(_dir.Path));

        Assert.Contains("tensor ghost is mapped to model-00001-of-00001.safetensors", error.Message);
    }

    [Fact]
    public void OpenUnchecked_IndexWithInvalidJson_NamesIndex()
    {
        var index = WriteFile(SafetensorsWeightSource.IndexFileName, "{\"weight_map\": {"u8.ToArray());

        var error = Assert.Throws<ModelFormatException>(() => SafetensorsWeightSource.OpenUnchecked(_dir.Path));

        Assert.Contains(index, error.Message);
        Assert.Contains("invalid JSON", error.Message);
    }

    [Fact]
    public void OpenUnchecked_FolderWithoutWeights_SaysWhatIsMissing()
    {
        var error = Assert.Throws<ModelFormatException>(() => SafetensorsWeightSource.OpenUnchecked(_dir.Path));

        Assert.Contains("no model.safetensors or model.safetensors.index.json", error.Message);
    }
}
