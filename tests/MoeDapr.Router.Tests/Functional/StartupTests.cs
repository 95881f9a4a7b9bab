using Microsoft.Extensions.Options;

namespace MoeDapr.Router.Tests.Functional;

public sealed class StartupTests
{
    [Fact]
    public void Start_NoModelPath_FailsNamingTheSetting()
    {
        using var factory = new RouterFactory(withModel: false);

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("Model:Path", Flatten(error));
    }

    [Fact]
    public void Start_ModelPathWithoutConfigJson_FailsNamingTheFolder()
    {
        var dir = Directory.CreateTempSubdirectory("moedapr-router-test").FullName;
        try
        {
            using var factory = new RouterFactory(new Dictionary<string, string?> { ["Model:Path"] = dir }, withModel: false);

            var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

            Assert.Contains(dir, Flatten(error));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("Router:Batching:MaxBatchSize", "0", "Router:Batching:MaxBatchSize")]
    [InlineData("Router:Batching:Policy", "magic", "Router:Batching:Policy")]
    [InlineData("Router:Admission:QueueTimeout", "00:00:00", "Router:Admission:QueueTimeout")]
    [InlineData("Router:Workers:DecodePolicy", "random", "Router:Workers:DecodePolicy")]
    [InlineData("Router:Admission:TargetQueueDelay", "-00:00:01", "Router:Admission:TargetQueueDelay")]
    [InlineData("Router:Admission:DispatchDeadline", "-00:00:01", "Router:Admission:DispatchDeadline")]
    [InlineData("Router:ApiKeys:0:Key", "short", "Router:ApiKeys:0:Key")]
    [InlineData("Router:ApiKeys:0:Priority", "urgent", "Router:ApiKeys")]
    [InlineData("Router:AdminPort", "70000", "Router:AdminPort")]
    [InlineData("Router:Limits:MaxRequestBodyBytes", "10", "Router:Limits:MaxRequestBodyBytes")]
    [InlineData("Router:Limits:MaxStopStringLength", "0", "Router:Limits:MaxStopStringLength")]
    [InlineData("Router:Limits:RequestHeadersTimeout", "00:00:00", "Router:Limits:RequestHeadersTimeout")]
    [InlineData("Router:Limits:MinRequestBodyGracePeriod", "00:00:00.5", "Router:Limits:MinRequestBodyGracePeriod")]
    [InlineData("Router:Limits:MaxConcurrentConnections", "-1", "Router:Limits:MaxConcurrentConnections")]
    public void Start_InvalidSetting_FailsWithAMessageNamingIt(string key, string value, string named)
    {
        using var factory = new RouterFactory(new Dictionary<string, string?> { [key] = value });

        var error = Assert.ThrowsAny<OptionsValidationException>(() => factory.CreateClient());

        Assert.Contains(named, error.Message);
    }

    [Fact]
    public void Start_TargetQueueDelayBeyondDispatchDeadline_FailsNamingBoth()
    {
        using var factory = new RouterFactory(new Dictionary<string, string?>
        {
            ["Router:Admission:TargetQueueDelay"] = "00:00:02",
            ["Router:Admission:DispatchDeadline"] = "00:00:01",
        });

        var error = Assert.ThrowsAny<OptionsValidationException>(() => factory.CreateClient());

        Assert.Contains("Router:Admission:TargetQueueDelay must not exceed Router:Admission:DispatchDeadline", error.Message);
    }

    private static string Flatten(Exception error) => error is AggregateException aggregate
        ? string.Join(" | ", aggregate.Flatten().InnerExceptions.Select(e => e.Message))
        : error.ToString();
}
