using System.Diagnostics.CodeAnalysis;
using MoeDapr.Model;

namespace MoeDapr.Cli.Commands;

/// <summary>
/// A <c>--model</c> value: a checkpoint folder, or <c>random:FAMILY[:PRESET]</c> for random weights of a preset size
/// (FAMILY a supported model_type such as <c>mixtral</c>). Without PRESET each context takes its documented default.
/// </summary>
public sealed record ModelSpec
{
    public const string RandomPrefix = "random:";

    /// <summary>
    /// The preset of a bare <c>random:FAMILY</c> in the engine commands (generate, logits, bench engine): their weights are
    /// built in memory on every run, so the smallest size answers at once.
    /// </summary>
    public const ModelPreset EngineDefaultPreset = ModelPreset.Tiny;

    /// <summary>The --model help of the engine commands, naming <see cref="EngineDefaultPreset"/>.</summary>
    public const string EngineHelp = "Model folder (Hugging Face layout) or random:FAMILY[:PRESET] (random weights in memory; PRESET defaults to tiny).";

    /// <summary>
    /// The preset of a bare <c>random:FAMILY</c> in <c>bench serving</c>: the size the serving figures are measured on
    /// (written once into the cache, since the worker processes load models from folders).
    /// </summary>
    public const ModelPreset ServingBenchDefaultPreset = ModelPreset.Bench;

    /// <summary>The preset of a bare <c>random:FAMILY</c> in <c>moedapr up</c>: the demo size, served by four processes on one machine.</summary>
    public const ModelPreset UpDefaultPreset = ModelPreset.Demo;

    private ModelSpec(string? folder, string? modelType, ModelPreset preset)
    {
        Folder = folder;
        ModelType = modelType;
        Preset = preset;
    }

    /// <summary>The checkpoint folder; null for random weights.</summary>
    public string? Folder { get; }

    /// <summary>The model_type of random weights (a key of <see cref="ModelConfig.SupportedModelTypes"/>); null for a folder.</summary>
    public string? ModelType { get; }

    /// <summary>The size of random weights (meaningless for a folder).</summary>
    public ModelPreset Preset { get; }

    [MemberNotNullWhen(true, nameof(ModelType))]
    [MemberNotNullWhen(false, nameof(Folder))]
    public bool IsRandom => ModelType is not null;

    /// <summary>The family of random weights.</summary>
    public ModelFamily Family => IsRandom
        ? ModelConfig.SupportedModelTypes[ModelType]
        : throw new InvalidOperationException("a checkpoint folder's family is read from its config.json");

    /// <summary>
    /// Reads <paramref name="text"/>; a bare <c>random:FAMILY</c> gets <paramref name="defaultPreset"/>. A folder is not
    /// checked here (each command opens it and reports what is wrong). On failure <paramref name="error"/> names
    /// <paramref name="argument"/> and says what is expected.
    /// </summary>
    public static bool TryParse(
        string text, ModelPreset defaultPreset, [NotNullWhen(true)] out ModelSpec? spec, [NotNullWhen(false)] out string? error, string argument = "--model")
    {
        ArgumentNullException.ThrowIfNull(text);
        spec = null;
        error = null;
        if (!text.StartsWith(RandomPrefix, StringComparison.Ordinal))
        {
            if (text.Length == 0)
            {
                error = $"{argument}: a checkpoint folder or {RandomPrefix}FAMILY[:PRESET] is required";
                return false;
            }

            spec = new ModelSpec(text, null, defaultPreset);
            return true;
        }

        var parts = text.Split(':');
        var preset = defaultPreset;
        if (parts.Length is < 2 or > 3 || !ModelConfig.SupportedModelTypes.ContainsKey(parts[1])
            || (parts.Length == 3 && !ModelPresets.TryParsePreset(parts[2], out preset)))
        {
            error = $"{argument}: \"{text}\" is not {RandomPrefix}FAMILY[:PRESET] with FAMILY one of {string.Join(", ", ModelConfig.SupportedModelTypes.Keys)} and PRESET one of {string.Join(", ", ModelPresets.PresetNames)}";
            return false;
        }

        spec = new ModelSpec(null, parts[1], preset);
        return true;
    }
}
