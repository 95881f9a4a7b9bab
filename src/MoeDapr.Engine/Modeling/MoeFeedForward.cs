using MoeDapr.Engine.Checkpoint;
using MoeDapr.Engine.Kernels;
using MoeDapr.Model;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Modeling;

/// <summary>
/// A sparse MoE block: router softmax in fp32 → top-k → optional renormalisation → experts (split over EP
/// ranks by <see cref="ExpertShards"/>), plus qwen2_moe's sigmoid-gated shared expert.
/// </summary>
internal sealed class MoeFeedForward : IFeedForwardLayer
{
    private readonly Tensor _router; // [experts, hidden]
    private readonly int _topK;
    private readonly bool _normalize;
    private readonly GatedMlp? _shared;
    private readonly Tensor? _sharedGate; // [1, hidden]
    private readonly RowLinear _linear;

    public MoeFeedForward(ModelConfig config, int layer, IWeightSource weights, ScalarType dtype, Device device, ExpertShards experts, RowLinear linear)
    {
        _linear = linear;
        var prefix = CheckpointSchema.MoePrefix(config, layer);
        long h = config.HiddenSize;
        _router = weights.Load(new($"{prefix}.gate.weight", [config.NumExperts, h]), dtype, device);
        _topK = config.NumExpertsPerToken;
        _normalize = config.Family == ModelFamily.Mixtral || config.NormTopKProb;
        Experts = experts;
        if (config.SharedExpertIntermediateSize > 0)
        {
            _shared = new GatedMlp(weights, $"{prefix}.shared_expert", h, config.SharedExpertIntermediateSize, dtype, device, linear);
            _sharedGate = weights.Load(new($"{prefix}.shared_expert_gate.weight", [1, h]), dtype, device);
        }
    }

    public ExpertShards Experts { get; }

    /// <summary>Where routing time is added up; null: not timed.</summary>
    public MoeStepTimings? Timings { get; init; }

    public Tensor Forward(Tensor x)
    {
        var routingStart = Timings?.Start() ?? 0;
        var probs = _linear.Apply(x, _router).to(ScalarType.Float32).softmax(-1); // [T, experts]
        var (weights, experts) = probs.topk(_topK, -1);
        if (_normalize)
        {
            weights /= weights.sum(-1, keepdim: true);
        }

        Timings?.AddRouting(routingStart);

        var routed = Experts.Forward(x, weights.to(x.dtype), experts);
        if (_shared is null)
        {
            return routed;
        }

        var gate = _linear.Apply(x, _sharedGate!).sigmoid(); // [T, 1]
        return routed + (gate * _shared.Forward(x));
    }

    public void Dispose()
    {
        _router.Dispose();
        _shared?.Dispose();
        _sharedGate?.Dispose();
        Experts.Dispose();
    }
}
