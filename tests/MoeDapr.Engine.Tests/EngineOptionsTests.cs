using MoeDapr.Contracts;
using MoeDapr.Engine.Checkpoint;

namespace MoeDapr.Engine.Tests;

public sealed class EngineOptionsTests
{
    [Theory]
    [InlineData("Device")]
    [InlineData("Dtype")]
    [InlineData("BlockSize")]
    [InlineData("ExpertParallelDevices")]
    [InlineData("StepPolicy")]
    public void Validate_BadSetting_NamesIt(string setting)
    {
        var options = setting switch
        {
            "Device" => new EngineOptions { Device = "tpu" },
            "Dtype" => new EngineOptions { Dtype = "int8" },
            "BlockSize" => new EngineOptions { BlockSize = 0 },
            "StepPolicy" => new EngineOptions { StepPolicy = "fastest" },
            _ => new EngineOptions { ExpertParallelSize = 2, ExpertParallelDevices = ["cpu"] },
        };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(setting, error.ParamName);
        Assert.Contains($"EngineOptions.{setting}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PrefillHandle_NeverReleased_IsFreedWhenItsLeaseEnds()
    {
        var time = new ManualTime();
        var config = TinyModels.Config("mixtral");
        var options = TinyModels.Options() with { KvHandleLease = TimeSpan.FromSeconds(30) };
        await using var engine = await InferenceEngine.CreateAsync(options, config, new InMemoryWeightSource(TinyModels.Weights(config)), time: time);
        var result = (await engine.PrefillAsync([new PrefillRequest("p", TinyModels.Prompt(10), SamplingParams.Greedy(4))]))[0];
        Assert.NotNull(result.Kv);
        Assert.True(await Poll.EventuallyAsync(() => engine.Stats.KvHandles == 1));

        time.Advance(TimeSpan.FromSeconds(31));

        Assert.True(await Poll.EventuallyAsync(() => engine.Stats is { KvHandles: 0, KvBlocksUsed: 0 }));
        await Assert.ThrowsAsync<ArgumentException>(() => engine.ExportSizeAsync(result.Kv!));
    }

    /// <summary>A clock the test moves by hand.</summary>
    private sealed class ManualTime : TimeProvider
    {
        private long _ticks = DateTimeOffset.UnixEpoch.UtcTicks;

        public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}
