using Dapr;
using Grpc.Core;
using MoeDapr.Sidecar.Hosting;
using MoeDapr.Sidecar.Resources;

namespace MoeDapr.Sidecar.Tests.Processes;

/// <summary>Bad resources, bad tokens: daprd's answers, clear start errors, and the sidecar stays up.</summary>
public sealed class BadInputTests
{
    [Fact]
    public async Task Start_MalformedComponentYaml_FailsNamingFileAndLine()
    {
        using var components = Components.Create("memory");
        components.Write("broken.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: [oops\n");
        await using var environment = new SidecarEnvironment();
        var options = new SidecarOptions { AppId = "bad", HttpPort = 0, GrpcPort = 0 };
        options.ResourcesPaths.Add(components.Path);

        var ex = await Assert.ThrowsAsync<SidecarResourceException>(() => SidecarHost.StartAsync(options, environment));

        Assert.Contains("broken.yaml", ex.Message, StringComparison.Ordinal);
        Assert.Contains("line", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Process_UnknownComponentType_ExitsWithClearError()
    {
        using var components = Components.Create("memory");
        components.Write("queue.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: queue
            spec:
              type: pubsub.kafka
              version: v1
              metadata: []
            """);

        await using var sidecar = await Sidecars.StartProcessAsync(
            ["--app-id", "bad", "--dapr-http-port", "0", "--dapr-grpc-port", "0", "--resources-path", components.Path, "--registry-path", ProcessArgs.NewRegistry(components)],
            waitHealthy: false);
        Assert.True(sidecar.Process.WaitForExit(30_000));

        Assert.Equal(1, sidecar.Process.ExitCode);
        await sidecar.WaitForLineAsync(l => l.Contains("type 'pubsub.kafka' is not supported", StringComparison.Ordinal), Sidecars.Timeout);
    }

    [Fact]
    public async Task Start_RedisComponentWithoutRedisHost_FailsNamingMetadata()
    {
        using var components = Components.Create("memory");
        components.Write("cache.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: cache
            spec:
              type: state.redis
              version: v1
              metadata:
                - name: redisPassword
                  value: ""
            """);
        await using var environment = new SidecarEnvironment();
        var options = new SidecarOptions { AppId = "bad", HttpPort = 0, GrpcPort = 0 };
        options.ResourcesPaths.Add(components.Path);

        var ex = await Assert.ThrowsAsync<SidecarResourceException>(() => SidecarHost.StartAsync(options, environment));

        Assert.Contains("'cache'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("redisHost", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiToken_MissingOrWrong_RejectedOverHttpAndGrpc_HealthzExempt()
    {
        using var components = Components.Create("memory");
        var (httpPort, grpcPort) = (FreePort.Next(), FreePort.Next());
        await using var sidecar = await Sidecars.StartProcessAsync(
            ProcessArgs.For("guarded", null, httpPort, grpcPort, components.Path, ProcessArgs.NewRegistry(components)),
            new Dictionary<string, string> { ["DAPR_API_TOKEN"] = "s3cret" });
        var http = $"http://127.0.0.1:{httpPort}";
        var grpc = $"http://127.0.0.1:{grpcPort}";
        using var plain = new HttpClient();

        Assert.Equal(HttpStatusCode.NoContent, (await plain.GetAsync($"{http}/v1.0/healthz")).StatusCode);
        using var missing = await plain.GetAsync($"{http}/v1.0/state/statestore/k");
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal("invalid api token", await missing.Content.ReadAsStringAsync());

        using var wrong = new DaprClientBuilder().UseHttpEndpoint(http).UseGrpcEndpoint(grpc).UseDaprApiToken("nope").Build();
        var ex = await Assert.ThrowsAsync<DaprException>(() => wrong.GetStateAsync<string>("statestore", "k"));
        Assert.Equal(StatusCode.Unauthenticated, Assert.IsType<RpcException>(ex.InnerException).StatusCode);
        using var wrongInvoke = DaprClient.CreateInvokeHttpClient("guarded", http, "nope");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrongInvoke.GetAsync("/x")).StatusCode);

        using var right = new DaprClientBuilder().UseHttpEndpoint(http).UseGrpcEndpoint(grpc).UseDaprApiToken("s3cret").Build();
        await right.SaveStateAsync("statestore", "k", "v");
        Assert.Equal("v", await right.GetStateAsync<string>("statestore", "k"));
        Assert.False(sidecar.Process.HasExited);
    }
}
