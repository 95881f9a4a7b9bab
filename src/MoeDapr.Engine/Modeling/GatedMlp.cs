using MoeDapr.Engine.Checkpoint;
using MoeDapr.Engine.Kernels;
using MoeDapr.Model;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Modeling;

/// <summary>down(silu(gate x) * up x) with gate and up fused into one weight; dense layers and shared experts.</summary>
internal sealed class GatedMlp : IFeedForwardLayer
{
    private readonly Tensor _gateUp; // [2 * intermediate, hidden]
    private readonly Tensor _down; // [hidden, intermediate]
    private readonly long _intermediate;
    private readonly RowLinear _linear;

    public GatedMlp(IWeightSource weights, string prefix, long hidden, long intermediate, ScalarType dtype, Device device, RowLinear linear)
    {
        _intermediate = intermediate;
        _linear = linear;
        _gateUp = WeightLoading.Concat(weights, dtype, device, 0,
            new($"{prefix}.gate_proj.weight", [intermediate, hidden]), new($"{prefix}.up_proj.weight", [intermediate, hidden]));
        _down = weights.Load(new($"{prefix}.down_proj.weight", [hidden, intermediate]), dtype, device);
    }

    public Tensor Forward(Tensor x) => Apply(_linear, x, _gateUp, _down, _intermediate);

    /// <summary>x: [n, hidden]; gateUp: [2I, hidden]; down: [hidden, I] → [n, hidden].</summary>
    public static Tensor Apply(RowLinear linear, Tensor x, Tensor gateUp, Tensor down, long intermediate)
    {
        var gu = linear.Apply(x, gateUp); // [n, 2I]
        var act = nn.functional.silu(gu.narrow(1, 0, intermediate)) * gu.narrow(1, intermediate, intermediate);
        return linear.Apply(act, down);
    }

    public void Dispose()
    {
        _gateUp.Dispose();
        _down.Dispose();
    }
}
