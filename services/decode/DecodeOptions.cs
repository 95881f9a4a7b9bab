using Microsoft.Extensions.Options;
using MoeDapr.Contracts;

namespace MoeDapr.Decode;

/// <summary>Settings of the decode worker, bound from the <c>Model</c> and <c>Worker</c> configuration sections.</summary>
public sealed class DecodeOptions
{
    public const string ModelSection = "Model";
    public const string WorkerSection = "Worker";

    /// <summary><c>Model:Path</c>: the Hugging Face checkpoint folder to serve.</summary>
    public string ModelPath { get; set; } = string.Empty;

    /// <summary><c>Model:Name</c>: the served model name; empty means the folder's name.</summary>
    public string ModelName { get; set; } = string.Empty;

    /// <summary><c>Worker:AppId</c>: the Dapr app id this replica answers to (defaults to <c>APP_ID</c>, then <c>decode</c>).</summary>
    public string AppId { get; set; } = AppIds.Decode;

    /// <summary><c>Worker:LoadInterval</c>: how often a load snapshot is published.</summary>
    public TimeSpan LoadInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary><c>Worker:KvTransferUrl</c>: kv-transfer's control API; empty means through the Dapr sidecar.</summary>
    public string KvTransferUrl { get; set; } = string.Empty;

    /// <summary><c>Worker:UseSharedMemory</c>: false forces the socket data plane even on one host.</summary>
    public bool UseSharedMemory { get; set; } = true;

    /// <summary><c>Worker:HostId</c>: host identity compared by kv-transfer to offer shared memory.</summary>
    public string HostId { get; set; } = Environment.MachineName;

    /// <summary><c>Worker:ExpertLogInterval</c>: how often the "Expert usage" line is logged; zero turns it off.</summary>
    public TimeSpan ExpertLogInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary><c>Worker:CompletionQueue</c>: completion records waiting to be published; the oldest are dropped beyond it.</summary>
    public int CompletionQueue { get; set; } = 1024;

    /// <summary>The served model name after defaults.</summary>
    public string ResolveModelName() =>
        !string.IsNullOrWhiteSpace(ModelName) ? ModelName : Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(ModelPath)));
}

/// <summary>Checks <see cref="DecodeOptions"/> at start; each message names the setting to fix.</summary>
public sealed class DecodeOptionsValidator : IValidateOptions<DecodeOptions>
{
    public ValidateOptionsResult Validate(string? name, DecodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ModelPath))
        {
            errors.Add("Model:Path must name a checkpoint folder (config.json and *.safetensors).");
        }
        else if (!File.Exists(Path.Combine(options.ModelPath, "config.json")))
        {
            errors.Add($"Model:Path '{options.ModelPath}' holds no config.json.");
        }

        if (string.IsNullOrWhiteSpace(options.AppId))
        {
            errors.Add("Worker:AppId must not be empty.");
        }

        if (options.LoadInterval <= TimeSpan.Zero)
        {
            errors.Add($"Worker:LoadInterval must be positive (got {options.LoadInterval}).");
        }

        if (options.KvTransferUrl.Length > 0 && !Uri.TryCreate(options.KvTransferUrl, UriKind.Absolute, out _))
        {
            errors.Add($"Worker:KvTransferUrl '{options.KvTransferUrl}' is not an absolute URL.");
        }

        if (options.ExpertLogInterval < TimeSpan.Zero)
        {
            errors.Add($"Worker:ExpertLogInterval must not be negative (got {options.ExpertLogInterval}).");
        }

        if (options.CompletionQueue < 1)
        {
            errors.Add($"Worker:CompletionQueue must be at least 1 (got {options.CompletionQueue}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
