namespace MoeDapr.Router.Tests.Functional;

/// <summary><c>Router:ServedModelNames</c> read at start from configuration, over a real checkpoint folder.</summary>
public sealed class ServedNamesConfigTests : IClassFixture<RealModelFolderTests.TinyFolder>
{
    private readonly RealModelFolderTests.TinyFolder _folder;

    public ServedNamesConfigTests(RealModelFolderTests.TinyFolder folder) => _folder = folder;

    [Fact]
    public async Task ListModels_ServedModelNamesConfigured_ListsThemWithTheFolderAsRoot()
    {
        using var factory = new RouterFactory(new Dictionary<string, string?>
        {
            ["Model:Path"] = _folder.Path,
            ["Router:ServedModelNames:0"] = "first",
            ["Router:ServedModelNames:1"] = "second",
        }, withModel: false);
        using var client = factory.CreateClient();

        var models = await client.GetFromJsonAsync<JsonNode>("/v1/models");

        var cards = models!["data"]!.AsArray();
        Assert.Equal(["first", "second"], cards.Select(c => (string)c!["id"]!));
        Assert.All(cards, c => Assert.Equal(Path.GetFullPath(_folder.Path), (string)c!["root"]!));
    }

    [Fact]
    public async Task ListModels_NoNamesConfigured_ServesTheFolderName()
    {
        using var factory = new RouterFactory(new Dictionary<string, string?> { ["Model:Path"] = _folder.Path }, withModel: false);
        using var client = factory.CreateClient();

        var models = await client.GetFromJsonAsync<JsonNode>("/v1/models");

        Assert.Equal(new DirectoryInfo(_folder.Path).Name, (string)Assert.Single(models!["data"]!.AsArray())!["id"]!);
    }
}
