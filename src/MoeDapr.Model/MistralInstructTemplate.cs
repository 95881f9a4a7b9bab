using System.Text;

namespace MoeDapr.Model;

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
