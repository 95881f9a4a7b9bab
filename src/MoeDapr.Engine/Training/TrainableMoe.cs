using MoeDapr.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Training;

/// <summary>
/// A sparse MoE block as the engine runs it: router softmax → top-k → renormalisation (Mixtral always, Qwen when
/// <c>norm_topk_prob</c>) → each expert applied to the tokens routed to it, weighted and summed.
/// </summary>
internal sealed class TrainableMoe : nn.Module<Tensor, (Tensor Output, Tensor RouterLogits)>
{
    private readonly Linear _router;
    private readonly ModuleList<TrainableMlp> _experts;
    private readonly int _topK;
    private readonly bool _normalize;

    public TrainableMoe(ModelConfig config) : base(nameof(TrainableMoe))
    {
        _router = nn.Linear(config.HiddenSize, config.NumExperts, hasBias: false);
        _experts = nn.ModuleList(Enumerable.Range(0, config.NumExperts)
            .Select(_ => new TrainableMlp(config.HiddenSize, config.MoeIntermediateSize)).ToArray());
        _topK = config.NumExpertsPerToken;
        _normalize = config.Family == ModelFamily.Mixtral || config.NormTopKProb;
        RegisterComponents();
    }

    public Linear Router => _router;

    public IList<TrainableMlp> Experts => _experts;

    /// <param name="x">[N, hidden]</param>
    /// <returns>The block's output [N, hidden] and the router logits [N, experts] for the load-balancing loss.</returns>
    public override (Tensor Output, Tensor RouterLogits) forward(Tensor x)
    {
        var logits = _router.forward(x); // [N, experts]
        var probs = logits.softmax(-1);
        var (weights, chosen) = probs.topk(_topK, -1); // [N, k] each
        if (_normalize)
        {
            weights = weights / weights.sum(-1, keepdim: true);
        }

        var output = zeros_like(x);
        for (var e = 0; e < _experts.Count; e++)
        {
            var hits = (chosen == e).nonzero(); // [M, 2]: token, slot
            if (hits.shape[0] == 0)
            {
                continue;
            }

            var tokens = hits.select(1, 0);
            var weight = weights.index([tokens, hits.select(1, 1)]).unsqueeze(1); // [M, 1]
            var expertOut = _experts[e].forward(x.index_select(0, tokens)) * weight; // [M, hidden]
            output = output.index_add(0, tokens, expertOut, 1);
        }

        return (output, logits);
    }
}
