using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using static MoeDapr.KvTransfer.Tests.TestSupport;

namespace MoeDapr.KvTransfer.Tests;

public sealed class ControlApiTests : IDisposable
{
    private readonly KvTransferFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.Clone();
    }

    [Fact]
    public async Task Allocate_MissingSizeAndRequester_Returns400ProblemNamingBothFields()
    {
        using var http = _factory.CreateClient();

        var response = await http.PostAsync("kv/allocations", new StringContent("""{"sizeBytes":0,"requester":""}""", Encoding.UTF8, "application/json"));

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("sizeBytes", out _));
        Assert.True(problem.GetProperty("errors").TryGetProperty("requester", out _));
    }

    [Fact]
    public async Task Allocate_MalformedJson_Returns400Problem()
    {
        using var http = _factory.CreateClient();

        var response = await http.PostAsync("kv/allocations", new StringContent("{\"sizeBytes\": ", Encoding.UTF8, "application/json"));

        await ProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Allocate_SizeNotMatchingLayoutOrBadHash_Returns400Problem()
    {
        using var http = _factory.CreateClient();
        var size = SmallLayout.ToHeader().PayloadBytes;

        var wrongSize = await http.PostAsJsonAsync("kv/allocations", new KvAllocateRequest(size + 1, SmallLayout, null, "t"));
        var badHash = await http.PostAsJsonAsync("kv/allocations", new KvAllocateRequest(size, SmallLayout, ["XYZ"], "t"));
        var tooManyHashes = await http.PostAsJsonAsync("kv/allocations", new KvAllocateRequest(size, SmallLayout, [Hash(1), Hash(2), Hash(3)], "t"));

        Assert.Contains("payload size", (await ProblemAsync(wrongSize, HttpStatusCode.BadRequest)).GetProperty("errors").GetProperty("sizeBytes")[0].GetString(), StringComparison.Ordinal);
        Assert.True((await ProblemAsync(badHash, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("prefixBlockHashes", out _));
        Assert.True((await ProblemAsync(tooManyHashes, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("prefixBlockHashes", out _));
    }

    [Fact]
    public async Task HandleRoutes_MalformedOrUnknownHandle_Return400Or404Problem()
    {
        using var http = _factory.CreateClient();

        await ProblemAsync(await http.GetAsync("kv/allocations/not-a-handle"), HttpStatusCode.BadRequest);
        await ProblemAsync(await http.GetAsync("kv/allocations/" + KvHandle.New()), HttpStatusCode.NotFound);
        await ProblemAsync(await http.DeleteAsync("kv/allocations/" + KvHandle.New()), HttpStatusCode.NotFound);
        var badChecksum = await http.PostAsJsonAsync($"kv/allocations/{KvHandle.New()}/commit", new KvCommitRequest(10, "nothex"));
        Assert.True((await ProblemAsync(badChecksum, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("checksum", out _));
        await ProblemAsync(await http.PostAsJsonAsync("kv/prefix/locate", new KvPrefixLocateRequest([])), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Allocate_BeyondCapacity_Returns507AndKeepsEarlierAllocations()
    {
        using var http = _factory.CreateClient();
        var big = _factory.CapacityBytes * 5 / 8;

        var first = await http.PostAsJsonAsync("kv/allocations", new KvAllocateRequest(big, null, null, "t"));
        var second = await http.PostAsJsonAsync("kv/allocations", new KvAllocateRequest(big, null, null, "t"));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var problem = await ProblemAsync(second, (HttpStatusCode)507);
        Assert.Contains("capacity", problem.GetProperty("title").GetString(), StringComparison.Ordinal);
        var handle = (await first.Content.ReadFromJsonAsync<KvAllocateResponse>())!.Handle;
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("kv/allocations/" + handle)).StatusCode);
    }

    [Fact]
    public async Task Health_Ready_ReportsTheDataPlane()
    {
        using var http = _factory.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);
    }
}
