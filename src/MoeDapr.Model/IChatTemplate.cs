namespace MoeDapr.Model;

/// <summary>Renders chat messages into the prompt text a family was trained on.</summary>
public interface IChatTemplate
{
    string Name { get; }

    string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true);
}
