using Microsoft.AspNetCore.Http.HttpResults;
using MoeDapr.Contracts.KvTransfer;
using MoeDapr.KvTransfer.DataPlane;

namespace MoeDapr.KvTransfer;

/// <summary>
/// The control API (reached through Dapr invocation: <c>/v1.0/invoke/kv-transfer/method/kv/...</c>). Every refusal is
/// ProblemDetails with its <see cref="KvTransferErrorReason"/> in <see cref="KvTransferRoutes.ReasonMember"/>.
/// </summary>
public static class KvTransferApi
{
    /// <summary>Largest payload one allocation may describe (the JSON size field is a long, but sanity matters).</summary>
    private const long MaxPayloadBytes = 1L << 40;

    public static IEndpointRouteBuilder MapKvTransferApi(this IEndpointRouteBuilder app)
    {
        var kv = app.MapGroup("/kv").WithTags("kv-transfer");
        kv.MapPost("/allocations", Allocate);
        kv.MapGet("/allocations/{handle}", Locate);
        kv.MapPost("/allocations/{handle}/commit", Commit);
        kv.MapPost("/allocations/{handle}/renew", Renew);
        kv.MapDelete("/allocations/{handle}", Release);
        kv.MapPost("/prefix/locate", LocatePrefix);
        return app;
    }

    public static Results<Created<KvAllocateResponse>, ValidationProblem, ProblemHttpResult> Allocate(KvAllocateRequest request, KvBlockStore store)
    {
        var errors = ValidateAllocate(request);
        if (errors.Count > 0)
        {
            return Invalid(errors, "Invalid KV allocation request");
        }

        var result = store.Allocate(request);
        return result.Error switch
        {
            null => TypedResults.Created($"/kv/allocations/{result.Value!.Handle}", result.Value),
            KvTransferErrorReason.Capacity => Refused(result, StatusCodes.Status507InsufficientStorage, "KV staging capacity exhausted"),
            _ => Refused(result, StatusCodes.Status429TooManyRequests, "Too many live KV leases"),
        };
    }

    public static Results<Ok<KvCommitResponse>, ValidationProblem, ProblemHttpResult> Commit(string handle, KvCommitRequest request, KvBlockStore store)
    {
        var errors = new Dictionary<string, string[]>();
        if (!KvHandle.TryParse(handle, out var id))
        {
            errors["handle"] = ["must be 32 hex digits"];
        }

        if (request.BytesWritten < 0)
        {
            errors["bytesWritten"] = ["must not be negative"];
        }

        if (!KvChecksum.TryParseHex(request.Checksum, out var checksum))
        {
            errors["checksum"] = ["must be the XXH3-64 of the payload as 16 hex digits"];
        }

        if (errors.Count > 0)
        {
            return Invalid(errors, "Invalid KV commit request");
        }

        var result = store.Commit(id, request.BytesWritten, checksum);
        return result.Error switch
        {
            null => TypedResults.Ok(result.Value!),
            KvTransferErrorReason.NotFound => Refused(result, StatusCodes.Status404NotFound, "Unknown KV handle"),
            KvTransferErrorReason.WrongState => Refused(result, StatusCodes.Status409Conflict, "KV allocation cannot be committed"),
            _ => Refused(result, StatusCodes.Status422UnprocessableEntity, "KV payload rejected"),
        };
    }

    public static Results<Ok<KvLocation>, ValidationProblem, ProblemHttpResult> Locate(string handle, string? requesterHost, KvBlockStore store) =>
        !KvHandle.TryParse(handle, out var id) ? InvalidHandle()
        : store.Locate(id, requesterHost) is { } location ? TypedResults.Ok(location)
        : UnknownHandle(handle);

    public static Results<Ok<KvLocation>, ValidationProblem, ProblemHttpResult> Renew(string handle, KvRenewRequest? request, KvBlockStore store) =>
        !KvHandle.TryParse(handle, out var id) ? InvalidHandle()
        : store.Renew(id, request?.RequesterHost) is { } location ? TypedResults.Ok(location)
        : UnknownHandle(handle);

    public static Results<NoContent, ValidationProblem, ProblemHttpResult> Release(string handle, KvBlockStore store) =>
        !KvHandle.TryParse(handle, out var id) ? InvalidHandle()
        : store.Release(id) ? TypedResults.NoContent()
        : UnknownHandle(handle);

