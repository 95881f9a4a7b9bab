using System.Net;

namespace MoeDapr.Tests.Shared;

/// <summary>Waits for a service's readiness endpoint (<c>/health/ready</c>), as an orchestrator's probe would.</summary>
public static class ReadinessProbe
{
    /// <summary>Returns once <c>/health/ready</c> answers 200; fails naming <paramref name="service"/> after <see cref="Poll.Timeout"/>.</summary>
    public static Task WaitUntilReadyAsync(this HttpClient client, string service) =>
        Poll.UntilAsync(
            async () =>
            {
                using var response = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
                return response.StatusCode == HttpStatusCode.OK;
            },
            service + " to be ready");
}
