using System.Globalization;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MoeDapr.Router.Diagnostics;
using MoeDapr.Router.Options;

namespace MoeDapr.Router.Access;

/// <summary>The router's guards: client keys and their rates, request limits on Kestrel, and the admin listener.</summary>
public static class RouterAccessExtensions
{
    /// <summary>Host configuration keys of ASP.NET Core (<c>ASPNETCORE_URLS</c>, <c>ASPNETCORE_HTTP_PORTS</c>, <c>--urls</c>).</summary>
    private const string UrlsKey = "urls";
    private const string HttpPortsKey = "http_ports";

    public static IHostApplicationBuilder AddRouterAccess(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AccessOptions>().BindConfiguration(AccessOptions.Section).ValidateOnStart();
        services.AddOptions<RequestLimitsOptions>().BindConfiguration(RequestLimitsOptions.Section).ValidateOnStart();
        services.TryAddSingleton<AccessOptionsValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AccessOptions>, AccessOptionsValidator>(sp => sp.GetRequiredService<AccessOptionsValidator>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RequestLimitsOptions>, AccessOptionsValidator>(sp => sp.GetRequiredService<AccessOptionsValidator>()));
        services.TryAddSingleton<ClientKeys>();
        services.TryAddSingleton<ApiKeyRateLimiter>();
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<RequestLimitsOptions>>((kestrel, limits) => ApplyLimits(kestrel.Limits, limits.Value));

        var adminPort = builder.Configuration.GetValue<int>($"{AccessOptions.Section}:{nameof(AccessOptions.AdminPort)}");
        if (adminPort > 0)
        {
            builder.Configuration[UrlsKey] = WithAdminListener(builder.Configuration[UrlsKey], builder.Configuration[HttpPortsKey], adminPort);
        }

        return builder;
    }

    /// <summary>Logs who may call the router and puts the key check in front of every route.</summary>
    public static WebApplication UseRouterAccess(this WebApplication app)
    {
        var keys = app.Services.GetRequiredService<ClientKeys>();
        var access = app.Services.GetRequiredService<IOptions<AccessOptions>>().Value;
        var logger = app.Services.GetRequiredService<ILogger<ClientKeys>>();
        if (keys.Enabled)
        {
            Log.ClientKeysRequired(logger, keys.Count);
        }
        else
        {
            Log.ClientApiOpen(logger, $"{AccessOptions.Section}:ApiKeys");
        }

        if (access.AdminPort > 0)
        {
            Log.AdminListener(logger, access.AdminPort);
        }

        app.UseMiddleware<ClientAuthMiddleware>();
        return app;
    }

    /// <summary>Copies the <c>Router:Limits</c> connection limits onto Kestrel's.</summary>
    public static void ApplyLimits(KestrelServerLimits kestrel, RequestLimitsOptions limits)
    {
        kestrel.MaxRequestBodySize = limits.MaxRequestBodyBytes;
        kestrel.MinRequestBodyDataRate = limits.MinRequestBodyBytesPerSecond > 0
            ? new MinDataRate(limits.MinRequestBodyBytesPerSecond, limits.MinRequestBodyGracePeriod)
            : null;
        kestrel.RequestHeadersTimeout = limits.RequestHeadersTimeout;
        kestrel.KeepAliveTimeout = limits.KeepAliveTimeout;
        kestrel.MaxConcurrentConnections = limits.MaxConcurrentConnections > 0 ? limits.MaxConcurrentConnections : null;
    }

    /// <summary>
    /// The client URLs plus <c>http://HOST:adminPort</c> on the host of the first client URL. Kestrel listens on either
    /// the URLs or endpoints set in code, never both, so the admin listener joins the URL list.
    /// </summary>
    public static string WithAdminListener(string? urls, string? httpPorts, int adminPort)
    {
        var clients = !string.IsNullOrWhiteSpace(urls)
            ? urls
            : !string.IsNullOrWhiteSpace(httpPorts)
                ? string.Join(';', httpPorts.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => $"http://*:{p}"))
                : "http://localhost:5000"; // ASP.NET Core's own default
        var first = clients.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0];
        var authority = first[(first.IndexOf("://", StringComparison.Ordinal) + 3)..].TrimEnd('/');
        var colon = authority.LastIndexOf(':');
        var host = colon > authority.LastIndexOf(']') ? authority[..colon] : authority;
        return $"{clients};http://{host}:{adminPort.ToString(CultureInfo.InvariantCulture)}";
    }
}
