using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Training;

/// <summary>A SwiGLU feed-forward block (one routed expert or a dense MLP): down(silu(gate(x)) * up(x)).</summary>
internal sealed class TrainableMlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear _gate;
    private readonly Linear _up;
    private readonly Linear _down;

    public TrainableMlp(long hidden, long intermediate) : base(nameof(TrainableMlp))
    {
        _gate = nn.Linear(hidden, intermediate, hasBias: false);
        _up = nn.Linear(hidden, intermediate, hasBias: false);
        _down = nn.Linear(intermediate, hidden, hasBias: false);
        RegisterComponents();
    }

    public Linear Gate => _gate;

    public Linear Up => _up;

    public Linear Down => _down;

    public override Tensor forward(Tensor x) => _down.forward(nn.functional.silu(_gate.forward(x)) * _up.forward(x));
}
