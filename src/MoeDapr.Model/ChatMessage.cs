namespace MoeDapr.Model;

/// <summary>One chat message (<c>role</c> is system, user or assistant).</summary>
public sealed record ChatMessage(string Role, string Content);
