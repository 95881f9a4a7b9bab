using System.Globalization;
using MoeDapr.Router.Api;
using MoeDapr.Router.Generation;

namespace MoeDapr.Router.Access;

/// <summary>
/// Checks the client's API key (<c>Authorization: Bearer KEY</c>, as the OpenAI clients send it) and its rate before any
/// route runs: 401 in OpenAI's error shape for a missing or wrong key, 429 with <c>Retry-After</c> when the key's bucket
/// is empty. Probes, metrics and what only Dapr or operators call are not client routes and stay outside.
/// </summary>
public sealed class ClientAuthMiddleware(RequestDelegate next, ClientKeys keys, ApiKeyRateLimiter limiter)
{
    /// <summary>Paths a client key does not guard: probes, metrics, the Dapr subscription and delivery, the admin listener.</summary>
    private static readonly string[] OpenPrefixes = ["/health", "/metrics", "/ping", "/dapr", "/events", "/admin"];

    public async Task InvokeAsync(HttpContext context)
    {
        if (!keys.Enabled || IsOpen(context.Request.Path))
        {
            await next(context);
            return;
        }

        var presented = BearerToken(context.Request.Headers.Authorization.ToString());
        var key = presented is null ? null : keys.Find(presented);
        if (key is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            var message = presented is null
                ? "You didn't provide an API key. Provide it in an Authorization header using Bearer auth (Authorization: Bearer YOUR_KEY)."
                : "Incorrect API key provided.";
            await CompletionsApi.Error(context, new ApiError(401, message, ApiError.InvalidRequest, null, "invalid_api_key")).ExecuteAsync(context);
            return;
        }

        if (limiter.TryAcquire(key) is { } wait)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            var limited = new ApiError(429,
                $"Rate limit reached for key '{key.Name}': {key.RequestsPerSecond.ToString(CultureInfo.InvariantCulture)} requests/s, burst {key.Burst}; retry after {seconds} s.",
                "requests", null, "rate_limit_exceeded")
            {
                RetryAfterSeconds = seconds,
            };
            await CompletionsApi.Error(context, limited).ExecuteAsync(context);
            return;
        }

        context.Features.Set(new ClientIdentity(key.Name, key.Priority));
        await next(context);
    }

    private static bool IsOpen(PathString path) =>
        OpenPrefixes.Any(prefix => path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase));

    /// <summary>The token of a <c>Bearer</c> authorization header (scheme case-insensitive, RFC 7235), or null.</summary>
    private static string? BearerToken(string header)
    {
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = header[scheme.Length..].Trim();
        return token.Length == 0 ? null : token;
    }
}
