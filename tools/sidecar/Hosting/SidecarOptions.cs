namespace MoeDapr.Sidecar.Hosting;

/// <summary>Settings of one app's sidecar, mirroring daprd's flags.</summary>
public sealed class SidecarOptions
{
    /// <summary>daprd's default for --max-body-size: 4 MiB.</summary>
    public const long DefaultMaxBodySize = 4L * 1024 * 1024;

    public string AppId { get; set; } = "";

    /// <summary>Port the app listens on; null when the sidecar runs without an app.</summary>
    public int? AppPort { get; set; }

    public string AppProtocol { get; set; } = "http";

    public string AppChannelAddress { get; set; } = "127.0.0.1";

    /// <summary>0 picks a free port.</summary>
    public int HttpPort { get; set; } = 3500;

    /// <summary>0 picks a free port.</summary>
    public int GrpcPort { get; set; } = 50001;

    /// <summary>Address the sidecar's ports bind to (daprd's --dapr-listen-addresses).</summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    public List<string> ResourcesPaths { get; } = [];

    /// <summary>A Configuration resource file (--config).</summary>
    public string? ConfigPath { get; set; }

    public long MaxBodySize { get; set; } = DefaultMaxBodySize;

    public bool EnableAppHealthCheck { get; set; }

    public string AppHealthCheckPath { get; set; } = "/healthz";

    public TimeSpan AppHealthProbeInterval { get; set; } = TimeSpan.FromSeconds(5);

    public int AppHealthThreshold { get; set; } = 3;

    public string LogLevel { get; set; } = "info";

    /// <summary>Token callers must present in dapr-api-token (DAPR_API_TOKEN); null disables the check.</summary>
    public string? ApiToken { get; set; }

    /// <summary>Token the sidecar sends to its app in dapr-api-token (APP_API_TOKEN).</summary>
    public string? AppApiToken { get; set; }

    /// <summary>Folder of the cross-process app registry; null uses the default under the temp folder.</summary>
    public string? RegistryPath { get; set; }

    /// <summary>How long the sidecar waits for the app port before giving up on app discovery.</summary>
    public TimeSpan AppStartTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Checks the settings and names the flag to fix.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(AppId))
        {
            throw new SidecarConfigurationException("--app-id is required.");
        }

        if (AppId.Contains("||", StringComparison.Ordinal) || AppId.Contains('/', StringComparison.Ordinal))
        {
            throw new SidecarConfigurationException($"--app-id '{AppId}' must not contain '||' or '/'.");
        }

        if (AppPort is < 1 or > 65535)
        {
            throw new SidecarConfigurationException($"--app-port {AppPort} is not a TCP port (1-65535).");
        }

        if (HttpPort is < 0 or > 65535)
        {
            throw new SidecarConfigurationException($"--dapr-http-port {HttpPort} is not a TCP port (0-65535).");
        }

        if (GrpcPort is < 0 or > 65535)
        {
            throw new SidecarConfigurationException($"--dapr-grpc-port {GrpcPort} is not a TCP port (0-65535).");
        }

        if (HttpPort != 0 && HttpPort == GrpcPort)
        {
            throw new SidecarConfigurationException("--dapr-http-port and --dapr-grpc-port must differ.");
        }

        if (!string.Equals(AppProtocol, "http", StringComparison.OrdinalIgnoreCase))
        {
            throw new SidecarConfigurationException($"--app-protocol '{AppProtocol}' is not supported; use 'http'.");
        }

        if (MaxBodySize <= 0)
        {
            throw new SidecarConfigurationException("--max-body-size must be positive (e.g. 4Mi).");
        }

        if (!AppHealthCheckPath.StartsWith('/'))
        {
            throw new SidecarConfigurationException($"--app-health-check-path '{AppHealthCheckPath}' must start with '/'.");
        }

        foreach (var path in ResourcesPaths)
        {
            if (!Directory.Exists(path) && !File.Exists(path))
            {
                throw new SidecarConfigurationException($"--resources-path '{path}' does not exist.");
            }
        }

        if (ConfigPath is not null && !File.Exists(ConfigPath))
        {
            throw new SidecarConfigurationException($"--config '{ConfigPath}' does not exist.");
        }
    }
}
