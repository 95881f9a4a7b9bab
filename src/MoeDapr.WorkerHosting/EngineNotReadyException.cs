namespace MoeDapr.WorkerHosting;

/// <summary>Thrown when work arrives before the model is loaded (HTTP 503).</summary>
public sealed class EngineNotReadyException(string message) : Exception(message);
