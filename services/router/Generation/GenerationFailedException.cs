namespace MoeDapr.Router.Generation;

/// <summary>The stream failed after tokens reached the client, so it cannot be retried.</summary>
public sealed class GenerationFailedException(string message, Exception? inner = null) : Exception(message, inner);
