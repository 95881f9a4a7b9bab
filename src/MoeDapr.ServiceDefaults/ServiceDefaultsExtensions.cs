using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Prometheus;

namespace MoeDapr.ServiceDefaults;

/// <summary>Wiring shared by every MoeDapr service: Dapr client, health checks, Prometheus metrics.</summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>Registers the Dapr client, health checks and metrics.</summary>
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        builder.Services.AddDaprClient();
        builder.Services.AddHealthChecks();
        return builder;
    }

    /// <summary>Maps <c>/health</c> (liveness), <c>/health/ready</c> (checks tagged "ready") and <c>/metrics</c>.</summary>
    public static IEndpointRouteBuilder MapDefaultEndpoints(this WebApplication app)
    {
        app.UseHttpMetrics();
        app.MapHealthChecks("/health", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
        app.MapMetrics("/metrics");
        return app;
    }
}
