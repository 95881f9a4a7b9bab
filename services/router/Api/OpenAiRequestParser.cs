using System.Text.Json;
using MoeDapr.Contracts;
using MoeDapr.Router.Access;
using MoeDapr.Model;
using MoeDapr.Router.Generation;
using MoeDapr.Router.Options;
using MoeDapr.Router.Serving;
using static MoeDapr.Router.Api.JsonFields;
using static MoeDapr.Router.Api.PromptReader;

namespace MoeDapr.Router.Api;

/// <summary>
/// Validates an OpenAI request body field by field (so each error names its <c>param</c>) and tokenizes the prompt.
/// Unknown fields are ignored, as the OpenAI API and vLLM do (and logged once per name through <see cref="UnknownFieldLog"/>).
/// </summary>
public static class OpenAiRequestParser
{
    private const int MaxLogprobs = 20;
    private const int CompletionsDefaultMaxTokens = 16;

    /// <summary>Parses <paramref name="body"/>; <paramref name="priorityHeader"/> is the <c>x-moedapr-priority</c> header, if any.</summary>
    /// <paramref name="limits"/> bounds the request's lists (defaults when null); <paramref name="client"/>, the caller's key, caps its priority.
    public static (GenerationRequest? Request, ApiError? Error) Parse(
        ApiKind kind, ReadOnlyMemory<byte> body, ServedModel model, string? priorityHeader, RequestLimitsOptions? limits = null, ClientIdentity? client = null,
        UnknownFieldLog? unknownFields = null)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException ex)
        {
            return (null, ApiError.BadRequest($"The request body is not valid JSON: {ex.Message}", null, "invalid_json"));
        }

        using (document)
        {
            try
            {
                // After the parse: it has refused property names that are not Unicode text, which the log would have to read.
                var request = ParseRoot(kind, document.RootElement, model, priorityHeader, limits ?? new RequestLimitsOptions(), client);
                unknownFields?.Observe(kind, document.RootElement);
                return (request, null);
            }
            catch (RequestValidationException ex)
            {
                return (null, ex.Error);
            }
        }
    }

    private static GenerationRequest ParseRoot(ApiKind kind, JsonElement root, ServedModel model, string? priorityHeader, RequestLimitsOptions limits, ClientIdentity? client)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("The request body must be a JSON object.", null, "invalid_type");
        }

        var modelName = RequiredString(root, "model");
        if (!model.Serves(modelName))
        {
            throw new RequestValidationException(OpenAiErrors.ModelNotFound(modelName));
        }

        RequestRefusals.Check(root);

        var n = OptionalInt(root, "n") ?? 1;
        if (n != 1)
        {
            throw Invalid("Only n = 1 is supported.", "n");
        }

        if (OptionalInt(root, "best_of") is { } bestOf && bestOf != 1)
        {
            throw Invalid("Only best_of = 1 is supported.", "best_of");
        }

        if (OptionalBool(root, "echo") == true)
        {
            throw Invalid("echo is not supported.", "echo");
        }

        var (prompt, promptParam) = kind == ApiKind.Chat ? (ChatPrompt(root, model), "messages") : (CompletionPrompt(root, model), "prompt");

        int? maxTokens = kind == ApiKind.Chat
            ? OptionalInt(root, "max_completion_tokens") ?? OptionalInt(root, "max_tokens")
            : OptionalInt(root, "max_tokens");
        var maxParam = kind == ApiKind.Chat && Has(root, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        if (maxTokens is < 1)
        {
            throw Invalid($"{maxParam} must be at least 1, got {maxTokens}.", maxParam);
        }

        var effectiveMax = maxTokens ?? (kind == ApiKind.Completion ? CompletionsDefaultMaxTokens : model.ContextLength - prompt.Count);
        // The workers' rules, in long: a max_tokens near int.MaxValue must read as too long, not wrap to a small sum.
        var rules = new PromptRules(model.ContextLength, model.Tokenizer.VocabSize);
        if (rules.Check(prompt, Math.Max(effectiveMax, 1)) is { } broken)
        {
            var requested = (long)prompt.Count + Math.Max(effectiveMax, 1);
            throw Invalid(
                requested > model.ContextLength
                    ? $"This model's maximum context length is {model.ContextLength} tokens. However, you requested {requested} tokens " +
                      $"({prompt.Count} in the {promptParam}, {effectiveMax} in {maxParam}). Please reduce the length of the {promptParam} or {maxParam}."
                    : broken,
                promptParam, "context_length_exceeded");
        }

        var temperature = OptionalNumber(root, "temperature") ?? 1.0;
        Range(temperature, 0, 2, "temperature");
        var topP = OptionalNumber(root, "top_p") ?? 1.0;
        if (!(topP > 0 && topP <= 1))
        {
            throw Invalid($"top_p must be in (0, 1], got {topP}.", "top_p");
        }

        var topK = OptionalInt(root, "top_k") ?? 0;
        if (topK < -1)
        {
            throw Invalid("top_k must be -1 or 0 (off) or positive.", "top_k");
        }

        var presence = OptionalNumber(root, "presence_penalty") ?? 0;
        Range(presence, -2, 2, "presence_penalty");
        var frequency = OptionalNumber(root, "frequency_penalty") ?? 0;
        Range(frequency, -2, 2, "frequency_penalty");
        var seed = OptionalLong(root, "seed");
        var stops = StopStrings(root, limits);
        var stopTokenIds = OptionalIntArray(root, "stop_token_ids", model, limits.MaxStopTokenIds) ?? [];
        RequestBounds.LogitBias(root, model, limits.MaxLogitBiasEntries);
        var logprobs = kind == ApiKind.Chat ? ChatLogprobs(root) : CompletionLogprobs(root);

        var stream = OptionalBool(root, "stream") ?? false;
        var includeUsage = false;
        if (Property(root, "stream_options") is { } streamOptions)
        {
            if (streamOptions.ValueKind != JsonValueKind.Object)
            {
                throw WrongType("stream_options", "an object");
            }

            if (!stream)
            {
                throw Invalid("stream_options is only allowed when stream is true.", "stream_options");
            }

            includeUsage = OptionalBool(streamOptions, "include_usage", "stream_options.include_usage") ?? false;
        }

        return new GenerationRequest
        {
            Kind = kind,
            Model = modelName, // answers carry the name the client asked for, as vLLM's do
            PromptTokenIds = prompt,
            Sampling = new SamplingParams
            {
                MaxTokens = effectiveMax,
                Temperature = (float)temperature,
                TopP = (float)topP,
                TopK = Math.Max(0, topK),
                PresencePenalty = (float)presence,
                FrequencyPenalty = (float)frequency,
                Seed = seed,
                StopStrings = stops,
                StopTokenIds = stopTokenIds,
                IgnoreEos = OptionalBool(root, "ignore_eos") ?? false,
                Logprobs = logprobs,
            },
            Priority = client?.Apply(RequestedPriority(root, priorityHeader)) ?? RequestedPriority(root, priorityHeader) ?? RequestPriority.Normal,
            Stream = stream,
            IncludeUsage = includeUsage,
            ReturnTokenIds = OptionalBool(root, "return_token_ids") ?? false,
            Logprobs = logprobs,
            User = OptionalString(root, "user"),
        };
    }

    private static IReadOnlyList<string> StopStrings(JsonElement root, RequestLimitsOptions limits)
    {
        if (Property(root, "stop") is not { } stop)
        {
            return [];
        }

        var stops = stop.ValueKind switch
        {
            JsonValueKind.String => [Text(stop, "stop")],
            JsonValueKind.Array => RequestBounds.Bounded(stop, limits.MaxStopStrings, "stop")
                .EnumerateArray().Select((s, i) => s.ValueKind == JsonValueKind.String ? Text(s, $"stop[{i}]") : throw WrongType($"stop[{i}]", "a string")).ToList(),
            _ => throw WrongType("stop", "a string or an array of strings"),
        };
        if (stops.Count > limits.MaxStopStrings)
        {
            throw Invalid($"stop may hold at most {limits.MaxStopStrings} strings.", "stop");
        }

        if (stops.FindIndex(s => s.Length > limits.MaxStopStringLength) is var tooLong and >= 0)
        {
            throw Invalid($"stop[{tooLong}] is longer than {limits.MaxStopStringLength} characters.", $"stop[{tooLong}]");
        }

        if (stops.Any(s => s.Length == 0))
        {
            throw Invalid("stop strings must not be empty.", "stop");
        }

        return stops;
    }

    private static int? CompletionLogprobs(JsonElement root)
    {
        var logprobs = OptionalInt(root, "logprobs");
        if (logprobs is < 0 or > MaxLogprobs)
        {
            throw Invalid($"logprobs must be in [0, {MaxLogprobs}].", "logprobs");
        }

        return logprobs;
    }

    private static int? ChatLogprobs(JsonElement root)
    {
        var wanted = OptionalBool(root, "logprobs") ?? false;
        var top = OptionalInt(root, "top_logprobs");
        if (top is < 0 or > MaxLogprobs)
        {
            throw Invalid($"top_logprobs must be in [0, {MaxLogprobs}].", "top_logprobs");
        }

        if (top is not null && !wanted)
        {
            throw Invalid("top_logprobs requires logprobs to be true.", "top_logprobs");
        }

        return wanted ? top ?? 0 : null;
    }

    /// <summary>The class the request asks for (body field first, then the header), or null when it names none.</summary>
    private static RequestPriority? RequestedPriority(JsonElement root, string? header)
    {
        if (Property(root, "priority") is { } field)
        {
            return field.ValueKind switch
            {
                JsonValueKind.String => ParsePriority(Text(field, "priority")) ?? throw Invalid("priority must be high, normal or low.", "priority"),
                // vLLM's integer priority: lower runs earlier.
                JsonValueKind.Number when field.TryGetInt32(out var value) => value < 0 ? RequestPriority.High : value == 0 ? RequestPriority.Normal : RequestPriority.Low,
                _ => throw WrongType("priority", "high, normal, low or an integer"),
            };
        }

        if (string.IsNullOrEmpty(header))
        {
            return null;
        }

        return ParsePriority(header) ?? throw Invalid($"Header {MoeDaprHeaders.Priority} must be high, normal or low.", MoeDaprHeaders.Priority);
    }

    private static RequestPriority? ParsePriority(string value) => value.Trim().ToLowerInvariant() switch
    {
        "high" => RequestPriority.High,
        "normal" => RequestPriority.Normal,
        "low" => RequestPriority.Low,
        _ => null,
    };

    private static IReadOnlyList<int>? OptionalIntArray(JsonElement obj, string name, ServedModel model, int maxCount) => Property(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Array } v => TokenIds(RequestBounds.Bounded(v, maxCount, name), name, model),
        _ => throw WrongType(name, "an array of token ids"),
    };
}
