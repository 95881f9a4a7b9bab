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
