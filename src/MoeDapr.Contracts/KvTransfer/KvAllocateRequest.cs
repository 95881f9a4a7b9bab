namespace MoeDapr.Contracts.KvTransfer;

/// <summary>Asks kv-transfer for staging space. <c>POST kv/allocations</c>.</summary>
/// <param name="SizeBytes">Payload bytes including the 64-byte header; must equal the layout's payload size when a layout is given.</param>
/// <param name="Layout">Block layout of the payload; required when <paramref name="PrefixBlockHashes"/> is given.</param>
/// <param name="PrefixBlockHashes">PrefixBlockHash hex strings (32 hex digits) of the payload's leading full blocks, in order.</param>
/// <param name="Requester">Who asks (app id and instance), for logs and lease diagnostics.</param>
/// <param name="RequesterHost">Host identity of the writer; equal to kv-transfer's host id means shared memory is usable.</param>
/// <param name="PreferredPlane">Force a plane (e.g. Socket for a test); null lets kv-transfer choose.</param>
public sealed record KvAllocateRequest(
    long SizeBytes,
    KvBlockLayout? Layout,
    IReadOnlyList<string>? PrefixBlockHashes,
    string Requester,
    string? RequesterHost = null,
    KvDataPlane? PreferredPlane = null);
