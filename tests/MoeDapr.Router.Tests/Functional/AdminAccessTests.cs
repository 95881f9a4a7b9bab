using System.Net;
using System.Net.Http.Json;
using System.Text;
using MoeDapr.Contracts;
using MoeDapr.Router.Api;
using MoeDapr.Router.Tests.Infrastructure;

namespace MoeDapr.Router.Tests.Functional;

public sealed class AdminAccessTests
{
    [Theory]
    [InlineData("GET", "/admin/state")]
    [InlineData("GET", "/admin/degraded")]
    [InlineData("POST", "/admin/degraded")]
    public async Task AdminRoute_OnTheClientPort_Is404AndChangesNothing(string method, string path)
    {
        using var factory = new RouterFactory();
        using var client = factory.CreateClient();
        using var admin = factory.CreateAdminClient();

        using var onClientPort = await client.SendAsync(Request(method, path));
        using var onAdminPort = await admin.GetAsync("/admin/degraded");

        Assert.Equal(HttpStatusCode.NotFound, onClientPort.StatusCode);
        Assert.Equal(HttpStatusCode.OK, onAdminPort.StatusCode);
        Assert.Contains("\"enabled\":false", await onAdminPort.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AdminRoute_WithoutAnAdminPort_IsOffEverywhere()
    {
        using var factory = new RouterFactory(new Dictionary<string, string?> { ["Router:AdminPort"] = "0" });
        using var client = factory.CreateClient();
        using var admin = factory.CreateAdminClient();

        using var onClientPort = await client.GetAsync("/admin/state");
        using var onAdminPort = await admin.GetAsync("/admin/state");

        Assert.Equal(HttpStatusCode.NotFound, onClientPort.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, onAdminPort.StatusCode);
    }

    [Fact]
    public async Task WorkerLoad_WithAppTokenSet_RefusesDeliveriesWithoutItAndAppliesThoseWithIt()
    {
        const string token = "app-token-for-tests";
        using var factory = new RouterFactory(new Dictionary<string, string?> { ["APP_API_TOKEN"] = token });
        using var client = factory.CreateClient();
        var snapshot = new WorkerLoadSnapshot { AppId = "decode-x", Role = WorkerRole.Decode, InstanceId = "x", Sequence = 1, TimestampUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() };

        using var anonymous = await client.PostAsJsonAsync(WorkerEventsApi.WorkerLoadRoute, snapshot, ContractJson.Options);
        var wrong = new HttpRequestMessage(HttpMethod.Post, WorkerEventsApi.WorkerLoadRoute) { Content = JsonContent.Create(snapshot, options: ContractJson.Options) };
        wrong.Headers.Add("dapr-api-token", token + "x");
        using var wrongAnswer = await client.SendAsync(wrong);
        var listedBefore = factory.Registry.List().Any(w => w.AppId == "decode-x");
        var right = new HttpRequestMessage(HttpMethod.Post, WorkerEventsApi.WorkerLoadRoute) { Content = JsonContent.Create(snapshot, options: ContractJson.Options) };
        right.Headers.Add("dapr-api-token", token);
        using var rightAnswer = await client.SendAsync(right);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongAnswer.StatusCode);
        Assert.False(listedBefore);
        Assert.Equal(HttpStatusCode.OK, rightAnswer.StatusCode);
        Assert.Contains(factory.Registry.List(), w => w.AppId == "decode-x");
    }

    private static HttpRequestMessage Request(string method, string path) => new(new HttpMethod(method), path)
    {
        Content = method == "POST" ? new StringContent("""{"enabled":true}""", Encoding.UTF8, "application/json") : null,
    };
}
