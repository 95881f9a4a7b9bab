using System.Buffers;
using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using MoeDapr.Sidecar.Hosting;

namespace MoeDapr.Sidecar.Api;

/// <summary>
/// Service invocation over HTTP: forwards the request to the target app (or the sidecar of another process hosting it)
/// and streams both bodies, flushing each chunk so server-sent events reach the caller as they are written.
/// </summary>
public static class Proxy
{
    /// <summary>Set on calls between sidecars of different processes; the receiving sidecar keeps the caller's id.</summary>
    public const string ForwardedHeader = "moedapr-forwarded-from";

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "TE", "Trailer", "Proxy-Connection",
        "Proxy-Authenticate", "Proxy-Authorization", "Host",
    };

    public static bool IsHopByHop(string header) =>
        HopByHop.Contains(header) || header.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase);

    public static async Task InvokeAsync(HttpContext context, SidecarRuntime runtime, string targetAppId, string methodPath)
    {
        var cancellationToken = context.RequestAborted;
        if (context.Request.ContentLength is { } length && length > runtime.Options.MaxBodySize)
        {
            await RejectTooLargeAsync(context);
            return;
        }

        var callerId = runtime.Options.AppId;
        if (context.Request.Headers.TryGetValue(ForwardedHeader, out var forwardedFrom) && forwardedFrom.Count > 0)
        {
            callerId = forwardedFrom.ToString();
        }

        Uri target;
        string? targetToken;
        var forwardToSidecar = false;
        var query = context.Request.QueryString.Value ?? "";
        if (targetAppId == runtime.Options.AppId && runtime.AppBaseUri is not null)
        {
            target = new Uri(runtime.AppBaseUri, "/" + methodPath + query);
            targetToken = runtime.Options.AppApiToken;
        }
        else if (runtime.Environment.Directory.LocalInstances(targetAppId).OfType<SidecarRuntime>().FirstOrDefault(r => r.AppBaseUri is not null) is { } local)
        {
            target = new Uri(local.AppBaseUri!, "/" + methodPath + query);
            targetToken = local.Options.AppApiToken;
        }
        else if (runtime.Environment.Directory.RemoteInstances(targetAppId) is { Count: > 0 } remotes)
        {
            var remote = remotes[Random.Shared.Next(remotes.Count)];
            target = new Uri($"http://{remote.Host}:{remote.HttpPort}/v1.0/invoke/{Uri.EscapeDataString(targetAppId)}/method/{methodPath}{query}");
            targetToken = runtime.Options.ApiToken;
            forwardToSidecar = true;
        }
        else
        {
            await DaprErrors.WriteAsync(context, StatusCodes.Status500InternalServerError, "ERR_DIRECT_INVOKE",
                $"failed to invoke, id: {targetAppId}, err: couldn't find service: {targetAppId}");
            return;
        }

        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), target);
        var canHaveBody = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? true;
        if (canHaveBody)
        {
            request.Content = new StreamContent(context.Request.Body, 64 * 1024);
            if (context.Request.ContentLength is { } contentLength)
            {
                request.Content.Headers.ContentLength = contentLength;
            }
        }

        foreach (var (name, values) in context.Request.Headers)
        {
            if (IsHopByHop(name)
                || name.Equals("dapr-api-token", StringComparison.OrdinalIgnoreCase)
                || name.Equals("dapr-app-id", StringComparison.OrdinalIgnoreCase)
                || name.Equals(ForwardedHeader, StringComparison.OrdinalIgnoreCase)
                || name.Equals("dapr-caller-app-id", StringComparison.OrdinalIgnoreCase)
                || name.Equals("dapr-callee-app-id", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        if (!request.Headers.Contains("traceparent"))
        {
            request.Headers.TryAddWithoutValidation("traceparent", NewTraceParent());
        }

        if (forwardToSidecar)
        {
            request.Headers.TryAddWithoutValidation(ForwardedHeader, callerId);
        }
        else
        {
            request.Headers.TryAddWithoutValidation("dapr-caller-app-id", callerId);
            request.Headers.TryAddWithoutValidation("dapr-callee-app-id", targetAppId);
        }

        if (targetToken is { Length: > 0 })
        {
            request.Headers.TryAddWithoutValidation("dapr-api-token", targetToken);
        }

        HttpResponseMessage response;
        try
        {
            response = await SendWithRetriesAsync(runtime, request, targetAppId, canHaveBody, cancellationToken);
        }
        catch (Exception ex) when (IsBodyTooLarge(ex))
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync("Request Entity Too Large", CancellationToken.None);
            return;
        }
        catch (HttpRequestException ex)
        {
            await DaprErrors.WriteAsync(context, StatusCodes.Status500InternalServerError, "ERR_DIRECT_INVOKE",
                $"failed to invoke, id: {targetAppId}, err: {ex.Message}");
            return;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }

        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers)
            {
                if (!IsHopByHop(name))
                {
                    context.Response.Headers[name] = values.ToArray();
                }
            }

            foreach (var (name, values) in response.Content.Headers)
            {
                context.Response.Headers[name] = values.ToArray();
            }

            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                int read;
                while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken);

                    // Flush per chunk: an SSE token must not wait for the next one.
                    await context.Response.Body.FlushAsync(cancellationToken);
                }
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException)
            {
                // The app or the caller went away mid-stream: cut the caller's connection so it sees a truncated body.
                context.Abort();
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>
    /// Sends the call; when a Resiliency policy targets the app and the request has no body to replay, a connection
    /// failure (no answer at all) is retried with the policy's backoff. Answers, errors included, are never retried.
    /// </summary>
    private static async Task<HttpResponseMessage> SendWithRetriesAsync(
        SidecarRuntime runtime, HttpRequestMessage request, string targetAppId, bool hasBody, CancellationToken cancellationToken)
    {
        var policy = hasBody ? null : runtime.Resources.AppRetryFor(runtime.Options.AppId, targetAppId);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await runtime.AppClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            }
            catch (HttpRequestException) when (policy is not null && policy.Allows(attempt) && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(policy.DelayFor(attempt), runtime.Environment.Time, cancellationToken);
                request = Clone(request);
            }
        }
    }

    private static HttpRequestMessage Clone(HttpRequestMessage request)
    {
        var copy = new HttpRequestMessage(request.Method, request.RequestUri) { Version = request.Version };
        foreach (var (name, values) in request.Headers)
        {
            copy.Headers.TryAddWithoutValidation(name, values);
        }

        return copy;
    }

    /// <summary>
    /// Answers 413 as daprd's body size limit does. A declared body of moderate size is read and discarded first, so
    /// the caller, still sending, gets the answer instead of a reset connection.
    /// </summary>
    public static async Task RejectTooLargeAsync(HttpContext context)
    {
        const long drainLimit = 64L * 1024 * 1024;
        if (context.Request.ContentLength is { } length && length <= drainLimit
            && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = drainLimit;
            try
            {
                await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
            }
            catch (Exception ex) when (ex is IOException or BadHttpRequestException or OperationCanceledException)
            {
                // The caller gave up; answer anyway.
            }
        }
        else
        {
            context.Response.Headers.Connection = "close";
        }

        context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync("Request Entity Too Large", CancellationToken.None);
    }

    /// <summary>A W3C traceparent with fresh ids (00-{trace}-{span}-01).</summary>
    public static string NewTraceParent() =>
        $"00-{ActivityTraceId.CreateRandom().ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01";

    private static bool IsBodyTooLarge(Exception ex)
    {
        for (var current = ex; current is not null; current = current.InnerException)
        {
            if (current is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
            {
                return true;
            }
        }

        return false;
    }
}
