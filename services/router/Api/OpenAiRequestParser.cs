using System.Text.Json;
using MoeDapr.Contracts;
using MoeDapr.Model;
using MoeDapr.Router.Generation;
using MoeDapr.Router.Serving;

namespace MoeDapr.Router.Api;

/// <summary>
/// Validates an OpenAI request body field by field (so each error names its <c>param</c>) and tokenizes the prompt.
/// Unknown fields are ignored, as the OpenAI API and vLLM do.
/// </summary>
public static class OpenAiRequestParser
{
    private const int MaxLogprobs = 20;
    private const int MaxStopStrings = 16;
    private const int CompletionsDefaultMaxTokens = 16;

    /// <summary>Parses <paramref name="body"/>; <paramref name="priorityHeader"/> is the <c>x-moedapr-priority</c> header, if any.</summary>
    public static (GenerationRequest? Request, ApiError? Error) Parse(ApiKind kind, ReadOnlyMemory<byte> body, ServedModel model, string? priorityHeader)
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
                return (ParseRoot(kind, document.RootElement, model, priorityHeader), null);
            }
            catch (RequestValidationException ex)
            {
                return (null, ex.Error);
            }
        }
    }

    private static GenerationRequest ParseRoot(ApiKind kind, JsonElement root, ServedModel model, string? priorityHeader)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("The request body must be a JSON object.", null, "invalid_type");
        }

        var modelName = RequiredString(root, "model");
        if (!string.Equals(modelName, model.Name, StringComparison.Ordinal))
        {
            throw Invalid($"The model '{modelName}' does not exist; this server serves '{model.Name}'.", "model", "model_not_found");
        }

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
        if (prompt.Count + Math.Max(effectiveMax, 1) > model.ContextLength)
        {
            throw Invalid(
                $"This model's maximum context length is {model.ContextLength} tokens. However, you requested {prompt.Count + effectiveMax} tokens " +
                $"({prompt.Count} in the {promptParam}, {effectiveMax} in the completion). Please reduce the length of the {promptParam} or completion.",
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
        var stops = StopStrings(root);
        var stopTokenIds = OptionalIntArray(root, "stop_token_ids", model) ?? [];
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
            Model = model.Name,
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
            Priority = Priority(root, priorityHeader),
            Stream = stream,
            IncludeUsage = includeUsage,
            ReturnTokenIds = OptionalBool(root, "return_token_ids") ?? false,
            Logprobs = logprobs,
            User = OptionalString(root, "user"),
        };
    }

    private static IReadOnlyList<int> CompletionPrompt(JsonElement root, ServedModel model)
    {
        var prompt = Property(root, "prompt") ?? throw Invalid("prompt is required.", "prompt", "missing_required_parameter");
        // One prompt per request: a string, token ids, or a one-element list of either.
        if (prompt.ValueKind == JsonValueKind.Array && prompt.GetArrayLength() == 1 && prompt[0].ValueKind is JsonValueKind.String or JsonValueKind.Array)
        {
            prompt = prompt[0];
        }

        switch (prompt.ValueKind)
        {
            case JsonValueKind.String:
                var text = prompt.GetString()!;
                if (text.Length == 0)
                {
                    throw Invalid("prompt must not be empty.", "prompt");
                }

                return model.Tokenizer.Encode(text, addSpecialTokens: true);
            case JsonValueKind.Array:
                if (prompt.GetArrayLength() == 0)
                {
                    throw Invalid("prompt must not be empty.", "prompt");
                }

                if (prompt[0].ValueKind is JsonValueKind.String or JsonValueKind.Array)
                {
                    throw Invalid("Only one prompt per request is supported.", "prompt");
                }

                return TokenIds(prompt, "prompt", model);
            default:
                throw WrongType("prompt", "a string or an array of token ids");
        }
    }

    private static IReadOnlyList<int> ChatPrompt(JsonElement root, ServedModel model)
    {
        var messages = Property(root, "messages") ?? throw Invalid("messages is required.", "messages", "missing_required_parameter");
        if (messages.ValueKind != JsonValueKind.Array)
        {
            throw WrongType("messages", "an array");
        }

        if (messages.GetArrayLength() == 0)
        {
            throw Invalid("messages must not be empty.", "messages");
        }

        var list = new List<ChatMessage>();
        var i = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var param = $"messages[{i++}]";
            if (message.ValueKind != JsonValueKind.Object)
            {
                throw WrongType(param, "an object");
            }

            var role = RequiredString(message, "role", $"{param}.role");
            role = role switch
            {
                "system" or "user" or "assistant" => role,
                "developer" => "system",
                _ => throw Invalid($"{param}.role must be system, developer, user or assistant, got '{role}'.", $"{param}.role"),
            };
            list.Add(new ChatMessage(role, MessageContent(message, $"{param}.content")));
        }

        string rendered;
        try
        {
            rendered = model.ChatTemplate.Render(list, addGenerationPrompt: true);
        }
        catch (ArgumentException ex)
        {
            // The family's template has rules of its own (e.g. Mixtral: user and assistant must alternate).
            throw Invalid($"messages do not fit the model's chat template ({model.ChatTemplate.Name}): {ex.Message}", "messages");
        }

        // The template writes BOS and special markers itself.
        var ids = model.Tokenizer.Encode(rendered, addSpecialTokens: false);
        if (ids.Count == 0)
        {
            throw Invalid("messages render to an empty prompt.", "messages");
        }

        return ids;
    }

    private static string MessageContent(JsonElement message, string param)
    {
        var content = Property(message, "content") ?? throw Invalid($"{param} is required.", param, "missing_required_parameter");
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                return content.GetString()!;
            case JsonValueKind.Array:
                var parts = new List<string>();
                var j = 0;
                foreach (var part in content.EnumerateArray())
                {
                    var partParam = $"{param}[{j++}]";
                    if (part.ValueKind != JsonValueKind.Object || OptionalString(part, "type", $"{partParam}.type") != "text")
                    {
                        throw Invalid($"{partParam} must be a text part ({{\"type\":\"text\",\"text\":...}}); only text is supported.", partParam);
                    }

                    parts.Add(RequiredString(part, "text", $"{partParam}.text"));
                }

                return string.Concat(parts);
            default:
                throw WrongType(param, "a string or an array of text parts");
        }
    }

    private static IReadOnlyList<int> TokenIds(JsonElement array, string param, ServedModel model)
    {
        var ids = new int[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out var id))
            {
                throw WrongType($"{param}[{i}]", "an integer token id");
            }

            if (id < 0 || id >= model.Tokenizer.VocabSize)
            {
                throw Invalid($"{param}[{i}] = {id} is not a token id of this model (0 to {model.Tokenizer.VocabSize - 1}).", param);
            }

            ids[i++] = id;
        }

        return ids;
    }

    private static IReadOnlyList<string> StopStrings(JsonElement root)
    {
        if (Property(root, "stop") is not { } stop)
        {
            return [];
        }

        var stops = stop.ValueKind switch
        {
            JsonValueKind.String => [stop.GetString()!],
            JsonValueKind.Array => stop.EnumerateArray().Select((s, i) => s.ValueKind == JsonValueKind.String ? s.GetString()! : throw WrongType($"stop[{i}]", "a string")).ToList(),
            _ => throw WrongType("stop", "a string or an array of strings"),
        };
        if (stops.Count > MaxStopStrings)
        {
            throw Invalid($"stop may hold at most {MaxStopStrings} strings.", "stop");
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

    private static RequestPriority Priority(JsonElement root, string? header)
    {
        if (Property(root, "priority") is { } field)
        {
            return field.ValueKind switch
            {
                JsonValueKind.String => ParsePriority(field.GetString()!) ?? throw Invalid("priority must be high, normal or low.", "priority"),
                // vLLM's integer priority: lower runs earlier.
                JsonValueKind.Number when field.TryGetInt32(out var value) => value < 0 ? RequestPriority.High : value == 0 ? RequestPriority.Normal : RequestPriority.Low,
                _ => throw WrongType("priority", "high, normal, low or an integer"),
            };
        }

        if (string.IsNullOrEmpty(header))
        {
            return RequestPriority.Normal;
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

    private static void Range(double value, double min, double max, string param)
    {
        if (!(value >= min && value <= max))
        {
            throw Invalid($"{param} must be in [{min}, {max}], got {value}.", param);
        }
    }

    private static bool Has(JsonElement obj, string name) => Property(obj, name) is not null;

    /// <summary>The property, or null when absent or JSON null (OpenAI treats null as "use the default").</summary>
    private static JsonElement? Property(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static string RequiredString(JsonElement obj, string name, string? param = null) =>
        OptionalString(obj, name, param) ?? throw Invalid($"{param ?? name} is required.", param ?? name, "missing_required_parameter");

    private static string? OptionalString(JsonElement obj, string name, string? param = null) => Property(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } v => v.GetString(),
        _ => throw WrongType(param ?? name, "a string"),
    };

    private static bool? OptionalBool(JsonElement obj, string name, string? param = null) => Property(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        _ => throw WrongType(param ?? name, "a boolean"),
    };

    private static double? OptionalNumber(JsonElement obj, string name) => Property(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v => v.GetDouble(),
        _ => throw WrongType(name, "a number"),
    };

    private static int? OptionalInt(JsonElement obj, string name) => Property(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v when v.TryGetInt32(out var i) => i,
        _ => throw WrongType(name, "an integer"),
    };

    private static long? OptionalLong(JsonElement obj, string name) => Property(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v when v.TryGetInt64(out var i) => i,
        _ => throw WrongType(name, "an integer"),
    };

    private static IReadOnlyList<int>? OptionalIntArray(JsonElement obj, string name, ServedModel model) => Property(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Array } v => TokenIds(v, name, model),
        _ => throw WrongType(name, "an array of token ids"),
    };

    private static RequestValidationException WrongType(string param, string expected) =>
        Invalid($"{param} must be {expected}.", param, "invalid_type");

    private static RequestValidationException Invalid(string message, string? param, string? code = null) =>
        new(ApiError.BadRequest(message, param, code));

    private sealed class RequestValidationException(ApiError error) : Exception(error.Message)
    {
        public ApiError Error { get; } = error;
    }
}
