using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static MoeDapr.KvTransfer.Tests.TestSupport;

namespace MoeDapr.KvTransfer.Tests;

/// <summary>The registered client reaches kv-transfer the way services do: through a sidecar's invoke route.</summary>
public sealed class DaprInvocationTests : IAsyncLifetime
{
    private readonly KvTransferFactory _factory = new();
    private const string ApiToken = "sidecar-api-token";

    private readonly List<string> _invokedPaths = [];
    private readonly List<string?> _presentedTokens = [];
    private WebApplication? _sidecar;

    public async Task InitializeAsync()
    {
        // A minimal stand-in for daprd's HTTP invoke: /v1.0/invoke/{appId}/method/{path} → the app's /{path}.
        var appHandler = _factory.Server.CreateHandler();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _sidecar = builder.Build();
        _sidecar.Map("/v1.0/invoke/{appId}/method/{**path}", async (HttpContext context, string appId, string path) =>
        {
            lock (_invokedPaths)
            {
                _invokedPaths.Add($"{context.Request.Method} {appId} {path}");
                _presentedTokens.Add(context.Request.Headers["dapr-api-token"].FirstOrDefault());
            }

            using var app = new HttpClient(appHandler, disposeHandler: false) { BaseAddress = new Uri("http://localhost/") };
            using var forward = new HttpRequestMessage(new HttpMethod(context.Request.Method), path + context.Request.QueryString);
            if (context.Request.ContentLength > 0 || context.Request.Headers.ContainsKey("Transfer-Encoding"))
            {
                forward.Content = new StreamContent(context.Request.Body);
                forward.Content.Headers.TryAddWithoutValidation("Content-Type", context.Request.ContentType);
            }

            using var answer = await app.SendAsync(forward, context.RequestAborted);
            context.Response.StatusCode = (int)answer.StatusCode;
            context.Response.ContentType = answer.Content.Headers.ContentType?.ToString();
            await answer.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        });
        await _sidecar.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_sidecar is not null)
        {
            await _sidecar.DisposeAsync();
        }

        _factory.Dispose();
    }

    [Fact]
    public async Task AddKvTransferClient_RoundTrip_GoesThroughTheSidecarInvokeRoute()
    {
        // What a sidecar-hosted app sees: DAPR_HTTP_ENDPOINT and DAPR_API_TOKEN in its configuration.
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["DAPR_HTTP_ENDPOINT"] = _sidecar!.Urls.Single(), ["DAPR_API_TOKEN"] = ApiToken })
            .Build();
        await using var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddKvTransferClient((options, _) => options.HostId = KvTransferFactory.HostId)
            .BuildServiceProvider();
        var client = services.GetRequiredService<KvTransferClient>();
        var payload = Payload(SmallLayout, seed: 21);

        await using var writer = await client.AllocateAsync(SmallLayout, [Hash(4)], CancellationToken.None);
        writer.Write(payload);
        await writer.CommitAsync(CancellationToken.None);
        await using var reader = await client.OpenReadAsync(writer.Handle, CancellationToken.None);
        var read = reader.GetSpan(0, payload.Length).ToArray();
        await reader.ReleaseAsync(CancellationToken.None);

        Assert.Equal(KvDataPlane.SharedMemory, writer.Plane);
        Assert.Equal(payload, read);
        Assert.Contains("POST kv-transfer kv/allocations", _invokedPaths);
        Assert.Contains($"POST kv-transfer kv/allocations/{writer.Handle}/commit", _invokedPaths);
        Assert.Contains($"DELETE kv-transfer kv/allocations/{writer.Handle}", _invokedPaths);
        Assert.Equal(HttpStatusCode.NotFound, (await _factory.CreateClient().GetAsync("kv/allocations/" + writer.Handle)).StatusCode);
        Assert.All(_presentedTokens, token => Assert.Equal(ApiToken, token));
    }

    [Fact]
    public async Task AddKvTransferClient_EmptyHostId_IsRefusedWithTheSettingNamed()
    {
        await using var services = new ServiceCollection()
            .AddKvTransferClient((options, _) => options.HostId = " ")
            .BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<KvTransferClient>());
        Assert.Contains("HostId", error.Message, StringComparison.Ordinal);
    }
}
