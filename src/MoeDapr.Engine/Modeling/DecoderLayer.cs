using static TorchSharp.torch;

namespace MoeDapr.Engine.Modeling;

/// <summary>Pre-norm decoder layer: h = x + attn(norm(x)); out = h + ffn(norm(h)).</summary>
internal sealed class DecoderLayer(RmsNorm attentionNorm, IAttentionLayer attention, RmsNorm feedForwardNorm, IFeedForwardLayer feedForward) : IDisposable
{
    public IFeedForwardLayer FeedForward => feedForward;

    /// <summary>x: [T, hidden] → [T, hidden].</summary>
    public Tensor Forward(Tensor x, StepContext context, Tensor kvLayer)
    {
        var h = x + attention.Forward(attentionNorm.Forward(x), context, kvLayer);
        return h + feedForward.Forward(feedForwardNorm.Forward(h));
    }

    public void Dispose()
    {
        attentionNorm.Dispose();
        attention.Dispose();
        feedForwardNorm.Dispose();
        feedForward.Dispose();
    }
}
