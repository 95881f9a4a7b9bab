using System.Text.Json;

namespace MoeDapr.Tests.Shared;

/// <summary>Reads the ProblemDetails answers services give for refused requests.</summary>
public static class ProblemResponses
{
    /// <summary>The <c>detail</c> of a ProblemDetails answer (failing when the answer is not one).</summary>
    public static async Task<string> ProblemDetailAsync(this HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return problem.RootElement.GetProperty("detail").GetString()!;
    }
}
