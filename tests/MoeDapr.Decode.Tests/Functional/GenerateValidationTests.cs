using System.Net;
using MoeDapr.Contracts;
using MoeDapr.Decode.Tests.Infrastructure;

namespace MoeDapr.Decode.Tests.Functional;

/// <summary>Requests <c>decode/generate</c> refuses before any stream starts, each as ProblemDetails naming what to fix.</summary>
public sealed class GenerateValidationTests(DecodeFixture decode) : IClassFixture<DecodeFixture>
{
    private int[] Prompt => decode.Checkpoint.Prompt(8);

    [Theory]
    [InlineData("maxTokens")]
    [InlineData("temperature")]
    [InlineData("topP")]
    [InlineData("topK")]
    [InlineData("presencePenalty")]
    [InlineData("frequencyPenalty")]
    [InlineData("logprobs")]
    public async Task Generate_SamplingFieldOutOfRange_400NamingTheField(string field)
    {
        var valid = DecodeCalls.Greedy(4);
        var sampling = field switch
        {
            "maxTokens" => valid with { MaxTokens = 0 },
            "temperature" => valid with { Temperature = 2.5f },
            "topP" => valid with { TopP = 0 },
            "topK" => valid with { TopK = -1 },
            "presencePenalty" => valid with { PresencePenalty = 3 },
            "frequencyPenalty" => valid with { FrequencyPenalty = -3 },
            _ => valid with { Logprobs = 21 },
        };

        using var response = await decode.Client.GenerateAsync(DecodeCalls.LocalPrefill("bad-" + field, Prompt, sampling));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith(field + ":", await response.ProblemDetailAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_PromptTokenOutsideTheVocabulary_400NamingPromptTokenIds()
    {
        int[] prompt = [.. Prompt, decode.Checkpoint.Config.VocabSize];

        using var response = await decode.Client.GenerateAsync(DecodeCalls.LocalPrefill("outside", prompt, DecodeCalls.Greedy(4)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("promptTokenIds:", await response.ProblemDetailAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_PromptPlusMaxTokensPastTheContext_400NamingTheContext()
    {
        var sampling = DecodeCalls.Greedy(decode.ContextLength - Prompt.Length + 1);

        using var response = await decode.Client.GenerateAsync(DecodeCalls.LocalPrefill("too-long", Prompt, sampling));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"exceed the context of {decode.ContextLength}", await response.ProblemDetailAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_KvHandleWithoutFirstToken_400NamingKvHandle()
    {
        var request = DecodeCalls.LocalPrefill("half", Prompt, DecodeCalls.Greedy(4)) with { KvHandle = new string('a', 32) };

        using var response = await decode.Client.GenerateAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("kvHandle:", await response.ProblemDetailAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_MissingRequestId_400NamingRequestId()
    {
        using var response = await decode.Client.GenerateAsync(DecodeCalls.LocalPrefill(string.Empty, Prompt, DecodeCalls.Greedy(4)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("requestId:", await response.ProblemDetailAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_DeadlineAlreadyPassed_504BeforeAnyToken()
    {
        var request = DecodeCalls.LocalPrefill("late", Prompt, DecodeCalls.Greedy(4)) with
        {
            DeadlineUnixMs = DateTimeOffset.UtcNow.AddSeconds(-1).ToUnixTimeMilliseconds(),
        };

        using var response = await decode.Client.GenerateAsync(request);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("deadline", await response.ProblemDetailAsync(), StringComparison.Ordinal);
    }
}
