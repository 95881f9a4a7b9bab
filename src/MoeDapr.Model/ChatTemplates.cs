using System.Text;

namespace MoeDapr.Model;

/// <summary>
/// ChatML, the chat format of Qwen models: <c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c> per message,
/// then <c>&lt;|im_start|&gt;assistant\n</c> to prompt the answer.
/// </summary>
public sealed class ChatMLTemplate(string? defaultSystemPrompt = null) : IChatTemplate
{
    private static readonly HashSet<string> Roles = new(StringComparer.Ordinal) { "system", "user", "assistant", "tool" };

    public string Name => "chatml";

    /// <summary>The system message inserted when a conversation has none (Qwen1.5/Qwen2: "You are a helpful assistant.").</summary>
    public string? DefaultSystemPrompt => defaultSystemPrompt;

    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true)
    {
        ChatTemplates.CheckMessages(messages, Roles);
        var text = new StringBuilder();
        if (defaultSystemPrompt is not null && messages[0].Role != "system")
        {
            Append(text, "system", defaultSystemPrompt);
        }

        foreach (var message in messages)
        {
            Append(text, message.Role, message.Content);
        }

        if (addGenerationPrompt)
        {
            text.Append("<|im_start|>assistant\n");
        }

        return text.ToString();
    }

    private static void Append(StringBuilder text, string role, string content) =>
        text.Append("<|im_start|>").Append(role).Append('\n').Append(content).Append("<|im_end|>\n");
}

/// <summary>
/// The Mistral/Mixtral instruct format: <c>&lt;s&gt;[INST] user [/INST] answer&lt;/s&gt;[INST] ...</c>.
/// A leading system message is folded into the first user turn (system, blank line, user); turns must
/// alternate user/assistant. The text begins with the BOS token, so encode it without adding special tokens.
/// </summary>
public sealed class MistralInstructTemplate(string bosToken = "<s>", string eosToken = "</s>") : IChatTemplate
{
    private static readonly HashSet<string> Roles = new(StringComparer.Ordinal) { "system", "user", "assistant" };

    public string Name => "mistral-instruct";

    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true)
    {
        ChatTemplates.CheckMessages(messages, Roles);
        var system = messages[0].Role == "system" ? messages[0].Content : null;
        var turns = system is null ? messages : messages.Skip(1).ToArray();
        if (turns.Count == 0)
        {
            throw new ArgumentException("a conversation needs a user message after the system message", nameof(messages));
        }

        var text = new StringBuilder(bosToken);
        for (var i = 0; i < turns.Count; i++)
        {
            var expected = i % 2 == 0 ? "user" : "assistant";
            if (turns[i].Role != expected)
            {
                throw new ArgumentException(
                    $"message {(system is null ? i : i + 1)} has role \"{turns[i].Role}\" but the {Name} format needs \"{expected}\": "
                    + "after an optional first system message, roles must alternate user/assistant", nameof(messages));
            }

            if (expected == "user")
            {
                var content = i == 0 && system is not null ? $"{system}\n\n{turns[i].Content}" : turns[i].Content;
                text.Append("[INST] ").Append(content).Append(" [/INST]");
            }
            else
            {
                text.Append(' ').Append(turns[i].Content).Append(eosToken);
            }
        }

        // The prompt for the answer is the closing [/INST] itself; there is nothing more to add.
        return text.ToString();
    }
}

/// <summary>Picks the chat template of a model family, and holds the equivalent Jinja templates written to tokenizer_config.json.</summary>
public static class ChatTemplates
{
    public const string Qwen2DefaultSystemPrompt = "You are a helpful assistant.";

    /// <summary>Jinja of <see cref="ChatMLTemplate"/> with Qwen2's default system prompt.</summary>
    public const string Qwen2Jinja =
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
        + "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
        + "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
        + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /// <summary>Jinja of <see cref="ChatMLTemplate"/> without a default system prompt (Qwen3).</summary>
    public const string Qwen3Jinja =
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
        + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /// <summary>Jinja of <see cref="MistralInstructTemplate"/>.</summary>
    public const string MixtralJinja =
        "{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content'] %}{%- set loop_messages = messages[1:] %}"
        + "{%- else %}{%- set loop_messages = messages %}{%- endif %}{{- bos_token }}"
        + "{%- for message in loop_messages %}"
        + "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{- raise_exception('After an optional system message, roles must alternate user/assistant') }}{%- endif %}"
        + "{%- if message['role'] == 'user' %}"
        + "{%- if loop.first and system_message is defined %}{{- '[INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}"
        + "{%- else %}{{- '[INST] ' + message['content'] + ' [/INST]' }}{%- endif %}"
        + "{%- elif message['role'] == 'assistant' %}{{- ' ' + message['content'] + eos_token }}"
        + "{%- else %}{{- raise_exception('Only user and assistant roles are supported, after an optional system message') }}{%- endif %}"
        + "{%- endfor %}";

    /// <summary>The template a family's instruct checkpoints are trained on.</summary>
    public static IChatTemplate ForFamily(ModelFamily family) => family switch
    {
        ModelFamily.Mixtral => new MistralInstructTemplate(),
        ModelFamily.Qwen2Moe => new ChatMLTemplate(Qwen2DefaultSystemPrompt),
        _ => new ChatMLTemplate(),
    };

    /// <summary>The Jinja source equivalent to <see cref="ForFamily"/>.</summary>
    public static string JinjaForFamily(ModelFamily family) => family switch
    {
        ModelFamily.Mixtral => MixtralJinja,
        ModelFamily.Qwen2Moe => Qwen2Jinja,
        _ => Qwen3Jinja,
    };

    internal static void CheckMessages(IReadOnlyList<ChatMessage> messages, HashSet<string> roles)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0)
        {
            throw new ArgumentException("a conversation needs at least one message", nameof(messages));
        }

        for (var i = 0; i < messages.Count; i++)
        {
            if (!roles.Contains(messages[i].Role))
            {
                throw new ArgumentException(
                    $"message {i} has role \"{messages[i].Role}\"; supported roles: {string.Join(", ", roles)}", nameof(messages));
            }

            if (messages[i].Role == "system" && i > 0)
            {
                throw new ArgumentException($"message {i}: a system message may only come first", nameof(messages));
            }
        }
    }
}
