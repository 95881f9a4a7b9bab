using System.Text.Json;
using MoeDapr.Router.Api;
using MoeDapr.Router.Generation;

namespace MoeDapr.Router.Tests.Generation;

public sealed class UnknownFieldLogTests
{
    private readonly ListLogger<UnknownFieldLog> _logger = new();

    private static JsonElement Body(string json) => JsonDocument.Parse(json).RootElement;

    [Fact]
    public void Observe_SameUnknownFieldTwice_LogsItOnce()
    {
        var log = new UnknownFieldLog(_logger);

        log.Observe(ApiKind.Completion, Body("""{"model":"m","prompt":"p","min_p":0.1}"""));
        log.Observe(ApiKind.Completion, Body("""{"model":"m","prompt":"p","min_p":0.2,"max_tokens":3}"""));

        var entry = Assert.Single(_logger.Entries);
        Assert.Contains("min_p", entry.Message);
    }

    [Fact]
    public void Observe_KnownFields_LogsNothing()
    {
        var log = new UnknownFieldLog(_logger);

        log.Observe(ApiKind.Chat, Body("""{"model":"m","messages":[],"max_completion_tokens":3,"top_logprobs":1,"stream":false}"""));

        Assert.Empty(_logger.Entries);
    }

    [Fact]
    public void Observe_FieldOfTheOtherRoute_IsUnknownHere()
    {
        var log = new UnknownFieldLog(_logger);

        log.Observe(ApiKind.Completion, Body("""{"model":"m","prompt":"p","messages":[]}"""));

        Assert.Contains("messages", Assert.Single(_logger.Entries).Message);
    }

    [Fact]
    public void Observe_ManyInventedNames_RemembersAndLogsABoundedNumber()
    {
        var log = new UnknownFieldLog(_logger);

        for (var i = 0; i < UnknownFieldLog.MaxRemembered * 3; i++)
        {
            log.Observe(ApiKind.Completion, Body($$"""{"model":"m","field_{{i}}":1}"""));
        }

        Assert.Equal(UnknownFieldLog.MaxRemembered, log.Remembered);
        Assert.Equal(UnknownFieldLog.MaxRemembered, _logger.Entries.Count);
    }
}
