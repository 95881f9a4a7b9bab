using System.CommandLine;
using System.Globalization;
using MoeDapr.Cli.Orchestration;
using MoeDapr.Model;

namespace MoeDapr.Cli.Commands;

/// <summary>
/// <c>moedapr up</c>: the whole system on this machine — the local sidecar host running kv-transfer, prefill, decode and
/// the router from their built assemblies — until Ctrl-C. From a checkout, <c>dotnet run --project tools/moedapr -- up</c>
/// builds any service whose output is missing first; an installed CLI looks for them in <c>MOEDAPR_SERVICES_DIR</c> or a
/// <c>services/</c> folder next to it.
/// </summary>
internal static class UpCommand
{
    private const int UsageError = 2;
    private const int Failure = 1;

    /// <summary>The router refuses shorter keys at start (Router:ApiKeys); checked here so the error names the flag.</summary>
    private const int MinApiKeyLength = 16;

    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "Checkpoint folder to serve; without it a demo checkpoint with random weights is generated once and cached." };
        var port = new Option<int>("--port") { Description = "Port of the OpenAI-compatible API (the router).", DefaultValueFactory = _ => 8080 };
        var prefill = new Option<int>("--prefill") { Description = "Prefill replicas.", DefaultValueFactory = _ => 1 };
        var decode = new Option<int>("--decode") { Description = "Decode replicas.", DefaultValueFactory = _ => 1 };
        var ep = new Option<int>("--ep") { Description = "Expert-parallel ranks per decode replica.", DefaultValueFactory = _ => 1 };
        var redis = new Option<string?>("--redis") { Description = "Redis HOST:PORT for pub/sub and state (default: in memory)." };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the router to be ready.", DefaultValueFactory = _ => 180 };
        var apiKeys = new Option<string[]>("--api-key") { Description = "A client key the router requires as 'Authorization: Bearer KEY' (repeatable); none leaves the API open." };
        var command = new Command("up", "Start the sidecar host, kv-transfer, prefill, decode and the router locally; Ctrl-C stops them all.")
        {
            model, port, prefill, decode, ep, redis, timeout, apiKeys,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(model), parse.GetValue(port), parse.GetValue(prefill), parse.GetValue(decode), parse.GetValue(ep),
            parse.GetValue(redis), TimeSpan.FromSeconds(parse.GetValue(timeout)), parse.GetValue(apiKeys) ?? [], cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(
        string? modelDir, int port, int prefill, int decode, int ep, string? redis, TimeSpan timeout, string[] apiKeys, CancellationToken cancellationToken)
    {
        if (port is < 1 or > 65535)
        {
            return Usage($"--port: must be 1..65535 (got {port})");
        }

        if (ServiceProcess.IsPortTaken(port))
        {
            return Usage($"--port: port {port} is already in use; pick another with --port");
        }

        if (prefill is < 1 or > 16 || decode is < 1 or > 16)
        {
            return Usage($"--prefill/--decode: replicas must be 1..16 (got {prefill} and {decode})");
        }

        if (ep < 1)
        {
            return Usage($"--ep: must be at least 1 (got {ep})");
        }

        if (redis is not null && !IsHostPort(redis))
        {
            return Usage($"--redis: expected HOST:PORT (got \"{redis}\")");
        }

        if (timeout <= TimeSpan.Zero)
        {
            return Usage("--timeout: must be positive");
        }

        if (apiKeys.Any(k => k.Length < MinApiKeyLength || k.Any(char.IsWhiteSpace)) || apiKeys.Distinct(StringComparer.Ordinal).Count() != apiKeys.Length)
        {
            return Usage($"--api-key: each key must be distinct, at least {MinApiKeyLength} characters, without white space");
        }

        string model;
        if (modelDir is null)
        {
            model = DemoCheckpoint.Ensure(Console.WriteLine, cancellationToken);
        }
        else
        {
            try
            {
                _ = ModelFolder.Load(modelDir);
                model = Path.GetFullPath(modelDir);
            }
            catch (Exception e) when (e is ModelFormatException or IOException or UnauthorizedAccessException)
            {
                return Usage($"--model: \"{modelDir}\" is not a usable checkpoint folder: {e.Message}");
            }
        }

        ServiceBinaries binaries;
        try
        {
            binaries = ServiceBinaries.Discover();
            await binaries.EnsureBuiltAsync(Console.WriteLine, cancellationToken);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException or InvalidOperationException)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return Failure;
        }

        // The router's admin routes answer only on a listener of their own.
        var adminPort = ServiceProcess.FreePort();
        var options = new LocalStackOptions
        {
            ModelDir = model,
            Port = port,
            PrefillReplicas = prefill,
            DecodeReplicas = decode,
            DecodeExpertParallel = ep,
            Redis = redis,
            ReadyTimeout = timeout,
            Environment = RouterEnvironment(apiKeys, adminPort),
        };
        Console.WriteLine($"Starting kv-transfer, {prefill} prefill, {decode} decode (EP={ep}) and the router on {(redis is null ? "in-memory components" : "Redis " + redis)} ...");
        LocalStack stack;
        try
        {
            stack = await LocalStack.StartAsync(options, binaries, Console.WriteLine, cancellationToken);
        }
        catch (ServiceStartException e)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return Failure;
        }
        catch (OperationCanceledException)
        {
            return Failure;
        }

        await using (stack)
        {
            var url = stack.RouterUrl.ToString().TrimEnd('/');
            Console.WriteLine();
            Console.WriteLine($"MoeDapr is ready at {url} (model {Path.GetFileName(model)}). Ctrl-C stops everything.");
            Console.WriteLine($"  admin routes: http://127.0.0.1:{adminPort.ToString(CultureInfo.InvariantCulture)}/admin/state");
            Console.WriteLine($"  curl {url}/v1/completions -H 'Content-Type: application/json'{(apiKeys.Length > 0 ? " -H 'Authorization: Bearer KEY'" : string.Empty)} \\");
            Console.WriteLine($"       -d '{{\"model\": \"{Path.GetFileName(model)}\", \"prompt\": \"Hello\", \"max_tokens\": 16}}'");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Console.WriteLine("Stopping ...");
            }
        }

        return 0;
    }

    /// <summary>The router's admin port and <c>Router:ApiKeys</c> list as environment variables, one holder name per key.</summary>
    private static Dictionary<string, string> RouterEnvironment(string[] keys, int adminPort)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal) { ["Router__AdminPort"] = adminPort.ToString(CultureInfo.InvariantCulture) };
        for (var i = 0; i < keys.Length; i++)
        {
            var index = i.ToString(CultureInfo.InvariantCulture);
            env[$"Router__ApiKeys__{index}__Key"] = keys[i];
            env[$"Router__ApiKeys__{index}__Name"] = $"cli-{index}";
        }

        return env;
    }

    private static bool IsHostPort(string value)
    {
        var colon = value.LastIndexOf(':');
        return colon > 0 && int.TryParse(value[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is > 0 and < 65536
            && Uri.CheckHostName(value[..colon].Trim('[', ']')) != UriHostNameType.Unknown;
    }

    private static int Usage(string message)
    {
        Console.Error.WriteLine("error: " + message);
        return UsageError;
    }
}
