namespace MoeDapr.Model.Tokenization;

/// <summary>The result of BPE training: tokens in id order (alphabet first, then merged tokens) and the merges by rank.</summary>
public sealed record BpeTrainingResult(IReadOnlyList<string> Tokens, IReadOnlyList<(string Left, string Right)> Merges, bool ReachedTarget);
