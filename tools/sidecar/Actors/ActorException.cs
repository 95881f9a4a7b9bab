namespace MoeDapr.Sidecar.Actors;

/// <summary>An actor call that cannot be served; maps to daprd's error body.</summary>
public sealed class ActorException(int statusCode, string errorCode, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;

    public string ErrorCode { get; } = errorCode;
}
