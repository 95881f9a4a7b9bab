using Microsoft.Extensions.Options;
using MoeDapr.Decode.Tests.Infrastructure;

namespace MoeDapr.Decode.Tests;

/// <summary>Decode's settings checked at start, each failure naming the setting to fix.</summary>
public sealed class DecodeOptionsTests : IDisposable
{
    private readonly TinyCheckpoint _checkpoint = new();

    private DecodeOptions Valid() => new() { ModelPath = _checkpoint.Path };

    [Fact]
    public void Validate_ACheckpointAndDefaults_Succeeds() =>
        Assert.True(new DecodeOptionsValidator().Validate(null, Valid()).Succeeded);

    [Theory]
    [InlineData("Model:Path")]
    [InlineData("Worker:AppId")]
    [InlineData("Worker:LoadInterval")]
    [InlineData("Worker:KvTransferUrl")]
    [InlineData("Worker:ExpertLogInterval")]
    [InlineData("Worker:CompletionQueue")]
    public void Validate_BadSetting_NamesIt(string setting)
    {
        var options = Valid();
        switch (setting)
        {
            case "Model:Path": options.ModelPath = Path.GetTempPath(); break; // a folder without config.json
            case "Worker:AppId": options.AppId = " "; break;
            case "Worker:LoadInterval": options.LoadInterval = TimeSpan.Zero; break;
            case "Worker:KvTransferUrl": options.KvTransferUrl = "kv-transfer/"; break;
            case "Worker:ExpertLogInterval": options.ExpertLogInterval = TimeSpan.FromSeconds(-1); break;
            default: options.CompletionQueue = 0; break;
        }

        var result = new DecodeOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith(setting + " ", StringComparison.Ordinal));
    }

    [Fact]
    public void Start_BadSetting_FailsNamingIt()
    {
        using var factory = new DecodeFactory(_checkpoint.Path, new Dictionary<string, string> { ["Worker:CompletionQueue"] = "0" });

        var failure = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());

        Assert.Contains("Worker:CompletionQueue", failure.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _checkpoint.Dispose();
}
