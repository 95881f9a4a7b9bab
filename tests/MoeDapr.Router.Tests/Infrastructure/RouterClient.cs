namespace MoeDapr.Router.Tests.Infrastructure;

/// <summary>A router with its default workers announced and a client that posts JSON and reads the JSON answer.</summary>
public sealed class RouterClient : IDisposable
{
    public RouterClient(RouterFactory? factory = null)
    {
        Factory = factory ?? new RouterFactory();
        Http = Factory.CreateClient();
        Factory.AnnounceDefaultWorkers();
    }

    public RouterFactory Factory { get; }

    public HttpClient Http { get; }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public async Task<(HttpStatusCode Status, JsonNode Body)> PostAsync(string path, string json)
    {
        using var response = await Http.PostAsync(path, Json(json));
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    public void Dispose()
    {
        Http.Dispose();
        Factory.Dispose();
    }
}
