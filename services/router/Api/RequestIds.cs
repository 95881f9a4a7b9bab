namespace MoeDapr.Router.Api;

/// <summary>
/// The <c>X-Request-Id</c> of each request: the client's, when it sends one (cut to <see cref="MaxLength"/> and reduced
/// to characters safe in logs, headers and app ids), else a fresh one; echoed on the response and used as the id of the
/// request's completion record and log lines, as vLLM does.
/// </summary>
public static class RequestIds
{
    public const string Header = "X-Request-Id";

    /// <summary>Characters kept of a client's id: enough for a UUID with a prefix, too few to flood a log line.</summary>
    public const int MaxLength = 128;

    private static readonly object ItemKey = new();

    /// <summary>The id of <paramref name="context"/>'s request (assigned on first use when the middleware did not run).</summary>
    public static string Get(HttpContext context)
    {
        if (context.Items.TryGetValue(ItemKey, out var id) && id is string assigned)
        {
            return assigned;
        }

        var fresh = Sanitize(context.Request.Headers[Header].FirstOrDefault()) ?? Guid.NewGuid().ToString("N");
        context.Items[ItemKey] = fresh;
        return fresh;
    }

    /// <summary>
    /// The id of the generation this request starts: the request id, plus a short random suffix when the client chose
    /// it, since clients reuse ids (retries, fixed ids in scripts) and two live generations must never share one: workers
    /// abort and migrate by it.
    /// </summary>
    public static string ForGeneration(HttpContext context)
    {
        var id = Get(context);
        return context.Request.Headers.ContainsKey(Header) ? id + "-" + Guid.NewGuid().ToString("N")[..8] : id;
    }

    /// <summary>The client's id with every character outside <c>[A-Za-z0-9._:-]</c> dropped, cut to <see cref="MaxLength"/>; null when nothing is left.</summary>
    public static string? Sanitize(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        Span<char> kept = stackalloc char[MaxLength];
        var length = 0;
        foreach (var c in value)
        {
            if (length == MaxLength)
            {
                break;
            }

            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':')
            {
                kept[length++] = c;
            }
        }

        return length == 0 ? null : new string(kept[..length]);
    }

    /// <summary>Assigns the id, echoes it on the response and opens a log scope carrying it.</summary>
    public static IApplicationBuilder UseRequestIds(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var id = Get(context);
        context.Response.OnStarting(() =>
        {
            context.Response.Headers[Header] = id;
            return Task.CompletedTask;
        });
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RequestIds));
        using (logger.BeginScope(new Dictionary<string, object> { ["RequestId"] = id }))
        {
            await next(context);
        }
    });
}
