using MoeDapr.Engine.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Tests.Kernels;

public sealed class SmallRowsLinearTests
{
    // (rows, in, out): tails in every direction (rows not a multiple of 4, in not a multiple of 8, out not a multiple of 4).
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 7, 3 },
        { 1, 1024, 37 },
        { 2, 8, 4 },
        { 3, 33, 9 },
        { 4, 64, 16 },
        { 5, 100, 13 },
        { 13, 257, 250 },
        { 32, 1024, 515 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Apply_Shapes_MatchTorchLinear(int rows, int inner, int outputs)
    {
        Assert.True(SmallRowsLinear.IsSupported || !SmallRowsLinear.CanApply(ones(1, 1), ones(1, 1), null));
        if (!SmallRowsLinear.IsSupported)
        {
            return;
        }

        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)((rows * 1000) + outputs));
        var x = randn([rows, inner], generator: generator);
        var weight = randn([outputs, inner], generator: generator) * 0.05;
        var bias = randn([outputs], generator: generator);

        foreach (var b in new[] { null, bias })
        {
            var expected = nn.functional.linear(x, weight, b);
            var actual = SmallRowsLinear.Apply(x, weight, b, threads: 2);

            Assert.Equal(expected.shape, actual.shape);
            Assert.True(actual.is_contiguous());
            Assert.True(MaxAbsDiff(expected, actual) < 1e-4, $"max diff {MaxAbsDiff(expected, actual)}");
        }
    }

    [KernelFact]
    public void Apply_TransposedInputAndWeightView_MatchTorchLinear()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(5);
        var x = randn([40, 6], generator: generator).t(); // [6, 40], not contiguous
        var stacked = randn([3, 21, 40], generator: generator);
        var weight = stacked[2]; // a contiguous view at a storage offset

        Assert.False(x.is_contiguous());
        var expected = nn.functional.linear(x, weight);
        var actual = SmallRowsLinear.Apply(x, weight, null, threads: 2);

        Assert.True(MaxAbsDiff(expected, actual) < 1e-4, $"max diff {MaxAbsDiff(expected, actual)}");
    }

    [KernelFact]
    public void Apply_RowAloneOrInBatchOrOtherThreadCount_GivesBitIdenticalOutput()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(9);
        var x = randn([11, 300], generator: generator);
        var weight = randn([1001, 300], generator: generator);
        var batched = SmallRowsLinear.Apply(x, weight, null, threads: 2);
        var single = SmallRowsLinear.Apply(x, weight, null, threads: 1);

        Assert.True(batched.equal(single).all().item<bool>());
        for (var row = 0; row < 11; row++)
        {
            var alone = SmallRowsLinear.Apply(x.narrow(0, row, 1), weight, null, threads: 2);
            Assert.True(alone.equal(batched.narrow(0, row, 1)).all().item<bool>(), $"row {row} differs alone and in the batch");
        }
    }

    [KernelFact]
    public void GroupedApply_SegmentsWithOwnWeights_EqualPerSegmentApplyBitForBit()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(11);
        long[] rows = [3, 0, 1, 7, 32, 2];
        var weights = randn([rows.Length, 203, 129], generator: generator); // slot views at storage offsets, as experts are held
        var x = randn([rows.Sum(), 129], generator: generator);
        var slots = Enumerable.Range(0, rows.Length).Select(s => weights[s]).ToArray();

        var grouped = SmallRowsLinear.GroupedApply(x, rows, slots, threads: 2);

        Assert.Equal(new long[] { rows.Sum(), 203 }, grouped.shape);
        long start = 0;
        for (var s = 0; s < rows.Length; s++)
        {
            if (rows[s] > 0)
            {
                var segment = x.narrow(0, start, rows[s]);
                var alone = SmallRowsLinear.Apply(segment, slots[s], null, threads: 1);
                Assert.True(alone.equal(grouped.narrow(0, start, rows[s])).all().item<bool>(), $"segment {s} differs from its own product");
                Assert.True(MaxAbsDiff(nn.functional.linear(segment, slots[s]), alone) < 1e-3);
            }

            start += rows[s];
        }
    }

    [Fact]
    public void GroupedApply_RowCountsNotMatchingInput_Throws()
    {
        using var scope = NewDisposeScope();
        var weight = randn(8, 16);

        Assert.Throws<ArgumentException>(() => SmallRowsLinear.GroupedApply(randn(5, 16), [2, 2], [weight, weight], threads: 2));
        Assert.Throws<ArgumentException>(() => SmallRowsLinear.GroupedApply(randn(40, 16), [40], [weight], threads: 2));
        Assert.Throws<ArgumentException>(() => SmallRowsLinear.GroupedApply(randn(4, 16), [2, 2], [weight, randn(9, 16)], threads: 2));
    }

    [Fact]
    public void CanApply_UnsupportedOperands_IsFalseAndApplyThrows()
    {
        using var scope = NewDisposeScope();
        var x = randn(4, 16);
        var weight = randn(8, 16);

        Assert.False(SmallRowsLinear.CanApply(randn(SmallRowsLinear.MaxRows + 1, 16), weight, null));
        Assert.False(SmallRowsLinear.CanApply(x, randn(16, 8).t(), null)); // weight not contiguous
        Assert.False(SmallRowsLinear.CanApply(x.to(ScalarType.Float64), weight.to(ScalarType.Float64), null));
        Assert.False(SmallRowsLinear.CanApply(x, randn(8, 15), null)); // inner sizes differ
        Assert.False(SmallRowsLinear.CanApply(x, weight, randn(7)));
        Assert.False(SmallRowsLinear.CanApply(randn(2, 3, 16), weight, null));
        Assert.Throws<ArgumentException>(() => SmallRowsLinear.Apply(x, randn(8, 15), null, threads: 1));
    }

    private static float MaxAbsDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();
}
