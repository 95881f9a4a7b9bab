using MoeDapr.Contracts;

namespace MoeDapr.Router.Api;

/// <summary>OpenAI finish reasons.</summary>
public static class FinishReasons
{
    public static string? ToOpenAi(FinishReason? reason) => reason switch
    {
        FinishReason.Stop => "stop",
        FinishReason.Length => "length",
        FinishReason.Abort => "abort",
        _ => null,
    };
}
