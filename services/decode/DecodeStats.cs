namespace MoeDapr.Decode;

/// <summary>Answer of <c>GET decode/stats</c>.</summary>
/// <param name="ActiveCalls">Decode calls whose stream is open.</param>
public sealed record DecodeStats(int ActiveCalls, Engine.EngineStats Engine, IReadOnlyList<LayerLoad> ExpertLoads);
