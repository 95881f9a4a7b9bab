using System.Globalization;
using MoeDapr.Engine.Checkpoint;
using MoeDapr.Model;

namespace MoeDapr.Cli.Orchestration;

/// <summary>
/// The demo checkpoints: the trained one shipped in <c>models/</c> (what <c>moedapr up</c> serves by default), and the
/// random-weight one (<c>model init --preset demo</c>) cached in <c>~/.cache/moedapr/demo-&lt;arch&gt;</c>.
/// </summary>
public static class DemoCheckpoint
{
    public const string Arch = "qwen3_moe";

    /// <summary>Folder name of the trained demo model under <c>models/</c> (also the model name the API serves it under).</summary>
    public const string TrainedName = "kjv-qwen3_moe";

    /// <summary>Where the trained demo model is looked for: beside the CLI (an installed copy), then in the checkout the CLI runs from.</summary>
    public static IReadOnlyList<string> TrainedCandidates(string baseDirectory)
    {
        var candidates = new List<string> { Path.Combine(baseDirectory, "models", TrainedName) };
        if (ServiceBinaries.FindRepositoryRoot(baseDirectory) is { } root)
        {
            candidates.Add(Path.Combine(root, "models", TrainedName));
        }

        return candidates;
    }

    /// <summary>The first complete trained demo checkpoint of <see cref="TrainedCandidates"/>, or null.</summary>
    public static string? FindTrained(string? baseDirectory = null) =>
        TrainedCandidates(baseDirectory ?? AppContext.BaseDirectory).FirstOrDefault(IsComplete);

    /// <summary>The cached folder, generated on first use; <paramref name="say"/> tells the user which and that the weights are random.</summary>
    public static string Ensure(Action<string> say, CancellationToken cancellationToken) =>
        EnsureRandom(Arch, ModelPreset.Demo, "demo-" + Arch, say, cancellationToken);

    /// <summary>
    /// A random-weight checkpoint of <paramref name="family"/> (a model type) at <paramref name="preset"/> size, cached in
    /// <c>~/.cache/moedapr/random-&lt;family&gt;-&lt;preset&gt;</c> and generated on first use (services load models from folders).
    /// </summary>
    public static string EnsureRandom(string family, ModelPreset preset, Action<string> say, CancellationToken cancellationToken) =>
        EnsureRandom(family, preset, $"random-{family}-{preset.ToString().ToLowerInvariant()}", say, cancellationToken);

    private static string EnsureRandom(string family, ModelPreset preset, string name, Action<string> say, CancellationToken cancellationToken)
    {
        var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        var dir = Path.Combine(cache, "moedapr", name);
        if (IsComplete(dir))
        {
            say($"Using the {preset.ToString().ToLowerInvariant()} checkpoint in {dir} ({family}, random weights: the text it writes is noise).");
            return dir;
        }

        if (Directory.Exists(dir))
        {
            // Left by an older version or damaged: the services refuse it, so write it again.
            say($"The cached checkpoint in {dir} is incomplete; generating it again.");
            Directory.Delete(dir, recursive: true);
        }

        say($"Generating a {preset.ToString().ToLowerInvariant()} checkpoint ({family}, random weights: the text it writes is noise) in {dir} ...");
        // Written beside and renamed, so an interrupted run never leaves a half-written cache entry.
        var partial = dir + ".partial-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        CheckpointWriter.WriteRandom(partial, new RandomCheckpointOptions { Family = ModelConfig.SupportedModelTypes[family], Preset = preset }, cancellationToken);
        Directory.Move(partial, dir);
        return dir;
    }

    /// <summary>Every file <c>model init</c> writes is there, and the config and tokenizer load.</summary>
    private static bool IsComplete(string dir)
    {
        string[] files = ["config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json"];
        if (!files.All(f => File.Exists(Path.Combine(dir, f)))
            || !(File.Exists(Path.Combine(dir, "model.safetensors")) || File.Exists(Path.Combine(dir, "model.safetensors.index.json"))))
        {
            return false;
        }

        try
        {
            ModelFolder.Load(dir);
            return true;
        }
        catch (Exception e) when (e is ModelFormatException or IOException or InvalidDataException or System.Text.Json.JsonException)
        {
            return false;
        }
    }
}
