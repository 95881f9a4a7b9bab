using System.Globalization;

namespace MoeDapr.Cli.Loadtest;

/// <summary>What one load test offers the server, as given on the command line (times in the units the options use).</summary>
public sealed record LoadtestSettings
{
    /// <summary>The most requests one run may schedule (target QPS × duration), so the schedule fits in memory.</summary>
    public const int MaxArrivals = 2_000_000;

    /// <summary>Server base URL, or the full <c>/v1/completions</c> URL.</summary>
    public required string Url { get; init; }

    /// <summary>Seconds during which requests arrive.</summary>
    public required double DurationSeconds { get; init; }

    /// <summary>Mean arrival rate (requests per second) of the Poisson process.</summary>
    public required double TargetQps { get; init; }

    /// <summary><c>max_tokens</c> of every request.</summary>
    public required int MaxNewTokens { get; init; }

    /// <summary>Shortest prompt, in words.</summary>
    public required int PromptLengthMin { get; init; }

    /// <summary>Longest prompt, in words.</summary>
    public required int PromptLengthMax { get; init; }

    /// <summary>Words of a prefix shared by many prompts (prepended to the drawn prompt); 0 for none.</summary>
    public int SharedPrefixLength { get; init; }

    /// <summary>Distinct shared prefixes the prompts draw from, uniformly (used with <see cref="SharedPrefixLength"/>).</summary>
    public int SharedPrefixes { get; init; } = 1;

    /// <summary>Most requests in flight at once; arrivals beyond it are dropped by the client. Null: no cap.</summary>
    public int? Concurrency { get; init; }

    /// <summary>Ask for SSE streaming and measure TTFT and inter-token latency.</summary>
    public bool Stream { get; init; }

    /// <summary>Time-to-first-token objective in milliseconds for goodput. Null: none.</summary>
    public double? SloTtftMs { get; init; }

    /// <summary>Time-per-output-token objective in milliseconds for goodput. Null: none.</summary>
    public double? SloTpotMs { get; init; }

    /// <summary>Path of the JSON report to write, or null.</summary>
    public string? OutputJson { get; init; }

    /// <summary>Path of the SVG plot to write, or null.</summary>
    public string? Plot { get; init; }

    /// <summary><c>model</c> of every request; null asks the server's <c>/v1/models</c> for the first one.</summary>
    public string? Model { get; init; }

    /// <summary>Seed of arrivals and prompts: the same seed offers the same load.</summary>
    public int Seed { get; init; }

    /// <summary>Seconds after which the client gives up on one request.</summary>
    public double RequestTimeoutSeconds { get; init; } = 120;

    /// <summary>The run's arrival window.</summary>
    public TimeSpan Duration => TimeSpan.FromSeconds(DurationSeconds);

    /// <summary>The per-request client deadline.</summary>
    public TimeSpan RequestTimeout => TimeSpan.FromSeconds(RequestTimeoutSeconds);

    /// <summary>The completions endpoint: <see cref="Url"/> itself when it ends in <c>/v1/completions</c>, else that path appended.</summary>
    public Uri CompletionsUrl => EndpointUrl("v1/completions");

    /// <summary>The model list endpoint next to <see cref="CompletionsUrl"/>.</summary>
    public Uri ModelsUrl => EndpointUrl("v1/models");

    /// <summary>Every problem with the settings, each naming the option to fix; empty when the run can start.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!Uri.TryCreate(Url, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"--url must be an absolute http or https URL (got '{Url}').");
        }

        Check(errors, double.IsFinite(DurationSeconds) && DurationSeconds > 0, "--duration must be a positive number of seconds", DurationSeconds);
        Check(errors, double.IsFinite(TargetQps) && TargetQps > 0, "--target-qps must be a positive rate in requests per second", TargetQps);
        if (errors.Count == 0 && DurationSeconds * TargetQps > MaxArrivals)
        {
            errors.Add($"--target-qps × --duration must stay below {MaxArrivals} requests (got {DurationSeconds * TargetQps:F0}).");
        }

        Check(errors, MaxNewTokens >= 1, "--max-new-tokens must be at least 1", MaxNewTokens);
        Check(errors, PromptLengthMin >= 1, "--prompt-len-min must be at least 1 word", PromptLengthMin);
        Check(errors, PromptLengthMax >= PromptLengthMin, $"--prompt-len-max must be at least --prompt-len-min ({PromptLengthMin})", PromptLengthMax);
        Check(errors, SharedPrefixLength >= 0, "--shared-prefix-len must be 0 (none) or a number of words", SharedPrefixLength);
        Check(errors, SharedPrefixes >= 1, "--shared-prefixes must be at least 1", SharedPrefixes);
        if (Concurrency is { } concurrency)
        {
            Check(errors, concurrency >= 1, "--concurrency must be at least 1", concurrency);
        }

        if (SloTtftMs is { } ttft)
        {
            Check(errors, double.IsFinite(ttft) && ttft > 0, "--slo-ttft must be a positive number of milliseconds", ttft);
            Check(errors, Stream, "--slo-ttft needs --stream (time to first token is only measured on streamed responses)", ttft);
        }

        if (SloTpotMs is { } tpot)
        {
            Check(errors, double.IsFinite(tpot) && tpot > 0, "--slo-tpot must be a positive number of milliseconds", tpot);
            Check(errors, Stream, "--slo-tpot needs --stream (time per output token is only measured on streamed responses)", tpot);
        }

        if (Plot is not null && !Plot.EndsWith(".svg", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"--plot must name an .svg file (got '{Plot}').");
        }

        Check(errors, double.IsFinite(RequestTimeoutSeconds) && RequestTimeoutSeconds > 0, "--request-timeout must be a positive number of seconds", RequestTimeoutSeconds);
        if (Model is not null && string.IsNullOrWhiteSpace(Model))
        {
            errors.Add("--model must not be empty.");
        }

        return errors;
    }

    private Uri EndpointUrl(string relative)
    {
        var url = new Uri(Url, UriKind.Absolute);
        var path = url.AbsolutePath.TrimEnd('/');
        foreach (var known in new[] { "/v1/completions", "/v1/models" })
        {
            if (path.EndsWith(known, StringComparison.Ordinal))
            {
                path = path[..^known.Length];
                break;
            }
        }

        return new UriBuilder(url) { Path = $"{path}/{relative}" }.Uri;
    }

    private static void Check(List<string> errors, bool rule, string message, double value)
    {
        if (!rule)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{message} (got {value})."));
        }
    }
}
