using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Training;

/// <summary>RMSNorm with a learnable scale, as transformers' Qwen3MoeRMSNorm / MixtralRMSNorm compute it in fp32.</summary>
internal sealed class TrainableRmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter _weight;
    private readonly double _eps;

    public TrainableRmsNorm(long size, double eps) : base(nameof(TrainableRmsNorm))
    {
        _weight = new Parameter(ones(size));
        _eps = eps;
        RegisterComponents();
    }

    public Parameter Weight => _weight;

    public override Tensor forward(Tensor x) => _weight * (x * (x.square().mean([-1], keepdim: true) + _eps).rsqrt());
}
