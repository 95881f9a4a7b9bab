using MoeDapr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Training;

/// <summary>One pre-norm decoder layer: x + attn(norm(x)), then h + moe(norm(h)) (or a dense MLP on dense layers).</summary>
internal sealed class TrainableDecoderLayer : nn.Module<Tensor, Tensor, Tensor, (Tensor Output, Tensor? RouterLogits)>
{
    private readonly TrainableRmsNorm _inputNorm;
    private readonly TrainableAttention _attention;
    private readonly TrainableRmsNorm _postAttentionNorm;
    private readonly TrainableMoe? _moe;
    private readonly TrainableMlp? _mlp;

    public TrainableDecoderLayer(ModelConfig config, int layer) : base(nameof(TrainableDecoderLayer))
    {
        _inputNorm = new TrainableRmsNorm(config.HiddenSize, config.RmsNormEps);
        _attention = new TrainableAttention(config);
        _postAttentionNorm = new TrainableRmsNorm(config.HiddenSize, config.RmsNormEps);
        if (config.FeedForwardKindOf(layer) == FeedForwardKind.Moe)
        {
            _moe = new TrainableMoe(config);
        }
        else
        {
            _mlp = new TrainableMlp(config.HiddenSize, config.DenseIntermediateSize);
        }

        RegisterComponents();
    }

    public TrainableRmsNorm InputNorm => _inputNorm;

    public TrainableAttention Attention => _attention;

    public TrainableRmsNorm PostAttentionNorm => _postAttentionNorm;

    public TrainableMoe? Moe => _moe;

    public TrainableMlp? Mlp => _mlp;

    /// <param name="x">[B, T, hidden]</param>
    public override (Tensor Output, Tensor? RouterLogits) forward(Tensor x, Tensor cos, Tensor sin)
    {
        var h = x + _attention.forward(_inputNorm.forward(x), cos, sin);
        var normed = _postAttentionNorm.forward(h);
        if (_mlp is not null)
        {
            return (h + _mlp.forward(normed), null);
        }

        var shape = normed.shape;
        var (output, logits) = _moe!.forward(normed.reshape(-1, shape[^1])); // [B * T, hidden]
        return (h + output.view(shape), logits);
    }
}
