using System.Globalization;
using MoeDapr.Engine.Checkpoint;
using MoeDapr.Model;

namespace MoeDapr.Cli.Orchestration;

/// <summary>The demo checkpoint (<c>model init --preset demo</c>, random weights) cached in <c>~/.cache/moedapr/demo-&lt;arch&gt;</c>.</summary>
public static class DemoCheckpoint
{
    public const string Arch = "qwen3_moe";

    /// <summary>The cached folder, generated on first use; <paramref name="say"/> tells the user which and that the weights are random.</summary>
    public static string Ensure(Action<string> say, CancellationToken cancellationToken)
    {
        var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        var dir = Path.Combine(cache, "moedapr", "demo-" + Arch);
        if (File.Exists(Path.Combine(dir, "config.json")))
        {
            say($"Using the demo checkpoint in {dir} (random weights: the text it writes is noise).");
            return dir;
        }

        say($"Generating the demo checkpoint ({Arch}, random weights: the text it writes is noise) in {dir} ...");
        // Written beside and renamed, so an interrupted run never leaves a half-written cache entry.
        var partial = dir + ".partial-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        CheckpointWriter.WriteRandom(partial, new RandomCheckpointOptions { Family = ModelConfig.SupportedModelTypes[Arch], Preset = ModelPreset.Demo }, cancellationToken);
        Directory.Move(partial, dir);
        return dir;
    }
}
