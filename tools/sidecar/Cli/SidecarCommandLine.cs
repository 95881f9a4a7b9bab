using System.Globalization;
using MoeDapr.Sidecar.Hosting;

namespace MoeDapr.Sidecar.Cli;

/// <summary>Parses daprd-style flags ("--flag value" or "--flag=value"), an app command after "--", or "run -f file".</summary>
public static class SidecarCommandLine
{
    public const string Usage = """
        moedapr-sidecar: a local Dapr sidecar (daprd subset) for MoeDapr.

        One app:
          moedapr-sidecar --app-id ID [--app-port N] [--dapr-http-port 3500] [--dapr-grpc-port 50001]
                          [--resources-path DIR]... [--config FILE] [--max-body-size 4Mi]
                          [--app-protocol http] [--app-channel-address 127.0.0.1] [--dapr-listen-addresses 127.0.0.1]
                          [--enable-app-health-check] [--app-health-check-path /healthz]
                          [--log-level info] [--registry-path DIR] [-- APP COMMAND ...]
        Several apps in one process (dapr run -f format):
          moedapr-sidecar run -f dapr.yaml [--registry-path DIR] [--log-level info]

        Tokens: DAPR_API_TOKEN (callers must send dapr-api-token), APP_API_TOKEN (sent to the app).
        Separate sidecar processes find each other through --registry-path (default $MOEDAPR_SIDECAR_REGISTRY
        or {tmp}/moedapr-sidecar/registry). Ports 0 pick free ports.
        """;

    public static ParsedCommandLine Parse(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        var separator = args.ToList().IndexOf("--");
        var flags = separator < 0 ? args.ToList() : args.Take(separator).ToList();
        var command = separator < 0 ? [] : args.Skip(separator + 1).ToList();
        string? runFile = null;
        string? registry = null;
        var logLevel = "info";
        var help = false;
        var options = new SidecarOptions
        {
            ApiToken = environment("DAPR_API_TOKEN") is { Length: > 0 } token ? token : null,
            AppApiToken = environment("APP_API_TOKEN") is { Length: > 0 } appToken ? appToken : null,
        };

        var multi = flags.Count > 0 && flags[0] == "run";
        for (var i = multi ? 1 : 0; i < flags.Count; i++)
        {
            var arg = flags[i];
            string? inline = null;
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                inline = arg[(eq + 1)..];
                arg = arg[..eq];
            }

            string Value()
            {
                if (inline is not null)
                {
                    return inline;
                }

                if (i + 1 >= flags.Count)
                {
                    throw new SidecarConfigurationException($"{arg} needs a value.");
                }

                return flags[++i];
            }

            bool Flag() => inline is null || !bool.TryParse(inline, out var value) || value;

            switch (arg)
            {
                case "-h" or "--help":
                    help = true;
                    break;
                case "-f" or "--run-file":
                    runFile = Value();
                    break;
                case "--registry-path":
                    registry = Value();
                    break;
                case "--log-level":
                    logLevel = Value();
                    options.LogLevel = logLevel;
                    break;
                case "--app-id" or "-a":
                    options.AppId = Value();
                    break;
                case "--app-port" or "-p":
                    options.AppPort = ParseInt(arg, Value());
                    break;
                case "--app-protocol" or "-P":
                    options.AppProtocol = Value();
                    break;
                case "--app-channel-address":
                    options.AppChannelAddress = Value();
                    break;
                case "--dapr-http-port" or "-H":
                    options.HttpPort = ParseInt(arg, Value());
                    break;
                case "--dapr-grpc-port" or "-G":
                    options.GrpcPort = ParseInt(arg, Value());
                    break;
                case "--dapr-listen-addresses":
                    options.ListenAddress = Value().Split(',')[0].Trim();
                    break;
                case "--resources-path" or "--components-path" or "-d":
                    options.ResourcesPaths.Add(Value());
                    break;
                case "--config" or "-c":
                    options.ConfigPath = Value();
                    break;
                case "--max-body-size":
                    options.MaxBodySize = ParseSize(arg, Value());
                    break;
                case "--dapr-http-max-request-size":
                    options.MaxBodySize = ParseInt(arg, Value()) * 1024L * 1024L;
                    break;
                case "--enable-app-health-check":
                    options.EnableAppHealthCheck = Flag();
                    break;
                case "--app-health-check-path":
                    options.AppHealthCheckPath = Value();
                    break;
                case "--app-health-probe-interval":
                    options.AppHealthProbeInterval = TimeSpan.FromSeconds(ParseInt(arg, Value()));
                    break;
                case "--app-health-threshold":
                    options.AppHealthThreshold = ParseInt(arg, Value());
                    break;
                case "--mode" or "--placement-host-address" or "--scheduler-host-address" or "--metrics-port" or "--app-max-concurrency":
                    // daprd flags that have no meaning here; accepted so daprd command lines still work.
                    _ = Value();
                    break;
                case "--enable-metrics" or "--enable-mtls" or "--enable-profiling":
                    break;
                default:
                    throw new SidecarConfigurationException($"unknown flag '{arg}' (see --help).");
            }
        }

        if (multi && runFile is null)
        {
            throw new SidecarConfigurationException("run needs -f <run file> (the dapr run -f format).");
        }

        options.RegistryPath = registry;
        return new ParsedCommandLine(multi || help ? null : options, command, runFile, registry, logLevel, help);
    }

    /// <summary>Parses a size: bytes, or with a unit (Ki, Mi, Gi, K, M, G, KB, MB, GB).</summary>
    public static long ParseSize(string flag, string text)
    {
        text = text.Trim();
        var split = text.Length;
        while (split > 0 && !char.IsDigit(text[split - 1]))
        {
            split--;
        }

        if (!double.TryParse(text[..split], NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || number < 0)
        {
            throw new SidecarConfigurationException($"{flag} '{text}' is not a size (e.g. 4Mi, 16MB, 4194304).");
        }

        var multiplier = text[split..].ToUpperInvariant() switch
        {
            "" or "B" => 1L,
            "K" or "KB" => 1000L,
            "KI" or "KIB" => 1024L,
            "M" or "MB" => 1000L * 1000,
            "MI" or "MIB" => 1024L * 1024,
            "G" or "GB" => 1000L * 1000 * 1000,
            "GI" or "GIB" => 1024L * 1024 * 1024,
            _ => throw new SidecarConfigurationException($"{flag} '{text}': unknown unit '{text[split..]}' (use Ki, Mi, Gi, K, M or G)."),
        };
        return (long)(number * multiplier);
    }

    private static int ParseInt(string flag, string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new SidecarConfigurationException($"{flag} '{text}' is not an integer.");
}
