using System.Text.Json;
using MoeDapr.Model;
using MoeDapr.Router.Serving;
using static MoeDapr.Router.Api.JsonFields;

namespace MoeDapr.Router.Api;

/// <summary>The prompt of a request as token ids: a completions prompt (text or ids) or chat messages through the chat template.</summary>
internal static class PromptReader
{
    internal static IReadOnlyList<int> CompletionPrompt(JsonElement root, ServedModel model)
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
                var text = Text(prompt, "prompt");
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

                // More ids than the context holds can never be served: refused before each id is read.
                if (prompt.GetArrayLength() > model.ContextLength)
                {
                    throw Invalid($"prompt holds {prompt.GetArrayLength()} token ids; this model's context holds {model.ContextLength}.", "prompt", "context_length_exceeded");
                }

                return TokenIds(prompt, "prompt", model);
            default:
                throw WrongType("prompt", "a string or an array of token ids");
        }
    }

    internal static IReadOnlyList<int> ChatPrompt(JsonElement root, ServedModel model) => ChatPrompt(root, model, addGenerationPrompt: true, addSpecialTokens: false);

    /// <summary>The messages of <paramref name="root"/> rendered and tokenized; <c>/tokenize</c> chooses both flags, the chat route neither.</summary>
    internal static IReadOnlyList<int> ChatPrompt(JsonElement root, ServedModel model, bool addGenerationPrompt, bool addSpecialTokens)
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
            rendered = model.ChatTemplate.Render(list, addGenerationPrompt);
        }
        catch (ArgumentException ex)
        {
            // The family's template has rules of its own (e.g. Mixtral: user and assistant must alternate).
            throw Invalid($"messages do not fit the model's chat template ({model.ChatTemplate.Name}): {ex.Message}", "messages");
        }

        // The template writes BOS and special markers itself.
        var ids = model.Tokenizer.Encode(rendered, addSpecialTokens);
        if (ids.Count == 0)
        {
            throw Invalid("messages render to an empty prompt.", "messages");
        }

        return ids;
    }

    internal static string MessageContent(JsonElement message, string param)
    {
        var content = Property(message, "content") ?? throw Invalid($"{param} is required.", param, "missing_required_parameter");
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                return Text(content, param);
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

    internal static IReadOnlyList<int> TokenIds(JsonElement array, string param, ServedModel model)
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
}
