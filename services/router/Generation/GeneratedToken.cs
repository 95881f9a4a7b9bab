using MoeDapr.Contracts;

namespace MoeDapr.Router.Generation;

/// <summary>A generated token with its output index.</summary>
public readonly record struct GeneratedToken(int Index, TokenSample Sample);
