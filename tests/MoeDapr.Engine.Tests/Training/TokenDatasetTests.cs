using MoeDapr.Engine.Training;

namespace MoeDapr.Engine.Tests.Training;

public sealed class TokenDatasetTests
{
    [Fact]
    public void Split_HoldsOutEveryNthChunk_AndBatchesPairInputsWithNextTokens()
    {
        var tokens = Enumerable.Range(0, 1000).ToArray();
        var dataset = new TokenDataset(tokens, validationFraction: 0.25, chunkTokens: 50);

        Assert.Equal(750, dataset.TrainTokens);
        Assert.Equal(250, dataset.ValidationTokens);
        var windows = dataset.ValidationWindows(seqLen: 10, maxWindows: 100);
        // Chunks 3, 7, 11, ... are held out: the first validation window starts at token 150.
        Assert.Equal(Enumerable.Range(150, 10).Select(t => (long)t), windows[0].Inputs);
        Assert.Equal(Enumerable.Range(151, 10).Select(t => (long)t), windows[0].Targets);
        var heldOut = windows.SelectMany(w => w.Inputs).ToHashSet();

        var (inputs, targets) = dataset.SampleTrain(new Random(1), batch: 64, seqLen: 8);

        Assert.Equal(64 * 8, inputs.Length);
        Assert.DoesNotContain(inputs, heldOut.Contains);
        // Inside one chunk the target is the next token; a window may cross from one training chunk into the next.
        Assert.True(inputs.Zip(targets).Count(p => p.Second == p.First + 1) > inputs.Length * 0.8);
    }

    [Fact]
    public void SampleTrain_SameSeed_SameBatch()
    {
        var dataset = new TokenDataset(Enumerable.Range(0, 5000).ToArray(), validationFraction: 0.1, chunkTokens: 100);

        Assert.Equal(dataset.SampleTrain(new Random(7), 4, 16).Inputs, dataset.SampleTrain(new Random(7), 4, 16).Inputs);
    }
}
