using MoeDapr.Engine.Checkpoint;
using MoeDapr.Engine.Training;
using MoeDapr.Model;
using MoeDapr.Model.Tokenization;

namespace MoeDapr.Engine.Tests.Training;

public sealed class MoeTrainerTests(TrainedTinyModel trained) : IClassFixture<TrainedTinyModel>
{
    [Fact]
    public void Train_FewSteps_TrainingLossAndValidationPerplexityFall()
    {
        var losses = trained.Progress.Select(p => p.Loss).ToArray();

        Assert.Equal(trained.Options.Steps, trained.Result.Steps);
        Assert.Equal(losses.Length, trained.Result.Steps);
        // Averaged over five steps: one batch is noisy, a trend is not.
        Assert.True(losses[^5..].Average() < losses[..5].Average() - 0.5, $"first {losses[..5].Average():F3}, last {losses[^5..].Average():F3}");
        Assert.True(trained.Result.ValidationPerplexity < trained.Result.InitialValidationPerplexity * 0.7,
            $"validation perplexity {trained.Result.InitialValidationPerplexity:F1} -> {trained.Result.ValidationPerplexity:F1}");
        Assert.Equal(trained.Result.Steps * (long)trained.Options.Batch * trained.Options.SeqLen, trained.Result.TokensSeen);
    }

    [Fact]
    public async Task SavedCheckpoint_EngineLogits_EqualTheTrainingModuleForward()
    {
        using var checkpoint = CheckpointLoader.Open(trained.Directory);
        await using var engine = await InferenceEngine.CreateAsync(TinyModels.Options(), checkpoint.Config, checkpoint.Weights);

        for (var i = 0; i < TrainedTinyModel.Prompts.Count; i++)
        {
            var actual = await engine.LogitsAsync(TrainedTinyModel.Prompts[i]);
            var expected = trained.ModuleLogits[i];
            var scale = expected.Max(Math.Abs);
            Assert.True(scale > 1, $"logits too flat to compare ({scale})");
            Assert.True(EngineTestExtensions.MaxAbsDiff(expected, actual) < 1e-4 * (1 + scale), $"prompt {i}: max diff {EngineTestExtensions.MaxAbsDiff(expected, actual)}");
        }
    }

    [Fact]
    public void SavedCheckpoint_IsTheHuggingFaceLayoutWithATokenizerTrainedOnTheCorpus()
    {
        var folder = ModelFolder.Load(trained.Directory);
        var tokenizer = folder.Tokenizer;
        var text = "And God said, let there be light: the quick brown fox, ünïcödé and 🙂.";

        Assert.Equal(
            ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"],
            System.IO.Directory.GetFiles(trained.Directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(trained.Result.Config.VocabSize, folder.Config.VocabSize);
        Assert.Equal(folder.Config.VocabSize, tokenizer.VocabSize);
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text, addSpecialTokens: false)));
    }

    [Fact]
    public async Task Perplexity_OfTheTrainingText_IsBelowUniformAndEqualsTheEngineLogitsComputedByHand()
    {
        using var checkpoint = CheckpointLoader.Open(trained.Directory);
        await using var engine = await InferenceEngine.CreateAsync(TinyModels.Options(), checkpoint.Config, checkpoint.Weights);
        var tokens = checkpoint.Tokenizer.Encode(TrainingCorpus.English[..600], addSpecialTokens: false);
        const int window = 24;

        var result = await PerplexityEvaluator.EvaluateAsync(engine, tokens, window);

        double nll = 0;
        for (var i = 1; i < tokens.Count; i++)
        {
            var context = tokens.Skip(Math.Max(0, i - (window - 1))).Take(Math.Min(i, window - 1)).ToArray();
            var logits = await engine.LogitsAsync(context);
            var logNorm = Math.Log(logits.Sum(z => Math.Exp(z - logits.Max()))) + logits.Max();
            nll += logNorm - logits[tokens[i]];
        }

        Assert.Equal(tokens.Count - 1, result.Tokens);
        Assert.Equal(Math.Exp(nll / (tokens.Count - 1)), result.Perplexity, 1e-6 * result.Perplexity);
        Assert.True(result.Perplexity < checkpoint.Config.VocabSize / 2.0, $"perplexity {result.Perplexity:F1} vs uniform {checkpoint.Config.VocabSize}");
    }

    [Fact]
    public async Task Perplexity_WindowBeyondTheContext_IsRefused()
    {
        using var checkpoint = CheckpointLoader.Open(trained.Directory);
        await using var engine = await InferenceEngine.CreateAsync(TinyModels.Options(), checkpoint.Config, checkpoint.Weights);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            PerplexityEvaluator.EvaluateAsync(engine, [1, 2, 3], checkpoint.Config.MaxPositionEmbeddings + 1));
    }

    [Fact]
    public async Task Train_Mixtral_SavesACheckpointWhoseEngineLogitsEqualTheModule()
    {
        var dir = Path.Combine(Path.GetTempPath(), "moedapr-training-tests", Guid.NewGuid().ToString("N"));
        try
        {
            var prompt = TrainedTinyModel.Prompts[1];
            float[]? expected = null;
            var result = MoeTrainer.Train(trained.Options with { Family = ModelFamily.Mixtral, Steps = 4, EvalEvery = 100 }, dir, trained: model =>
            {
                using var scope = TorchSharp.torch.NewDisposeScope();
                using var noGrad = TorchSharp.torch.no_grad();
                expected = model.forward(TorchSharp.torch.tensor(prompt.Select(t => (long)t).ToArray()).view(1, -1))[0, -1].data<float>().ToArray();
            });
            using var checkpoint = CheckpointLoader.Open(dir);
            await using var engine = await InferenceEngine.CreateAsync(TinyModels.Options(), checkpoint.Config, checkpoint.Weights);

            var actual = await engine.LogitsAsync(prompt);

            Assert.Equal("mixtral", checkpoint.Config.ModelType);
            // SentencePiece-style documents start with <s>, as the served prompts do.
            Assert.Equal(checkpoint.Tokenizer.BosTokenId, checkpoint.Tokenizer.Encode("In the beginning")[0]);
            Assert.True(EngineTestExtensions.MaxAbsDiff(expected!, actual) < 1e-4 * (1 + expected!.Max(Math.Abs)), $"max diff {EngineTestExtensions.MaxAbsDiff(expected!, actual)}");
            Assert.Equal(4, result.Steps);
        }
        finally
        {
            System.IO.Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Train_SameSeed_IsDeterministic()
    {
        var dir = Path.Combine(Path.GetTempPath(), "moedapr-training-tests", Guid.NewGuid().ToString("N"));
        try
        {
            // Within the warm-up the learning rate does not depend on the run's length, so the first steps must agree exactly.
            var warmup = trained.Options.WarmupSteps;
            var progress = new List<TrainingProgress>();
            MoeTrainer.Train(trained.Options with { Steps = warmup, EvalEvery = 100 }, dir, progress.Add);

            Assert.Equal(trained.Progress.Take(warmup).Select(p => p.Loss), progress.Select(p => p.Loss));
        }
        finally
        {
            System.IO.Directory.Delete(dir, recursive: true);
        }
    }
}
