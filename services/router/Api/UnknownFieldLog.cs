using System.Collections.Frozen;
using System.Text.Json;
using MoeDapr.Router.Diagnostics;
using MoeDapr.Router.Generation;

namespace MoeDapr.Router.Api;

/// <summary>
/// Logs each request field this router does not read, once per field name, so an operator learns that a client relies
/// on a parameter that has no effect here. The set of names remembered is bounded: clients choose field names, and a
/// stream of made-up ones must neither grow memory nor flood the log.
/// </summary>
public sealed class UnknownFieldLog(ILogger<UnknownFieldLog> logger)
{
    /// <summary>Distinct unknown names remembered (and logged) at most.</summary>
    public const int MaxRemembered = 256;

    /// <summary>Longer names are cut in the log line.</summary>
    private const int MaxNameLength = 64;

    private static readonly FrozenSet<string> Common = FrozenSet.ToFrozenSet(
    [
        "model", "n", "best_of", "echo", "max_tokens", "temperature", "top_p", "top_k", "presence_penalty", "frequency_penalty",
        "seed", "stop", "stop_token_ids", "logprobs", "stream", "stream_options", "ignore_eos", "return_token_ids", "priority",
        "user", "suffix", "tools", "response_format",
    ], StringComparer.Ordinal);

    private static readonly FrozenSet<string> CompletionOnly = FrozenSet.ToFrozenSet(["prompt"], StringComparer.Ordinal);

    private static readonly FrozenSet<string> ChatOnly = FrozenSet.ToFrozenSet(
        ["messages", "max_completion_tokens", "top_logprobs"], StringComparer.Ordinal);

    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

    /// <summary>How many distinct unknown names have been logged.</summary>
    public int Remembered
    {
        get
        {
            lock (_seen)
            {
                return _seen.Count;
            }
        }
    }

    /// <summary>Whether <paramref name="field"/> is read by the parser of <paramref name="kind"/>.</summary>
    public static bool IsKnown(ApiKind kind, string field) =>
        Common.Contains(field) || (kind == ApiKind.Chat ? ChatOnly.Contains(field) : CompletionOnly.Contains(field));

    /// <summary>Logs the top-level fields of <paramref name="root"/> that are unknown and not logged before.</summary>
    public void Observe(ApiKind kind, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var property in root.EnumerateObject())
        {
            var field = JsonFields.Name(property);
            if (IsKnown(kind, field) || !Remember(field))
            {
                continue;
            }

            var name = field.Length > MaxNameLength ? field[..MaxNameLength] + "…" : field;
            Log.UnknownField(logger, name, kind == ApiKind.Chat ? "/v1/chat/completions" : "/v1/completions");
        }
    }

    private bool Remember(string name)
    {
        lock (_seen)
        {
            return _seen.Count < MaxRemembered && _seen.Add(name);
        }
    }
}
