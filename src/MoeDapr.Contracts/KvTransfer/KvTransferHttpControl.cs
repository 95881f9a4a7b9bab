using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace MoeDapr.Contracts.KvTransfer;

/// <summary>
/// <see cref="IKvTransferControl"/> over HTTP. The <see cref="HttpClient"/>'s base address decides the route:
/// the Dapr sidecar (<c>http://localhost:3500/v1.0/invoke/kv-transfer/method/</c>, or a Dapr invoke client)
/// in the services, the app itself in tests. Errors become <see cref="KvTransferException"/> with the ProblemDetails text.
/// </summary>
public sealed class KvTransferHttpControl(HttpClient http) : IKvTransferControl
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<KvAllocateResponse> AllocateAsync(KvAllocateRequest request, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync(KvTransferRoutes.Allocations, request, Json, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<KvAllocateResponse>(response, "allocate", cancellationToken).ConfigureAwait(false);
    }

    public async Task<KvCommitResponse> CommitAsync(string handle, KvCommitRequest request, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync(KvTransferRoutes.Commit(handle), request, Json, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<KvCommitResponse>(response, "commit", cancellationToken).ConfigureAwait(false);
    }

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

    public async Task<KvPrefixLocateResponse> LocatePrefixAsync(KvPrefixLocateRequest request, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync(KvTransferRoutes.PrefixLocate, request, Json, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<KvPrefixLocateResponse>(response, "locate-prefix", cancellationToken).ConfigureAwait(false);
    }

    public async Task<KvLocation> RenewAsync(string handle, KvRenewRequest request, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync(KvTransferRoutes.Renew(handle), request, Json, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<KvLocation>(response, "renew", cancellationToken).ConfigureAwait(false);
    }

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

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        await EnsureSuccessAsync(response, operation, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken).ConfigureAwait(false)
            ?? throw new KvTransferException(response.StatusCode, $"kv-transfer {operation} answered an empty body");
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var reason = body;
        try
        {
            using var problem = JsonDocument.Parse(body);
            var title = problem.RootElement.TryGetProperty("title", out var t) ? t.GetString() : null;
            var detail = problem.RootElement.TryGetProperty("detail", out var d) ? d.GetString() : null;
            reason = string.Join(": ", new[] { title, detail }.Where(s => !string.IsNullOrEmpty(s)));
        }
        catch (JsonException)
        {
            // Not ProblemDetails (e.g. a sidecar error); keep the raw text.
        }

        throw new KvTransferException(response.StatusCode, $"kv-transfer {operation} failed with {(int)response.StatusCode}: {reason}");
    }
}
