using MoeDapr.Engine;
using Wire = MoeDapr.Contracts;

namespace MoeDapr.WorkerHosting;

/// <summary>Conversions between the wire contracts and the engine's types.</summary>
public static class ContractMapping
{
    public static Engine.Sampling.SamplingParams ToEngine(this Wire.SamplingParams sampling) => new()
    {
        Temperature = sampling.Temperature,
        TopP = sampling.TopP,
        TopK = sampling.TopK,
        PresencePenalty = sampling.PresencePenalty,
        FrequencyPenalty = sampling.FrequencyPenalty,
        Seed = sampling.Seed is { } seed ? unchecked((ulong)seed) : null,
        MaxTokens = sampling.MaxTokens,
        StopTokenIds = sampling.StopTokenIds,
        IgnoreEos = sampling.IgnoreEos,
        TopLogprobs = sampling.Logprobs ?? 0,
    };

    public static Wire.TokenSample ToSample(this TokenOutput output, Wire.SamplingParams sampling) => new()
    {
        TokenId = output.TokenId,
        Logprob = sampling.Logprobs is null ? null : output.Logprob,
        TopLogprobs = sampling.Logprobs is null ? null : output.TopLogprobs.Select(t => new Wire.TokenLogprob(t.TokenId, t.Logprob)).ToArray(),
    };

    public static Wire.FinishReason ToWire(this FinishReason reason) => reason switch
    {
        FinishReason.Stop => Wire.FinishReason.Stop,
        FinishReason.Length => Wire.FinishReason.Length,
        _ => Wire.FinishReason.Abort,
    };
}
