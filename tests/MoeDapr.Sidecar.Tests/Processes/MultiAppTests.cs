using System.Collections.Concurrent;
using System.Globalization;
using Dapr;
using Microsoft.AspNetCore.Http;

namespace MoeDapr.Sidecar.Tests.Processes;

/// <summary>Several apps' sidecars: in one process from a run file, or as separate processes sharing a registry.</summary>
public sealed class MultiAppTests
{
    public sealed record Note(string Text);

    private static Task<TestApp> StartBetaAsync(ConcurrentQueue<string> inbox) => TestApp.StartAsync(null, app =>
    {
        app.UseCloudEvents();
        app.MapSubscribeHandler();
        app.MapGet("/who", (HttpContext context) => $"beta called by {context.Request.Headers["dapr-caller-app-id"]}");
        app.MapPost("/notes", [Topic("pubsub", "notes")] (Note note) =>
        {
            inbox.Enqueue(note.Text);
            return Results.Ok();
        });
    });

    [Fact]
    public async Task RunFile_TwoApps_InvokeEachOtherAndShareInMemoryPubSub()
    {
        var inbox = new ConcurrentQueue<string>();
        await using var beta = await StartBetaAsync(inbox);
        await using var alpha = await TestApp.StartAsync(null, app => app.MapGet("/ping", () => "pong"));
        using var components = Components.Create("memory");
        var (alphaHttp, alphaGrpc, betaHttp) = (FreePort.Next(), FreePort.Next(), FreePort.Next());
        // In a subfolder: resources are read from the top of the folder only.
        var runFile = Path.Combine(components.Path, "run", "dapr.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(runFile)!);
        await File.WriteAllTextAsync(runFile, string.Format(CultureInfo.InvariantCulture, """
            version: 1
            common:
              resourcesPath: {0}
            apps:
              - appID: alpha
                appPort: {1}
                daprHTTPPort: {2}
                daprGRPCPort: {3}
              - appID: beta
                appPort: {4}
                daprHTTPPort: {5}
            """, components.Path, alpha.Port, alphaHttp, alphaGrpc, beta.Port, betaHttp));

        await using var sidecars = await Sidecars.StartProcessAsync(["run", "-f", runFile, "--registry-path", ProcessArgs.NewRegistry(components)]);
        await sidecars.WaitForLineAsync(l => l.Contains("app=beta", StringComparison.Ordinal), Sidecars.Timeout);
        using var client = new DaprClientBuilder().UseHttpEndpoint($"http://127.0.0.1:{alphaHttp}").UseGrpcEndpoint($"http://127.0.0.1:{alphaGrpc}").Build();
        await client.WaitForSidecarAsync(new CancellationTokenSource(Sidecars.Timeout).Token);
        using var toBeta = DaprClient.CreateInvokeHttpClient("beta", $"http://127.0.0.1:{alphaHttp}");

        Assert.Equal("beta called by alpha", await toBeta.GetStringAsync("/who"));
        await client.PublishEventAsync("pubsub", "notes", new Note("from alpha"));
        await Poll.UntilAsync(() => inbox.Contains("from alpha"), Sidecars.Timeout, "beta to receive alpha's event");
    }

    [Fact]
    public async Task SeparateProcesses_FindEachOtherThroughRegistryFolder()
    {
        var inbox = new ConcurrentQueue<string>();
        await using var beta = await StartBetaAsync(inbox);
        using var components = Components.Create("memory");
        var registry = ProcessArgs.NewRegistry(components);
        var (alphaHttp, alphaGrpc, betaHttp, betaGrpc) = (FreePort.Next(), FreePort.Next(), FreePort.Next(), FreePort.Next());

        await using var betaSidecar = await Sidecars.StartProcessAsync(ProcessArgs.For("beta", beta.Port, betaHttp, betaGrpc, components.Path, registry));
        await using var alphaSidecar = await Sidecars.StartProcessAsync(ProcessArgs.For("alpha", null, alphaHttp, alphaGrpc, components.Path, registry));
        using var toBeta = DaprClient.CreateInvokeHttpClient("beta", $"http://127.0.0.1:{alphaHttp}");

        Assert.Equal("beta called by alpha", await toBeta.GetStringAsync("/who"));

        // Once beta's sidecar is gone, alpha answers daprd's error instead of hanging.
        betaSidecar.Kill();
        await Poll.UntilAsync(async () => (int)(await toBeta.GetAsync("/who")).StatusCode == 500, Sidecars.Timeout, "beta to disappear from the registry");
    }
}
