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

    /// <summary>
    /// Opens <paramref name="model"/>, runs <paramref name="body"/> on it and closes it; a bad model folder or an engine
    /// setting the engine refuses ends the command with the usual error code instead of a stack trace.
    /// </summary>
    public static async Task<int> RunAsync(string model, EngineOptions options, Func<EngineSession, Task<int>> body, CancellationToken cancellationToken)
    {
        try
        {
            await using var session = await OpenAsync(model, options, cancellationToken);
            return await body(session);
        }
        catch (ModelFormatException e)
        {
            return EngineCommandOptions.Fail(e.Message);
        }
        catch (ArgumentException e) when (e.ParamName is not null && e.Message.StartsWith("EngineOptions.", StringComparison.Ordinal))
        {
            return EngineCommandOptions.Usage(EngineCommandOptions.Describe(e));
        }
    }

    /// <summary>The <c>--tokens</c> error for the first id outside this model's vocabulary, or null.</summary>
    public string? CheckVocabulary(IReadOnlyList<int> ids) =>
        ids.FirstOrDefault(t => t >= Config.VocabSize, -1) is var bad && bad >= 0
            ? $"--tokens: token id {bad} is outside the vocabulary [0, {Config.VocabSize})"
            : null;

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
