namespace MoeDapr.Engine;

/// <summary>Thrown when the engine's bounded queue is full; callers should retry later (HTTP 429).</summary>
public sealed class EngineOverloadedException(string message) : Exception(message);
