using MoeDapr.Sidecar.Cli;
using MoeDapr.Sidecar.Hosting;
using MoeDapr.Sidecar.PubSub;
using MoeDapr.Sidecar.Resources;

namespace MoeDapr.Sidecar.Tests.Unit;

/// <summary>Durations, routing rules, app answers, flags and resources as daprd reads them.</summary>
public sealed class ParsingTests
{
    [Theory]
    [InlineData("15s", 15_000)]
    [InlineData("500ms", 500)]
    [InlineData("1h2m3s", 3_723_000)]
    [InlineData("0h0m1s250ms", 1_250)]
    [InlineData("PT2S", 2_000)]
    [InlineData("P1DT1H", 90_000_000)]
    public void DurationParser_DaprForms_ParseToMilliseconds(string text, long milliseconds)
    {
        Assert.True(DurationParser.TryParse(text, out var value));
        Assert.Equal(milliseconds, (long)value.TotalMilliseconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5 seconds")]
    [InlineData("10")]
    [InlineData("1x")]
    public void DurationParser_Garbage_IsRejected(string text) => Assert.False(DurationParser.TryParse(text, out _));

    [Fact]
    public void DurationParser_PeriodWithRepetitions_ParsesCount()
    {
        Assert.True(DurationParser.TryParsePeriod("R3/PT1S", out var period, out var repetitions));
        Assert.Equal(TimeSpan.FromSeconds(1), period);
        Assert.Equal(3, repetitions);
    }

    [Fact]
    public void MatchExpression_EqualityOnEventFields_Evaluates()
    {
        using var envelope = JsonDocument.Parse("""{"type":"order","data":{"kind":"big","n":3,"ok":true}}""");
        Assert.True(MatchExpression.TryParse("event.type == 'order' && event.data.kind == \"big\"", out var both, out _));
        Assert.True(MatchExpression.TryParse("event.data.n == 3 && event.data.ok == true", out var numbers, out _));
        Assert.True(MatchExpression.TryParse("event.data.kind != \"big\"", out var notBig, out _));

        Assert.True(both!.Matches(envelope.RootElement));
        Assert.True(numbers!.Matches(envelope.RootElement));
        Assert.False(notBig!.Matches(envelope.RootElement));
        Assert.False(MatchExpression.TryParse("event.data.n > 3", out _, out var error));
        Assert.Contains("==", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", DeliveryOutcome.Success)]
    [InlineData("not json", DeliveryOutcome.Success)]
    [InlineData("{\"status\":\"SUCCESS\"}", DeliveryOutcome.Success)]
    [InlineData("{\"status\":\"retry\"}", DeliveryOutcome.Retry)]
    [InlineData("{\"status\":\"DROP\"}", DeliveryOutcome.Drop)]
    [InlineData("{\"status\":\"WHATEVER\"}", DeliveryOutcome.Retry)]
    public void ParseAnswer_AppBody_MapsToDaprdOutcome(string body, DeliveryOutcome expected) =>
        Assert.Equal(expected, SubscriptionManager.ParseAnswer(Encoding.UTF8.GetBytes(body)));

    [Fact]
    public void Envelope_JsonData_HasDaprdFields()
    {
        var bytes = CloudEvents.Envelope("""{"id":"o1"}"""u8, "application/json", "router", "pubsub", "orders", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", TimeProvider.System);
        using var envelope = JsonDocument.Parse(bytes);
        var root = envelope.RootElement;

        Assert.Equal("1.0", root.GetProperty("specversion").GetString());
        Assert.Equal("com.dapr.event.sent", root.GetProperty("type").GetString());
        Assert.Equal("router", root.GetProperty("source").GetString());
        Assert.Equal("orders", root.GetProperty("topic").GetString());
        Assert.Equal("pubsub", root.GetProperty("pubsubname").GetString());
        Assert.Equal("application/json", root.GetProperty("datacontenttype").GetString());
        Assert.Equal("o1", root.GetProperty("data").GetProperty("id").GetString());
        Assert.Equal(root.GetProperty("traceparent").GetString(), root.GetProperty("traceid").GetString());
        Assert.True(Guid.TryParse(root.GetProperty("id").GetString(), out _));
        Assert.True(DateTimeOffset.TryParse(root.GetProperty("time").GetString(), System.Globalization.CultureInfo.InvariantCulture, out _));
    }

    [Fact]
    public void Envelope_PublishedCloudEvent_KeptWithTopicOverwritten()
    {
        var bytes = CloudEvents.Envelope("""{"specversion":"1.0","id":"mine","source":"x","type":"custom","topic":"wrong","data":1}"""u8,
            "application/cloudevents+json", "router", "pubsub", "orders", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", TimeProvider.System);
        using var envelope = JsonDocument.Parse(bytes);

        Assert.Equal("mine", envelope.RootElement.GetProperty("id").GetString());
        Assert.Equal("custom", envelope.RootElement.GetProperty("type").GetString());
        Assert.Equal("orders", envelope.RootElement.GetProperty("topic").GetString());
    }

    [Fact]
    public void Envelope_BinaryData_UsesDataBase64()
    {
        var bytes = CloudEvents.Envelope([1, 2, 3], "application/octet-stream", "a", "pubsub", "t", "tp", TimeProvider.System);
        using var envelope = JsonDocument.Parse(bytes);

        Assert.Equal("AQID", envelope.RootElement.GetProperty("data_base64").GetString());
        Assert.False(envelope.RootElement.TryGetProperty("data", out _));
    }

    [Fact]
    public void CommandLine_DaprdFlags_FillOptionsAndAppCommand()
    {
        var parsed = SidecarCommandLine.Parse(
            ["--app-id", "router", "--app-port=5000", "--dapr-http-port", "3501", "--resources-path", "a", "--resources-path", "b",
             "--max-body-size", "16Mi", "--enable-app-health-check", "--", "dotnet", "router.dll", "--urls", "x"],
            name => name == "DAPR_API_TOKEN" ? "tok" : null);

        var options = parsed.Single!;
        Assert.Equal("router", options.AppId);
        Assert.Equal(5000, options.AppPort);
        Assert.Equal(3501, options.HttpPort);
        Assert.Equal(["a", "b"], options.ResourcesPaths);
        Assert.Equal(16L * 1024 * 1024, options.MaxBodySize);
        Assert.True(options.EnableAppHealthCheck);
        Assert.Equal("tok", options.ApiToken);
        Assert.Equal(["dotnet", "router.dll", "--urls", "x"], parsed.AppCommand);
    }

    [Theory]
    [InlineData("--bogus", "unknown flag '--bogus'")]
    [InlineData("--app-port", "--app-port needs a value")]
    [InlineData("--max-body-size=4Qi", "unknown unit")]
    public void CommandLine_BadFlag_NamesIt(string arg, string message)
    {
        var ex = Assert.Throws<SidecarConfigurationException>(() => SidecarCommandLine.Parse([arg], _ => null));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_MissingAppId_NamesFlag()
    {
        var ex = Assert.Throws<SidecarConfigurationException>(() => new SidecarOptions().Validate());
        Assert.Contains("--app-id", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resiliency_RetryPolicies_ReadAndBoundToComponent()
    {
        var set = new ResourceSet();
        ResourceLoader.LoadText("""
            apiVersion: dapr.io/v1alpha1
            kind: Resiliency
            metadata:
              name: r
            spec:
              policies:
                retries:
                  backoff:
                    policy: exponential
                    duration: 100ms
                    maxInterval: 1s
                    maxRetries: 5
              targets:
                components:
                  pubsub:
                    inbound:
                      retry: backoff
            """, "r.yaml", set);

        var policy = set.InboundRetryFor("any", "pubsub")!;
        Assert.Equal(TimeSpan.FromMilliseconds(100), policy.DelayFor(1));
        Assert.Equal(TimeSpan.FromMilliseconds(400), policy.DelayFor(3));
        Assert.Equal(TimeSpan.FromSeconds(1), policy.DelayFor(10));
        Assert.True(policy.Allows(5));
        Assert.False(policy.Allows(6));
        Assert.Null(set.InboundRetryFor("any", "other"));
    }

    [Fact]
    public void Resiliency_UnknownPolicyName_IsAnError()
    {
        var ex = Assert.Throws<SidecarResourceException>(() => ResourceLoader.LoadText("""
            apiVersion: dapr.io/v1alpha1
            kind: Resiliency
            metadata:
              name: r
            spec:
              policies:
                retries: {}
              targets:
                components:
                  pubsub:
                    inbound:
                      retry: missing
            """, "r.yaml", new ResourceSet()));
        Assert.Contains("'missing'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RepositoryComponents_LoadWithoutErrors()
    {
        var root = AppContext.BaseDirectory;
        while (!Directory.Exists(Path.Combine(root, "components")))
        {
            root = Path.GetDirectoryName(root) ?? throw new DirectoryNotFoundException("components/ not found above the test output");
        }

        var redis = ResourceLoader.Load([Path.Combine(root, "components")], Path.Combine(root, "components", "config.yaml"));
        var local = ResourceLoader.Load([Path.Combine(root, "components", "local")], null);

        Assert.Equal(["pubsub.redis", "state.redis"], redis.Components.Select(c => c.Type).Order());
        Assert.Equal(["pubsub.in-memory", "state.in-memory"], local.Components.Select(c => c.Type).Order());
        Assert.All(redis.Components.Concat(local.Components).Where(c => c.Type.StartsWith("state.", StringComparison.Ordinal)),
            c => Assert.True(c.GetBool("actorStateStore", false)));
        Assert.NotNull(redis.InboundRetryFor("router", "pubsub"));
    }

    [Fact]
    public void RunFile_RepositoryDeployFile_ReadsFourAppsWithTheirPorts()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "MoeDapr.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new DirectoryNotFoundException("MoeDapr.sln not found above the test output");
        }

        var file = Path.Combine(root, "deploy", "dapr.yaml");
        Assert.True(File.Exists(file), $"{file} is missing");

        var apps = RunFile.Load(file, _ => null);

        Assert.Equal(["decode", "kv-transfer", "prefill", "router"], apps.Select(a => a.Options.AppId).Order());
        Assert.All(apps, a => Assert.Equal(Path.Combine(root, "components"), Assert.Single(a.Options.ResourcesPaths)));
        Assert.All(apps, a => Assert.True(a.Options.EnableAppHealthCheck));
        // common.maxBodySize 16Mi; kv-transfer overrides it with 4Mi (its bytes never travel through Dapr).
        Assert.All(apps.Where(a => a.Options.AppId != "kv-transfer"), a => Assert.Equal(16L * 1024 * 1024, a.Options.MaxBodySize));
        Assert.Equal(4L * 1024 * 1024, apps.Single(a => a.Options.AppId == "kv-transfer").Options.MaxBodySize);
        Assert.Equal(3500, apps.Single(a => a.Options.AppId == "router").Options.HttpPort);
    }

    [Fact]
    public void RunFile_DaprRunFormat_ResolvesPathsAndPorts()
    {
        var dir = Path.Combine(Path.GetTempPath(), "moedapr-runfile-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(dir, "svc", "res"));
        var file = Path.Combine(dir, "dapr.yaml");
        File.WriteAllText(file, """
            version: 1
            common:
              env:
                SHARED: "1"
            apps:
              - appID: router
                appDirPath: ./svc
                appPort: 5000
                daprHTTPPort: 3500
                resourcesPath: ./res
                command: ["dotnet", "run"]
                env:
                  OWN: "2"
            """);
        try
        {
            var app = Assert.Single(RunFile.Load(file, _ => null));

            Assert.Equal("router", app.Options.AppId);
            Assert.Equal(5000, app.Options.AppPort);
            Assert.Equal(3500, app.Options.HttpPort);
            Assert.Equal(0, app.Options.GrpcPort);
            Assert.Equal(Path.Combine(dir, "svc", "res"), Assert.Single(app.Options.ResourcesPaths));
            Assert.Equal(["dotnet", "run"], app.Command);
            Assert.Equal("1", app.Environment["SHARED"]);
            Assert.Equal("2", app.Environment["OWN"]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
