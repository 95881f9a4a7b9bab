using MoeDapr.Contracts.Eplb;

namespace MoeDapr.Decode.Eplb;

/// <summary>Load summed over the windows since the last decision: [layers][experts] token counts and the steps they cover.</summary>
public sealed record PendingLoad(int Ranks, int Slots, int Experts, int[] Layers, double[][] Tokens, long Steps)
{
    public bool HasLoad => Tokens.Any(row => row.Any(t => t > 0));

    public static PendingLoad Empty(ExpertLoadWindow window) =>
        new(window.Ranks, window.Slots, window.Experts, [.. window.Layers], window.Layers.Select(_ => new double[window.Experts]).ToArray(), 0);

    public bool Matches(ExpertLoadWindow window) =>
        Ranks == window.Ranks && Slots == window.Slots && Experts == window.Experts && Layers.SequenceEqual(window.Layers);

    public PendingLoad Add(ExpertLoadWindow window) => this with
    {
        Tokens = Tokens.Select((row, l) => row.Select((t, e) => t + window.Tokens[l][e]).ToArray()).ToArray(),
        Steps = Steps + window.Steps,
    };
}
