using static TorchSharp.torch;

namespace MoeDapr.Engine.Training;

/// <summary>
/// The Switch Transformer / Mixtral auxiliary loss as transformers' <c>load_balancing_loss_func</c> computes it:
/// experts · Σ_e f_e · P_e, with f the fraction of tokens whose k-th choice is e (summed over the k slots) and P
/// the mean router probability. It is smallest (k) when routing is even, so it pushes against expert collapse.
/// </summary>
public static class LoadBalancingLoss
{
    /// <param name="routerLogits">Each MoE layer's router logits, [tokens, experts].</param>
    /// <param name="experts">Routed experts per layer.</param>
    /// <param name="topK">Experts each token goes to.</param>
    public static Tensor Compute(IReadOnlyList<Tensor> routerLogits, int experts, int topK)
    {
        ArgumentNullException.ThrowIfNull(routerLogits);
        if (routerLogits.Count == 0)
        {
            return tensor(0f);
        }

        var logits = cat(routerLogits.ToArray(), 0); // [layers * tokens, experts]
        var probs = logits.softmax(-1);
        var chosen = probs.topk(topK, -1).indexes; // [layers * tokens, k]
        var mask = nn.functional.one_hot(chosen, experts).to(probs.dtype); // [layers * tokens, k, experts]
        var tokensPerExpert = mask.mean([0]); // [k, experts]
        var probPerExpert = probs.mean([0]); // [experts]
        return (tokensPerExpert * probPerExpert.unsqueeze(0)).sum() * experts;
    }
}
