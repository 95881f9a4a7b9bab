using MoeDapr.Engine.Training;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Tests.Training;

public sealed class LoadBalancingLossTests
{
    [Fact]
    public void Compute_EqualsTheSwitchFormulaByHand()
    {
        const int experts = 4, topK = 2;
        var random = new Random(3);
        var layers = Enumerable.Range(0, 2).Select(_ => Enumerable.Range(0, 6 * experts).Select(_ => (float)((random.NextDouble() * 4) - 2)).ToArray()).ToArray();

        using var scope = NewDisposeScope();
        var actual = LoadBalancingLoss.Compute(layers.Select(l => tensor(l).view(6, experts)).ToArray(), experts, topK).item<float>();

        // experts · Σ_e (share of (token, slot) picks going to e per slot, summed over slots) · (mean router probability of e).
        var rows = layers.SelectMany(l => l.Chunk(experts)).Select(Softmax).ToArray();
        var picks = new double[topK, experts];
        foreach (var row in rows)
        {
            var order = Enumerable.Range(0, experts).OrderByDescending(e => row[e]).ToArray();
            for (var k = 0; k < topK; k++)
            {
                picks[k, order[k]] += 1.0 / rows.Length;
            }
        }

        double expected = 0;
        for (var e = 0; e < experts; e++)
        {
            var meanProb = rows.Average(r => r[e]);
            for (var k = 0; k < topK; k++)
            {
                expected += picks[k, e] * meanProb;
            }
        }

        Assert.Equal(expected * experts, actual, 1e-5);
    }

    [Fact]
    public void Compute_CollapsedRouting_CostsMoreThanEvenRouting()
    {
        const int experts = 4, topK = 1;
        using var scope = NewDisposeScope();
        // Even: token t strongly prefers expert t % 4. Collapsed: every token strongly prefers expert 0.
        var even = zeros(8, experts);
        var collapsed = zeros(8, experts);
        for (var t = 0; t < 8; t++)
        {
            even[t, t % experts] = tensor(6f);
            collapsed[t, 0] = tensor(6f);
        }

        var evenLoss = LoadBalancingLoss.Compute([even], experts, topK).item<float>();
        var collapsedLoss = LoadBalancingLoss.Compute([collapsed], experts, topK).item<float>();

        Assert.Equal(1.0, evenLoss, 1e-5); // perfectly even routing costs top-k
        Assert.True(collapsedLoss > 3 * evenLoss, $"collapsed {collapsedLoss} vs even {evenLoss}");
    }

    private static double[] Softmax(float[] logits)
    {
        var max = logits.Max();
        var exp = logits.Select(z => Math.Exp(z - max)).ToArray();
        var sum = exp.Sum();
        return exp.Select(x => x / sum).ToArray();
    }
}
