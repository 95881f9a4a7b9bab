using static TorchSharp.torch;

namespace MoeDapr.Engine.Modeling;

/// <summary>The feed-forward part of a decoder layer: a dense MLP or a mixture of experts.</summary>
internal interface IFeedForwardLayer : IDisposable
{
    /// <summary><paramref name="x"/>: [T, hidden] (normed); returns [T, hidden].</summary>
    Tensor Forward(Tensor x);
}
