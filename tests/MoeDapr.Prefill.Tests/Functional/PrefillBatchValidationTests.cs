using System.Net;
using MoeDapr.Contracts;
using MoeDapr.Prefill.Tests.Infrastructure;
using static MoeDapr.Prefill.Tests.Infrastructure.PrefillCalls;

namespace MoeDapr.Prefill.Tests.Functional;

/// <summary>Batches <c>prefill/batch</c> refuses as a whole (ProblemDetails naming what to fix), and sequences it fails alone.</summary>
public sealed class PrefillBatchValidationTests(PrefillFixture prefill) : IClassFixture<PrefillFixture>
{
    private int[] Prompt => prefill.Checkpoint.Prompt(8);

    [Fact]
    public async Task RunBatch_NoSequences_400NamingSequences()
    {
        using var response = await prefill.Client.PrefillAsync(Batch());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("sequences:", await response.ProblemDetailAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunBatch_MoreSequencesThanTheWorkerTakes_400NamingTheSetting()
    {
        var sequences = Enumerable.Range(0, PrefillFixture.MaxBatchSequences + 1).Select(i => Sequence($"many-{i}", Prompt)).ToArray();

        using var response = await prefill.Client.PrefillAsync(Batch(sequences));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Worker:MaxBatchSequences", await response.ProblemDetailAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunBatch_SameRequestIdTwice_400NamingRequestId()
    {
        using var response = await prefill.Client.PrefillAsync(Batch(Sequence("twice", Prompt), Sequence("twice", Prompt)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("requestId", await response.ProblemDetailAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunBatch_DeadlineAlreadyPassed_504()
    {
        var batch = Batch(Sequence("late", Prompt)) with { DeadlineUnixMs = DateTimeOffset.UtcNow.AddSeconds(-1).ToUnixTimeMilliseconds() };

        using var response = await prefill.Client.PrefillAsync(batch);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("deadline", await response.ProblemDetailAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("temperature")]
    [InlineData("topP")]
    [InlineData("maxTokens")]
    [InlineData("promptTokenIds")]
    public async Task RunBatch_OneInvalidSequence_OnlyItFailsNamingTheField(string field)
    {
        var valid = Sequence("valid-" + field, Prompt);
        var invalid = Sequence("invalid-" + field, Prompt);
        invalid = field switch
        {
            "temperature" => invalid with { Sampling = invalid.Sampling with { Temperature = 2.5f } },
            "topP" => invalid with { Sampling = invalid.Sampling with { TopP = 1.5f } },
            "maxTokens" => invalid with { Sampling = invalid.Sampling with { MaxTokens = 0 } },
            _ => invalid with { PromptTokenIds = [.. Prompt, prefill.Checkpoint.Config.VocabSize] },
        };

        var answer = await prefill.Client.PrefillOkAsync(invalid, valid);

        Assert.Equal([invalid.RequestId, valid.RequestId], answer.Results.Select(r => r.RequestId));
        var failed = answer.Results[0];
        Assert.Equal(WorkerError.InvalidRequest, failed.Error?.Code);
        Assert.StartsWith(field + ":", failed.Error!.Message, StringComparison.Ordinal);
        Assert.Null(failed.FirstToken);
        Assert.Null(answer.Results[1].Error);
        Assert.NotNull(answer.Results[1].FirstToken);
        Assert.NotNull(answer.Results[1].KvHandle);
    }
}
