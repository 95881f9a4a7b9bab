namespace MoeDapr.Contracts;

/// <summary>
/// Method paths the workers serve through Dapr service invocation
/// (<c>POST /v1.0/invoke/{appId}/method/{path}</c>, or <c>POST /{path}</c> with header <c>dapr-app-id</c>).
/// </summary>
public static class WorkerMethods
{
    /// <summary>Prefill: body <see cref="PrefillBatchRequest"/>, answer <see cref="PrefillBatchResponse"/> (JSON).</summary>
    public const string PrefillBatch = "prefill/batch";

    /// <summary>
    /// Decode: body <see cref="DecodeRequest"/>, answer a streamed <see cref="DecodeStream.ContentType"/> body of
    /// <see cref="DecodeStreamEvent"/> lines. Closing the call aborts the sequence and frees its KV blocks and batch slot.
    /// </summary>
    public const string DecodeGenerate = "decode/generate";

    /// <summary>Decode: body <see cref="AbortRequest"/>, answer 204 whether or not the sequence was still running.</summary>
    public const string DecodeAbort = "decode/abort";

    /// <summary>Every service: 200 when it can take work (ServiceDefaults maps it).</summary>
    public const string Ready = "health/ready";
}
