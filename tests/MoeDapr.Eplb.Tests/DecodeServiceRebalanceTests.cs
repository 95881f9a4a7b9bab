extern alias sidecar;

using System.Net.Http.Json;
using System.Text.Json;
using MoeDapr.Contracts;
using MoeDapr.Engine;
using MoeDapr.Engine.Checkpoint;
using MoeDapr.Eplb.Tests.Infrastructure;
using sidecar::MoeDapr.Sidecar.Hosting;

namespace MoeDapr.Eplb.Tests;

/// <summary>
/// The whole loop through Dapr: decode (a real process) publishes load windows, its subscription forwards them to the
/// coordinator actor, the actor's plan comes back on the plans topic and is applied while a request streams.
/// </summary>
public sealed class DecodeServiceRebalanceTests
{
    // Long enough that windows, the coordinator and the plans topic complete their round trip mid-stream on a busy machine.
    private const int OutputTokens = 400;

    [Fact]
    public async Task Generate_PlanAppliedWhileStreaming_SameTokensAsWithoutTheMove()
    {
        var model = TinyMoe.WriteCheckpoint();
        var prompt = TinyMoe.Prompt(12, 3);

        // What the same engine settings give without any move.
        var engineOptions = new EngineOptions { ExpertParallelSize = 2, NumBlocks = 256, Threads = 1 };
        int[] expected;
        using (var checkpoint = CheckpointLoader.Open(model))
        await using (var reference = await InferenceEngine.CreateAsync(engineOptions, checkpoint.Config, checkpoint.Weights))
        {
            var outputs = await reference.GenerateAllAsync(new GenerateRequest
            {
                RequestId = "reference",
                PromptTokens = prompt,
                Sampling = new SamplingParams { Temperature = 0, MaxTokens = OutputTokens, IgnoreEos = true },
            });
            expected = outputs.Select(o => o.TokenId).ToArray();
        }

        var appPort = FreePort.Next();
        var httpPort = FreePort.Next();
        var grpcPort = FreePort.Next();
        using var components = new ComponentsFolder();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        await using var decode = DecodeProcess.Start(appPort, new Dictionary<string, string>
        {
            ["Model:Path"] = model,
            ["Model:Name"] = "tiny-skewed",
            ["APP_ID"] = "decode",
            ["DAPR_HTTP_PORT"] = httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["DAPR_GRPC_PORT"] = grpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Engine:ExpertParallelSize"] = "2",
            ["Engine:NumBlocks"] = "256",
            ["Engine:Threads"] = "1",
            ["Eplb:Enabled"] = "true",
            ["Eplb:RedundantExperts"] = "0",
            ["Eplb:WindowSize"] = "8",
            ["Eplb:RebalanceFrequency"] = "100000",
            ["Eplb:BalancednessThreshold"] = "0.999",
            ["Eplb:MinImprovement"] = "0",
            ["Eplb:PlanPollInterval"] = "00:00:01",
            ["Eplb:TelemetryInterval"] = "00:00:01",
        });
        await decode.WaitReadyAsync(http, TimeSpan.FromSeconds(60));
        await using var sidecar = await SidecarHost.StartAsync(
            new SidecarOptions { AppId = "decode", AppPort = appPort, HttpPort = httpPort, GrpcPort = grpcPort, ResourcesPaths = { components.Path } },
            new SidecarEnvironment());
        await sidecar.WaitReadyAsync(Poll.Timeout);

        var request = new DecodeRequest
        {
            RequestId = "moving",
            PromptTokenIds = prompt,
            Sampling = new SamplingParams { Temperature = 0, MaxTokens = OutputTokens, IgnoreEos = true },
        };
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(decode.BaseAddress, WorkerMethods.DecodeGenerate)) { Content = JsonContent.Create(request) };
        using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var tokens = new List<int>();
        var movedAt = -1;
        while (await reader.ReadLineAsync() is { } line)
        {
            var item = JsonSerializer.Deserialize<DecodeStreamEvent>(line, ContractJson.Options)!;
            Assert.NotEqual(DecodeEventKind.Error, item.Kind);
            if (item.Kind == DecodeEventKind.Token)
            {
                tokens.Add(item.Token!.TokenId);
                if (movedAt < 0 && (await http.GetFromJsonAsync<JsonElement>(new Uri(decode.BaseAddress, "eplb/plan"))).GetProperty("version").GetInt64() > 0)
                {
                    movedAt = tokens.Count;
                }
            }
        }

        Assert.True(movedAt > 0 && movedAt < OutputTokens, $"a plan should be applied while the request streams (at token {movedAt}):\n{decode.Output}");
        Assert.Equal(expected, tokens);
        await Poll.UntilAsync(() => decode.Output.Contains("EPLB: expert", StringComparison.Ordinal), Poll.Timeout, "the move to be logged");
        var metrics = new MetricsText(await http.GetStringAsync(new Uri(decode.BaseAddress, "metrics")));
        Assert.True(metrics.Value("moe_eplb_rebalances_total") >= 1);
    }
}
