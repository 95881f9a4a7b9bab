using MoeDapr.Engine;
using MoeDapr.Engine.Checkpoint;
using MoeDapr.Model;

namespace MoeDapr.Cli.Commands;

/// <summary>
/// Opens a model for the engine commands: a Hugging Face folder, or <c>random:FAMILY[:PRESET]</c> for random
/// weights built in memory (e.g. <c>random:mixtral:bench</c>, handy for figures without writing 2 GB to disk).
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
        if (model.StartsWith("random:", StringComparison.Ordinal))
        {
            var parts = model.Split(':');
            if (parts.Length is < 2 or > 3 || !ModelConfig.SupportedModelTypes.ContainsKey(parts[1]) ||
                (parts.Length == 3 && !ModelPresets.TryParsePreset(parts[2], out _)))
            {
                return $"--model: \"{model}\" is not random:FAMILY[:PRESET] with FAMILY one of {string.Join(", ", ModelConfig.SupportedModelTypes.Keys)} and PRESET one of {string.Join(", ", ModelPresets.PresetNames)}";
            }

            return null;
        }

        return Directory.Exists(model) ? null : $"--model: model folder \"{model}\" not found";
    }

    public static async Task<EngineSession> OpenAsync(string model, EngineOptions options, CancellationToken cancellationToken)
    {
        ModelConfig config;
        IWeightSource weights;
        if (model.StartsWith("random:", StringComparison.Ordinal))
        {
            var parts = model.Split(':');
            ModelPresets.TryParsePreset(parts.Length == 3 ? parts[2] : "tiny", out var preset);
            config = ModelPresets.Create(ModelConfig.SupportedModelTypes[parts[1]], preset);
            weights = new InMemoryWeightSource(RandomWeights.Create(config));
        }
        else
        {
            var checkpoint = CheckpointLoader.Open(model);
            config = checkpoint.Config;
            weights = checkpoint.Weights;
        }

        try
        {
            var engine = await InferenceEngine.CreateAsync(options, config, weights, tokenizer: null, cancellationToken: cancellationToken);
            return new EngineSession(engine, weights, null);
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
