using static TorchSharp.torch;

namespace MoeDapr.Engine.Modeling;

/// <summary>The attention part of a decoder layer (grouped-query today; MLA would be another implementation).</summary>
internal interface IAttentionLayer : IDisposable
{
    /// <summary>
    /// Attends the step's new tokens over their sequences' paged context, writing the new keys and values
    /// into <paramref name="kvLayer"/> first. <paramref name="x"/>: [T, hidden] (normed); returns [T, hidden].
    /// </summary>
    Tensor Forward(Tensor x, StepContext context, Tensor kvLayer);
}
