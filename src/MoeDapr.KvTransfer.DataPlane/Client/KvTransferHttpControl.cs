using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MoeDapr.Contracts.KvTransfer;

namespace MoeDapr.KvTransfer.DataPlane.Client;

/// <summary>
/// <see cref="IKvTransferControl"/> over HTTP. The <see cref="HttpClient"/>'s base address decides the route:
/// the Dapr sidecar (<c>http://localhost:3500/v1.0/invoke/kv-transfer/method/</c>, or a Dapr invoke client)
/// in the services, the app itself in tests. Errors become <see cref="KvTransferException"/> with the reason kv-transfer sent (or one read from the
/// HTTP status when the answer carries none) and the ProblemDetails text.
/// </summary>
public sealed class KvTransferHttpControl(HttpClient http) : IKvTransferControl
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public Task<KvAllocateResponse> AllocateAsync(KvAllocateRequest request, CancellationToken cancellationToken) =>
        PostAsync<KvAllocateResponse>(KvTransferRoutes.Allocations, request, "allocate", cancellationToken);

    public Task<KvCommitResponse> CommitAsync(string handle, KvCommitRequest request, CancellationToken cancellationToken) =>
        PostAsync<KvCommitResponse>(KvTransferRoutes.Commit(handle), request, "commit", cancellationToken);

    public async Task<KvLocation?> LocateAsync(string handle, string? requesterHost, CancellationToken cancellationToken)
    {
        var uri = KvTransferRoutes.Allocation(handle);
        if (requesterHost is not null)
        {
            uri += "?requesterHost=" + Uri.EscapeDataString(requesterHost);
        }

        using var response = await http.GetAsync(uri, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        return await ReadAsync<KvLocation>(response, "locate", cancellationToken).ConfigureAwait(false);
    }

    public Task<KvPrefixLocateResponse> LocatePrefixAsync(KvPrefixLocateRequest request, CancellationToken cancellationToken) =>
        PostAsync<KvPrefixLocateResponse>(KvTransferRoutes.PrefixLocate, request, "locate-prefix", cancellationToken);

    public Task<KvLocation> RenewAsync(string handle, KvRenewRequest request, CancellationToken cancellationToken) =>
        PostAsync<KvLocation>(KvTransferRoutes.Renew(handle), request, "renew", cancellationToken);

    public async Task<bool> ReleaseAsync(string handle, CancellationToken cancellationToken)
    {
        using var response = await http.DeleteAsync(KvTransferRoutes.Allocation(handle), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        await EnsureSuccessAsync(response, "release", cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task<T> PostAsync<T>(string uri, object request, string operation, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync(uri, request, Json, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<T>(response, operation, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        await EnsureSuccessAsync(response, operation, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken).ConfigureAwait(false)
            ?? throw new KvTransferException(KvTransferErrorReason.Protocol, response.StatusCode, $"kv-transfer {operation} answered an empty body");
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var (text, sent) = ReadProblem(body);
        throw new KvTransferException(sent ?? ReasonFor(response.StatusCode), response.StatusCode, $"kv-transfer {operation} failed with {(int)response.StatusCode}: {text}");
    }

    /// <summary>"title: detail" and the reason of a ProblemDetails body; the raw text and no reason for anything else.</summary>
    private static (string Text, KvTransferErrorReason? Reason) ReadProblem(string body)
    {
        try
        {
            using var problem = JsonDocument.Parse(body);
            var root = problem.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (body, null);
            }

            var title = root.TryGetProperty("title", out var t) ? t.GetString() : null;
            var detail = root.TryGetProperty("detail", out var d) ? d.GetString() : null;
            var text = string.Join(": ", new[] { title, detail }.Where(s => !string.IsNullOrEmpty(s)));
            var reason = root.TryGetProperty(KvTransferRoutes.ReasonMember, out var r) && r.ValueKind == JsonValueKind.String
                && Enum.TryParse<KvTransferErrorReason>(r.GetString(), ignoreCase: false, out var parsed) && Enum.IsDefined(parsed)
                ? parsed
                : (KvTransferErrorReason?)null;
            return (text, reason);
        }
        catch (JsonException)
        {
            // Not ProblemDetails (e.g. a sidecar error); keep the raw text.
            return (body, null);
        }
    }

    /// <summary>The reason a status implies when the answer names none (an older kv-transfer, or a proxy in between).</summary>
    private static KvTransferErrorReason ReasonFor(HttpStatusCode status) => status switch
    {
        HttpStatusCode.BadRequest => KvTransferErrorReason.InvalidRequest,
        HttpStatusCode.NotFound or HttpStatusCode.Gone => KvTransferErrorReason.NotFound,
        HttpStatusCode.Conflict => KvTransferErrorReason.WrongState,
        HttpStatusCode.InsufficientStorage => KvTransferErrorReason.Capacity,
        HttpStatusCode.TooManyRequests => KvTransferErrorReason.TooManyLeases,
        HttpStatusCode.RequestTimeout or HttpStatusCode.GatewayTimeout => KvTransferErrorReason.Timeout,
        _ => KvTransferErrorReason.Unknown,
    };
}
