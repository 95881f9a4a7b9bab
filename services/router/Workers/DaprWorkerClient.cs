using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using MoeDapr.Contracts;

namespace MoeDapr.Router.Workers;

/// <summary>
/// Calls workers through the Dapr sidecar's HTTP service invocation (<c>http://{appId}/{method}</c> rewritten by
/// <c>DaprClient.CreateInvokeHttpClient</c>); the decode answer is read as a stream, line by line.
/// </summary>
public sealed class DaprWorkerClient(HttpClient http) : IWorkerClient
{
    public async Task<PrefillBatchResponse> PrefillAsync(string appId, PrefillBatchRequest request, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.PostAsJsonAsync(Uri(appId, WorkerMethods.PrefillBatch), request, ContractJson.Options, cancellationToken);
            await EnsureSuccessAsync(appId, response, cancellationToken);
            return await response.Content.ReadFromJsonAsync<PrefillBatchResponse>(ContractJson.Options, cancellationToken)
                ?? throw new WorkerCallException(appId, WorkerError.Internal, "empty prefill answer");
        }
        catch (Exception ex) when (ex is HttpRequestException or System.Text.Json.JsonException)
        {
            throw new WorkerCallException(appId, WorkerError.Internal, ex.Message, ex);
        }
    }

    public async IAsyncEnumerable<DecodeStreamEvent> DecodeAsync(string appId, DecodeRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, Uri(appId, WorkerMethods.DecodeGenerate))
        {
            Content = JsonContent.Create(request, options: ContractJson.Options),
        };
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new WorkerCallException(appId, WorkerError.Internal, ex.Message, ex);
        }

        using (response)
        {
            await EnsureSuccessAsync(appId, response, cancellationToken);
            var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            await using (body)
            {
                var events = DecodeStream.ReadAllAsync(body, cancellationToken).WithCancellation(cancellationToken).GetAsyncEnumerator();
                await using (events)
                {
                    while (true)
                    {
                        DecodeStreamEvent next;
                        try
                        {
                            if (!await events.MoveNextAsync())
                            {
                                yield break;
                            }

                            next = events.Current;
                        }
                        catch (Exception ex) when (ex is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
                        {
                            throw new WorkerCallException(appId, WorkerError.Internal, $"decode stream broke: {ex.Message}", ex);
                        }

                        yield return next;
                    }
                }
            }
        }
    }

    public async Task AbortAsync(string appId, string requestId, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync(Uri(appId, WorkerMethods.DecodeAbort), new AbortRequest(requestId), ContractJson.Options, cancellationToken);
    }

    public async Task<bool> IsReadyAsync(string appId, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(Uri(appId, WorkerMethods.Ready), cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static Uri Uri(string appId, string method) => new($"http://{appId}/{method}");

    private static async Task EnsureSuccessAsync(string appId, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        var code = response.StatusCode switch
        {
            HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable => WorkerError.Saturated,
            HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity => WorkerError.InvalidRequest,
            HttpStatusCode.GatewayTimeout => WorkerError.DeadlineExceeded,
            _ => WorkerError.Internal,
        };
        throw new WorkerCallException(appId, code, $"HTTP {(int)response.StatusCode}: {Truncate(text, 300)}");
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length];
}
