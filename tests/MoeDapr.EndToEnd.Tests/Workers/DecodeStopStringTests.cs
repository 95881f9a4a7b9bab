using MoeDapr.EndToEnd.Tests.Infrastructure;
using MoeDapr.Model;

namespace MoeDapr.EndToEnd.Tests.Workers;

/// <summary>Decode ends a sequence on its stop strings instead of generating until the router hangs up.</summary>
public sealed class DecodeStopStringTests(WorkerStackFixture stack) : IClassFixture<WorkerStackFixture>
{
    private const int MaxTokens = 40;

    [Fact]
    public async Task Generate_StopStringEarlyInTheOutput_DecodeEndsThereWithStop()
    {
        var prompt = Enumerable.Range(0, 12).Select(i => ((i * 29) + 11) % 500).ToArray();
        var sampling = new SamplingParams { Temperature = 0, MaxTokens = MaxTokens, IgnoreEos = true };
        var (free, _) = await stack.GenerateAsync(prompt, sampling);
        Assert.Equal(MaxTokens, free.Count);

        // The stop string: the text the output's second and later tokens add, up to the first token that adds some,
        // so prefill's first token cannot match it and decode must.
        var tokenizer = ModelFolder.Load(stack.ModelDir).Tokenizer;
        var firstText = tokenizer.Decode(free.Take(1));
        var end = Enumerable.Range(2, MaxTokens - 2).First(k => Added(k).Trim().Length > 0 && !Added(k).Contains('\uFFFD', StringComparison.Ordinal));
        var stop = Added(end);
        Assert.DoesNotContain(stop, firstText, StringComparison.Ordinal);

        var (stopped, last) = await stack.GenerateAsync(prompt, sampling with { StopStrings = [stop] });

        Assert.Equal(DecodeEventKind.Done, last.Kind);
        Assert.Equal(FinishReason.Stop, last.FinishReason);
        Assert.Null(last.StopTokenId); // text ended it, not a stop token
        Assert.InRange(stopped.Count, 2, end);
        Assert.Equal(free.Take(stopped.Count), stopped);
        Assert.Equal(stopped.Count, last.CompletionTokens);
        Assert.Contains(stop, tokenizer.Decode(stopped), StringComparison.Ordinal);

        string Added(int tokens) => tokenizer.Decode(free.Take(tokens))[firstText.Length..];
    }
}
