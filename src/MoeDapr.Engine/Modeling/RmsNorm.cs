using static TorchSharp.torch;

namespace MoeDapr.Engine.Modeling;

/// <summary>RMSNorm as transformers computes it: variance in fp32, then weight * x.to(input dtype).</summary>
internal sealed class RmsNorm(Tensor weight, double eps) : IDisposable
{
    public Tensor Weight => weight;

    public Tensor Forward(Tensor x)
    {
        if (x.dtype == ScalarType.Float32)
        {
            return weight * (x * (x.square().mean([-1], keepdim: true) + eps).rsqrt());
        }

        var x32 = x.to(ScalarType.Float32);
        var normed = x32 * (x32.square().mean([-1], keepdim: true) + eps).rsqrt();
        return weight * normed.to(x.dtype);
    }

    public void Dispose() => weight.Dispose();
}