    public static Results<Ok<KvPrefixLocateResponse>, ValidationProblem> LocatePrefix(KvPrefixLocateRequest request, KvBlockStore store)
    {
        var errors = new Dictionary<string, string[]>();
        ValidateHashes(request.PrefixBlockHashes, required: true, errors);
        return errors.Count > 0
            ? Invalid(errors, "Invalid prefix locate request")
            : TypedResults.Ok(store.LocatePrefix(request.PrefixBlockHashes));
    }

    /// <summary>Checks an allocation request; field names in the answer match the JSON properties.</summary>
    public static Dictionary<string, string[]> ValidateAllocate(KvAllocateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new Dictionary<string, string[]>();
        if (request.SizeBytes is <= 0 or > MaxPayloadBytes)
        {
            errors["sizeBytes"] = [$"must be between 1 and {MaxPayloadBytes}"];
        }

        if (string.IsNullOrWhiteSpace(request.Requester))
        {
            errors["requester"] = ["is required (app id and instance of the caller)"];
        }

        if (request.Layout is { } layout)
        {
            if (layout.Layers <= 0 || layout.KvHeads <= 0 || layout.HeadDim <= 0 || layout.BlockSize <= 0 || layout.Tokens <= 0 || !Enum.IsDefined(layout.Dtype))
            {
                errors["layout"] = ["needs a known dtype and positive layers, kvHeads, headDim, blockSize and tokens"];
            }
            else if (layout.ToHeader().PayloadBytes != request.SizeBytes)
            {
                errors["sizeBytes"] = [$"must equal the layout's payload size, {layout.ToHeader().PayloadBytes} bytes (64-byte header plus blocks)"];
            }
        }

        ValidateHashes(request.PrefixBlockHashes, required: false, errors);
        if (request.PrefixBlockHashes is { Count: > 0 } hashes)
        {
            if (request.Layout is null)
            {
                errors["layout"] = ["is required when prefixBlockHashes are given"];
            }
            else if (request.Layout.BlockSize > 0 && hashes.Count > request.Layout.Tokens / request.Layout.BlockSize)
            {
                errors["prefixBlockHashes"] = [$"has {hashes.Count} hashes but the layout holds only {request.Layout.Tokens / request.Layout.BlockSize} full blocks"];
            }
        }

        return errors;
    }

    private static void ValidateHashes(IReadOnlyList<string>? hashes, bool required, Dictionary<string, string[]> errors)
    {
        if (hashes is null || hashes.Count == 0)
        {
            if (required)
            {
                errors["prefixBlockHashes"] = ["must list at least one hash"];
            }

            return;
        }

        for (var i = 0; i < hashes.Count; i++)
        {
            if (hashes[i] is not { Length: 32 } hash || !hash.All(char.IsAsciiHexDigitLower))
            {
                errors["prefixBlockHashes"] = [$"entry {i} must be a PrefixBlockHash as 32 lowercase hex digits"];
                return;
            }
        }
    }

    private static ValidationProblem InvalidHandle() =>
        Invalid(new Dictionary<string, string[]> { ["handle"] = ["must be 32 hex digits"] }, "Invalid KV handle");

    private static ProblemHttpResult UnknownHandle(string handle) =>
        Problem(KvTransferErrorReason.NotFound, $"no allocation {handle} (released, expired or never made)", StatusCodes.Status404NotFound, "Unknown KV handle");

    private static ValidationProblem Invalid(Dictionary<string, string[]> errors, string title) =>
        TypedResults.ValidationProblem(errors, title: title, extensions: Reason(KvTransferErrorReason.InvalidRequest));

    private static ProblemHttpResult Refused<T>(KvStoreResult<T> result, int status, string title) =>
        Problem(result.Error!.Value, result.Detail, status, title);

    private static ProblemHttpResult Problem(KvTransferErrorReason reason, string? detail, int status, string title) =>
        TypedResults.Problem(detail, statusCode: status, title: title, extensions: Reason(reason));

    private static Dictionary<string, object?> Reason(KvTransferErrorReason reason) =>
        new(StringComparer.Ordinal) { [KvTransferRoutes.ReasonMember] = reason.ToString() };
}
