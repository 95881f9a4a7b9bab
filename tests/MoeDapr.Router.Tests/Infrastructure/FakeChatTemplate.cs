using MoeDapr.Model;

namespace MoeDapr.Router.Tests.Infrastructure;

/// <summary>A ChatML-like template for tests.</summary>
public sealed class FakeChatTemplate : IChatTemplate
{
    public string Name => "test";

    /// <summary>Like real templates it has rules: a conversation may not open with the assistant.</summary>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true) =>
        messages[0].Role == "assistant"
            ? throw new ArgumentException("a conversation may not open with the assistant", nameof(messages))
            : string.Concat(messages.Select(m => $"<{m.Role}>{m.Content}\n")) + (addGenerationPrompt ? "<assistant>" : string.Empty);
}
