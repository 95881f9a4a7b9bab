using MoeDapr.Engine;
using MoeDapr.Engine.Checkpoint;
using MoeDapr.Model;

namespace MoeDapr.Cli.Commands;

/// <summary>
/// Opens a model for the engine commands: a Hugging Face folder, or <c>random:FAMILY[:PRESET]</c> for random
/// weights built in memory (e.g. <c>random:mixtral:bench</c>, handy for figures without writing 2 GB to disk;
/// PRESET defaults to <see cref="ModelSpec.EngineDefaultPreset"/>).
/// </summary>
internal sealed class EngineSession : IAsyncDisposable
{
    private readonly IWeightSource _weights;

    private EngineSession(InferenceEngine engine, IWeightSource weights, ITextTokenizer? tokenizer)
    {
        Engine = engine;
        _weights = weights;
        Tokenizer = tokenizer;
    }

    public InferenceEngine Engine { get; }

    public ITextTokenizer? Tokenizer { get; }

    public ModelConfig Config => Engine.Config;

    /// <summary>Checks the --model value; returns an error message naming the argument, or null.</summary>
    public static string? Validate(string model)
    {
        if (!ModelSpec.TryParse(model, ModelSpec.EngineDefaultPreset, out var spec, out var error))
        {
            return error;
        }

        return spec.IsRandom || Directory.Exists(spec.Folder) ? null : $"--model: model folder \"{model}\" not found";
    }

    public static async Task<EngineSession> OpenAsync(string model, EngineOptions options, CancellationToken cancellationToken)
    {
        ModelConfig config;
        IWeightSource weights;
        ITextTokenizer? tokenizer = null;
        if (!ModelSpec.TryParse(model, ModelSpec.EngineDefaultPreset, out var spec, out var error))
        {
            throw new ArgumentException(error, nameof(model));
        }

        if (spec.IsRandom)
        {
            config = ModelPresets.Create(spec.Family, spec.Preset);
            weights = new InMemoryWeightSource(RandomWeights.Create(config));
        }
        else
        {
            var checkpoint = CheckpointLoader.Open(spec.Folder);
            // EOS as generation_config.json / tokenizer_config.json resolve it, not only config.json's.
            config = checkpoint.Config with { EosTokenIds = checkpoint.Folder.EosTokenIds };
            weights = checkpoint.Weights;
            tokenizer = checkpoint.Folder.HasTokenizer ? checkpoint.Folder.Tokenizer : null;
        }

        try
        {
            var engine = await InferenceEngine.CreateAsync(options, config, weights, tokenizer, cancellationToken: cancellationToken);
            return new EngineSession(engine, weights, tokenizer);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
        _weights.Dispose();
    }
}
