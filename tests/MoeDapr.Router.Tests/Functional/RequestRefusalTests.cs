namespace MoeDapr.Router.Tests.Functional;

/// <summary>Fields the router cannot honour yet are refused by name; their "off" values pass.</summary>
public sealed class RequestRefusalTests : IDisposable
{
    private readonly RouterClient _router = new();

    public void Dispose() => _router.Dispose();

    private Task<(HttpStatusCode Status, JsonNode Body)> PostAsync(string path, string json) => _router.PostAsync(path, json);

    private const string Chat = "\"model\":\"test-moe\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2";

    [Theory]
    [InlineData("/v1/completions", """{"model":"test-moe","prompt":"hi","suffix":" end"}""", "suffix")]
    [InlineData("/v1/chat/completions", "{" + Chat + ""","tools":[{"type":"function","function":{"name":"f"}}]}""", "tools")]
    [InlineData("/v1/chat/completions", "{" + Chat + ""","response_format":{"type":"json_object"}}""", "response_format")]
    [InlineData("/v1/chat/completions", "{" + Chat + ""","response_format":{"type":"json_schema","json_schema":{}}}""", "response_format")]
    [InlineData("/v1/chat/completions", "{" + Chat + ""","response_format":"json"}""", "response_format")]
    public async Task Create_UnsupportedField_Answers400NamingIt(string path, string json, string field)
    {
        var (status, body) = await PostAsync(path, json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(field, (string)body["error"]!["param"]!);
        Assert.Contains(field, (string)body["error"]!["message"]!);
        Assert.Empty(_router.Factory.Workers.DecodeCalls);
    }

    [Theory]
    [InlineData("/v1/completions", """{"model":"test-moe","prompt":"hi","max_tokens":2,"suffix":null}""")]
    [InlineData("/v1/completions", """{"model":"test-moe","prompt":"hi","max_tokens":2,"suffix":""}""")]
    [InlineData("/v1/chat/completions", "{" + Chat + ""","tools":[]}""")]
    [InlineData("/v1/chat/completions", "{" + Chat + ""","response_format":{"type":"text"}}""")]
    public async Task Create_UnsupportedFieldSetToItsDefault_IsServed(string path, string json)
    {
        var (status, _) = await PostAsync(path, json);

        Assert.Equal(HttpStatusCode.OK, status);
    }
}
