using System.IO.Pipelines;

namespace MoeDapr.Decode;

/// <summary>
/// The caller's end of a decode stream closed (the connection reset or the response completed) before the request's
/// own cancellation was signalled: the caller is gone just the same.
/// </summary>
public sealed class DecodeStreamClosedException(Exception? inner)
    : IOException("the caller closed the decode stream", inner);
