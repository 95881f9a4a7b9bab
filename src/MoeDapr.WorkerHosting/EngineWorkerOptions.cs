namespace MoeDapr.WorkerHosting;

/// <summary>
/// Settings prefill and decode share, bound from the <c>Model</c> and <c>Worker</c> configuration sections (see
/// <see cref="EngineWorkerExtensions.AddEngineWorker{TOptions, TValidator}"/>).
/// </summary>
public abstract class EngineWorkerOptions
{
    public const string ModelSection = "Model";
    public const string WorkerSection = "Worker";

    /// <param name="defaultAppId">The app id when neither <c>Worker:AppId</c> nor <c>APP_ID</c> is set.</param>
    protected EngineWorkerOptions(string defaultAppId) => AppId = defaultAppId;

    /// <summary><c>Model:Path</c>: the Hugging Face checkpoint folder to serve.</summary>
    public string ModelPath { get; set; } = string.Empty;

    /// <summary><c>Model:Name</c>: the served model name; empty means the folder's name.</summary>
    public string ModelName { get; set; } = string.Empty;

    /// <summary><c>Worker:AppId</c>: the Dapr app id this replica answers to (defaults to <c>APP_ID</c>, then the service's own).</summary>
    public string AppId { get; set; }

    /// <summary><c>Worker:LoadInterval</c>: how often a load snapshot is published.</summary>
    public TimeSpan LoadInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary><c>Worker:KvTransferUrl</c>: kv-transfer's control API; empty means through the Dapr sidecar.</summary>
    public string KvTransferUrl { get; set; } = string.Empty;

    /// <summary><c>Worker:UseSharedMemory</c>: false forces the socket data plane even on one host.</summary>
    public bool UseSharedMemory { get; set; } = true;

    /// <summary><c>Worker:HostId</c>: host identity compared by kv-transfer to offer shared memory.</summary>
    public string HostId { get; set; } = Environment.MachineName;

    /// <summary>The served model name after defaults.</summary>
    public string ResolveModelName() =>
        !string.IsNullOrWhiteSpace(ModelName) ? ModelName : Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(ModelPath)));

    /// <summary>What is wrong with the shared settings, each message naming the setting to fix.</summary>
    public List<string> SharedErrors()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(ModelPath))
        {
            errors.Add("Model:Path must name a checkpoint folder (config.json and *.safetensors).");
        }
        else if (!File.Exists(Path.Combine(ModelPath, "config.json")))
        {
            errors.Add($"Model:Path '{ModelPath}' holds no config.json.");
        }

        if (string.IsNullOrWhiteSpace(AppId))
        {
            errors.Add("Worker:AppId must not be empty.");
        }

        if (LoadInterval <= TimeSpan.Zero)
        {
            errors.Add($"Worker:LoadInterval must be positive (got {LoadInterval}).");
        }

        if (KvTransferUrl.Length > 0 && !Uri.TryCreate(KvTransferUrl, UriKind.Absolute, out _))
        {
            errors.Add($"Worker:KvTransferUrl '{KvTransferUrl}' is not an absolute URL.");
        }

        return errors;
    }
}
