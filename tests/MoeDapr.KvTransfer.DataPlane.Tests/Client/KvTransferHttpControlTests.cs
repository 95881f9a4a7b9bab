using System.Net;
using System.Text;
using MoeDapr.Contracts.KvTransfer;
using MoeDapr.KvTransfer.DataPlane.Client;

namespace MoeDapr.KvTransfer.DataPlane.Tests.Client;

/// <summary>How the control client reads refusals: the reason kv-transfer sent, else one the status implies.</summary>
public sealed class KvTransferHttpControlTests
{
    [Fact]
    public async Task Refusal_WithAReasonMember_CarriesThatReasonWhateverTheStatus()
    {
        var control = Answering((HttpStatusCode)422, """{"title":"KV payload rejected","detail":"header: bad magic","reason":"HeaderMismatch"}""");

        var error = await Assert.ThrowsAsync<KvTransferException>(() => control.CommitAsync(KvHandle.New(), new KvCommitRequest(1, new string('0', 16)), CancellationToken.None));

        Assert.Equal(KvTransferErrorReason.HeaderMismatch, error.Reason);
        Assert.Equal((HttpStatusCode)422, error.StatusCode);
        Assert.Contains("KV payload rejected: header: bad magic", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(400, KvTransferErrorReason.InvalidRequest)]
    [InlineData(404, KvTransferErrorReason.NotFound)]
    [InlineData(410, KvTransferErrorReason.NotFound)]
    [InlineData(409, KvTransferErrorReason.WrongState)]
    [InlineData(429, KvTransferErrorReason.TooManyLeases)]
    [InlineData(507, KvTransferErrorReason.Capacity)]
    [InlineData(504, KvTransferErrorReason.Timeout)]
    [InlineData(422, KvTransferErrorReason.Unknown)]
    [InlineData(500, KvTransferErrorReason.Unknown)]
    public async Task Refusal_WithoutAReason_TakesTheOneItsStatusImplies(int status, KvTransferErrorReason expected)
    {
        var control = Answering((HttpStatusCode)status, "upstream said no");

        var error = await Assert.ThrowsAsync<KvTransferException>(() => control.RenewAsync(KvHandle.New(), new KvRenewRequest(), CancellationToken.None));

        Assert.Equal(expected, error.Reason);
        Assert.Contains("upstream said no", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"title":"x","reason":"NoSuchReason"}""")]
    [InlineData("""{"title":"x","reason":3}""")]
    [InlineData("""["not", "an", "object"]""")]
    public async Task Refusal_WithAnUnreadableReason_FallsBackToTheStatus(string body)
    {
        var control = Answering(HttpStatusCode.Conflict, body);

        var error = await Assert.ThrowsAsync<KvTransferException>(() => control.AllocateAsync(new KvAllocateRequest(1, null, null, "tests"), CancellationToken.None));

        Assert.Equal(KvTransferErrorReason.WrongState, error.Reason);
    }

    [Fact]
    public async Task LocateAndRelease_OfAnUnknownHandle_AnswerNullAndFalseInsteadOfThrowing()
    {
        var control = Answering(HttpStatusCode.NotFound, """{"title":"Unknown KV handle","reason":"NotFound"}""");

        Assert.Null(await control.LocateAsync(KvHandle.New(), null, CancellationToken.None));
        Assert.False(await control.ReleaseAsync(KvHandle.New(), CancellationToken.None));
    }

    private static KvTransferHttpControl Answering(HttpStatusCode status, string body) =>
        new(new HttpClient(new FixedAnswer(status, body)) { BaseAddress = new Uri("http://kv-transfer.test/") });

    private sealed class FixedAnswer(HttpStatusCode status, string body) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/problem+json") });
    }
}
