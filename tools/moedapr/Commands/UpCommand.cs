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
        var model = new Option<string?>("--model")
        {
            Description = $"Checkpoint folder to serve, or random:FAMILY[:PRESET] for random weights (e.g. random:qwen3_moe:demo); default: the trained demo model models/{DemoCheckpoint.TrainedName}.",
        };
        var port = new Option<int>("--port") { Description = "Port of the OpenAI-compatible API (the router).", DefaultValueFactory = _ => 8080 };
        var prefill = new Option<int>("--prefill") { Description = "Prefill replicas.", DefaultValueFactory = _ => 1 };
        var decode = new Option<int>("--decode") { Description = "Decode replicas.", DefaultValueFactory = _ => 1 };
        var ep = new Option<int>("--ep") { Description = "Expert-parallel ranks per decode replica.", DefaultValueFactory = _ => 1 };
        var redis = new Option<string?>("--redis") { Description = "Redis HOST:PORT for pub/sub and state (default: in memory)." };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the router to be ready.", DefaultValueFactory = _ => 180 };
        var servedNames = new Option<string[]>("--served-model-name")
        {
            Description = "A name clients send as \"model\" (repeatable; the first is listed first). Default: the checkpoint folder's name.",
            Arity = ArgumentArity.OneOrMore,
        };
        var verbose = new Option<bool>("--verbose") { Description = "Show every log line of every app (default: warnings and MoeDapr's own events)." };
        var apiKeys = new Option<string[]>("--api-key") { Description = "A client key the router requires as 'Authorization: Bearer KEY' (repeatable); none leaves the API open." };
        var command = new Command("up", "Start the sidecar host, kv-transfer, prefill, decode and the router locally; Ctrl-C stops them all.")
        {
            model, port, prefill, decode, ep, redis, timeout, servedNames, verbose, apiKeys,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(model), parse.GetValue(port), parse.GetValue(prefill), parse.GetValue(decode), parse.GetValue(ep),
            parse.GetValue(redis), TimeSpan.FromSeconds(parse.GetValue(timeout)),
            new ConsoleChoices(parse.GetValue(servedNames) ?? [], parse.GetValue(verbose)), parse.GetValue(apiKeys) ?? [], cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(
        string? modelDir, int port, int prefill, int decode, int ep, string? redis, TimeSpan timeout, ConsoleChoices choices, string[] apiKeys, CancellationToken cancellationToken)
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

        if (choices.ServedNames.FirstOrDefault(n => string.IsNullOrWhiteSpace(n) || n.Trim() != n) is { } badName)
        {
            return Usage($"--served-model-name: names must be non-empty without surrounding spaces (got \"{badName}\")");
        }

        string model;
        if (modelDir is null)
        {
            if (DemoCheckpoint.FindTrained() is { } trained)
            {
                model = trained;
                Console.WriteLine($"Serving the trained demo model in {trained}.");
            }
            else
            {
                Console.WriteLine($"The trained demo model is not here (looked in {string.Join(", ", DemoCheckpoint.TrainedCandidates(AppContext.BaseDirectory))}).");
                model = DemoCheckpoint.Ensure(Console.WriteLine, cancellationToken);
            }
        }
        else if (modelDir.StartsWith(ModelSpec.RandomPrefix, StringComparison.Ordinal))
        {
            if (!ModelSpec.TryParse(modelDir, ModelSpec.UpDefaultPreset, out var spec, out var specError) || !spec.IsRandom)
            {
                return Usage(specError ?? $"--model: \"{modelDir}\" is not {ModelSpec.RandomPrefix}FAMILY[:PRESET]");
            }

            model = DemoCheckpoint.EnsureRandom(spec.ModelType, spec.Preset, Console.WriteLine, cancellationToken);
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
            ServedModelNames = choices.ServedNames,
            Quiet = !choices.Verbose,
            Environment = RouterEnvironment(apiKeys, adminPort),
        };
        Console.WriteLine($"Starting kv-transfer, {prefill} prefill, {decode} decode (EP={ep}) and the router on {(redis is null ? "in-memory components" : "Redis " + redis)} ...");
        LocalStack stack;
        try
        {
            stack = await LocalStack.StartAsync(options, binaries, line => Console.WriteLine(ConsoleOutput.FormatLine(line)), cancellationToken);
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
            var served = choices.ServedNames.Count > 0 ? choices.ServedNames[0] : Path.GetFileName(model);
            Console.WriteLine();
            Console.WriteLine($"MoeDapr is ready at {url} (model {served}). Ctrl-C stops everything.");
            Console.WriteLine($"  admin routes: http://127.0.0.1:{adminPort.ToString(CultureInfo.InvariantCulture)}/admin/state");
            Console.WriteLine($"  curl {url}/v1/completions -H 'Content-Type: application/json'{(apiKeys.Length > 0 ? " -H 'Authorization: Bearer KEY'" : string.Empty)} \\");
            Console.WriteLine($"       -d '{{\"model\": \"{served}\", \"prompt\": \"Hello\", \"max_tokens\": 16}}'");
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

    /// <summary>The flags that shape what clients see as the model's name and what the console shows.</summary>
    private sealed record ConsoleChoices(IReadOnlyList<string> ServedNames, bool Verbose);

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
