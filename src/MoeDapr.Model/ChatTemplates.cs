namespace MoeDapr.Model;

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
