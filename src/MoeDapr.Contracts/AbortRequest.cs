namespace MoeDapr.Contracts;

/// <summary>Body of <see cref="WorkerMethods.DecodeAbort"/>.</summary>
public sealed record AbortRequest(string RequestId);
