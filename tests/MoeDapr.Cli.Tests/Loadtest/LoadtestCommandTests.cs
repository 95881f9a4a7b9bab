using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Xml.Linq;
using MoeDapr.Cli.Commands;

namespace MoeDapr.Cli.Tests.Loadtest;

/// <summary>The whole command against a real HTTP server on a loopback port.</summary>
public sealed class LoadtestCommandTests : IDisposable
{
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(60);
    private readonly string _folder = Directory.CreateTempSubdirectory("moedapr-loadtest-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Invoke_StreamingWithRejectionsAndSlowAnswers_ReportMatchesWhatTheServerAnswered()
    {
        // Every 5th request is shed, every 7th (not 5th) times out in the queue, every 3rd completed one is slow.
        await using var server = FakeOpenAiServer.Start(n => n % 5 == 4 ? new FakeAnswer { Status = 429 }
            : n % 7 == 6 ? new FakeAnswer { Status = 503 }
            : n % 3 == 0 ? new FakeAnswer { FirstTokenDelay = TimeSpan.FromMilliseconds(400) }
            : new FakeAnswer());
        var json = Path.Combine(_folder, "report.json");
        var svg = Path.Combine(_folder, "plots", "latency.svg");

        var (code, output, error) = await InvokeAsync(
            "--url", server.BaseUrl.ToString(), "--duration", "2", "--target-qps", "30", "--max-new-tokens", "5",
            "--prompt-len-min", "4", "--prompt-len-max", "12", "--stream", "--slo-ttft", "200", "--seed", "42",
            "--output-json", json, "--plot", svg);

        Assert.True(code == 0, error);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var root = report.RootElement;
        var counts = root.GetProperty("counts");
        Assert.True(server.Requests > 20, $"only {server.Requests} requests arrived");
        Assert.Equal(server.Requests, counts.GetProperty("sent").GetInt32());
        Assert.Equal(server.Requests, counts.GetProperty("arrivals").GetInt32());
        Assert.Equal(server.Rejected, counts.GetProperty("rejected").GetInt32());
        Assert.Equal(server.Unavailable, counts.GetProperty("timed_out").GetInt32());
        Assert.Equal(server.Completed, counts.GetProperty("ok").GetInt32());
        Assert.Equal(0, counts.GetProperty("failed").GetInt32());
        Assert.Equal(0, counts.GetProperty("dropped").GetInt32());

        var ok = server.Completed;
        var latency = root.GetProperty("latency_ms");
        Assert.Equal(ok, latency.GetProperty("ttft").GetProperty("count").GetInt32());
        Assert.Equal(ok, latency.GetProperty("tpot").GetProperty("count").GetInt32());
        Assert.Equal(ok * 4, latency.GetProperty("itl").GetProperty("count").GetInt32());
        Assert.Equal(ok, latency.GetProperty("e2e").GetProperty("count").GetInt32());
        Assert.Equal(server.Rejected, latency.GetProperty("rejection").GetProperty("count").GetInt32());
        Assert.True(latency.GetProperty("ttft").GetProperty("p99").GetDouble() >= 400, "the slow answers must show in the TTFT tail");
        Assert.Equal(ok * 5, root.GetProperty("throughput").GetProperty("output_tokens").GetInt64());

        // Slow answers (400 ms to the first token) can never meet a 200 ms TTFT objective.
        var good = root.GetProperty("goodput").GetProperty("good_requests").GetInt32();
        Assert.InRange(good, 1, ok - server.SlowCompleted);
        Assert.Equal(server.Requests, root.GetProperty("requests").GetArrayLength());
        Assert.Equal(FakeOpenAiServer.ModelId, server.LastRequest?["model"]?.GetValue<string>());
        Assert.Equal(5, server.LastRequest?["max_tokens"]?.GetValue<int>());

        var plot = XDocument.Load(svg);
        Assert.Equal("svg", plot.Root?.Name.LocalName);
        var circles = plot.Descendants().Count(e => e.Name.LocalName == "circle");
        Assert.Equal(server.Requests + ok, circles);
        Assert.Contains("ok", output, StringComparison.Ordinal);
        Assert.Contains("rejected (429)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invoke_ConcurrencyCapReached_DropsArrivalsAndNeverExceedsTheCap()
    {
        await using var server = FakeOpenAiServer.Start(_ => new FakeAnswer { FirstTokenDelay = TimeSpan.FromMilliseconds(500) });
        var json = Path.Combine(_folder, "report.json");

        var (code, _, error) = await InvokeAsync(
            "--url", server.BaseUrl + "v1/completions", "--duration", "1", "--target-qps", "40", "--max-new-tokens", "3",
            "--prompt-len-min", "1", "--prompt-len-max", "1", "--concurrency", "2", "--model", "m", "--output-json", json);

        Assert.True(code == 0, error);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var counts = report.RootElement.GetProperty("counts");
        Assert.InRange(server.MaxInFlight, 1, 2);
        Assert.True(counts.GetProperty("dropped").GetInt32() > 0);
        Assert.Equal(server.Requests, counts.GetProperty("sent").GetInt32());
        Assert.Equal(
            counts.GetProperty("arrivals").GetInt32(),
            counts.GetProperty("sent").GetInt32() + counts.GetProperty("dropped").GetInt32());
        Assert.Equal(server.Completed, counts.GetProperty("ok").GetInt32());
    }

    [Fact]
    public async Task Invoke_ServerNeverAnswers_EachRequestEndsAtItsTimeout()
    {
        await using var server = FakeOpenAiServer.Start(_ => new FakeAnswer { Hang = true });
        var json = Path.Combine(_folder, "report.json");

        var (code, _, error) = await InvokeAsync(
            "--url", server.BaseUrl.ToString(), "--duration", "0.5", "--target-qps", "10", "--max-new-tokens", "3",
            "--prompt-len-min", "1", "--prompt-len-max", "3", "--model", "m", "--request-timeout", "0.5", "--seed", "3",
            "--output-json", json);

        Assert.True(code == 0, error);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var counts = report.RootElement.GetProperty("counts");
        var sent = counts.GetProperty("sent").GetInt32();
        Assert.True(sent > 0);
        Assert.Equal(sent, counts.GetProperty("failed").GetInt32());
        Assert.Equal(sent, counts.GetProperty("failure_reasons").GetProperty("client timeout after 0.5 s").GetInt32());
        Assert.All(
            report.RootElement.GetProperty("requests").EnumerateArray(),
            r => Assert.InRange(r.GetProperty("e2e_ms").GetDouble(), 450, 10_000));
    }

    [Fact]
    public async Task Invoke_WithoutStream_ReportsEndToEndAndUsageTokensOnly()
    {
        await using var server = FakeOpenAiServer.Start(_ => new FakeAnswer { Tokens = 7 });
        var json = Path.Combine(_folder, "report.json");

        var (code, _, error) = await InvokeAsync(
            "--url", server.BaseUrl.ToString(), "--duration", "1", "--target-qps", "20", "--max-new-tokens", "7",
            "--prompt-len-min", "2", "--prompt-len-max", "5", "--output-json", json);

        Assert.True(code == 0, error);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var root = report.RootElement;
        var ok = root.GetProperty("counts").GetProperty("ok").GetInt32();
        Assert.Equal(server.Completed, ok);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("latency_ms").GetProperty("ttft").ValueKind);
        Assert.Equal(ok, root.GetProperty("latency_ms").GetProperty("e2e").GetProperty("count").GetInt32());
        Assert.Equal(ok * 7, root.GetProperty("throughput").GetProperty("output_tokens").GetInt64());
        Assert.False(server.LastRequest?["stream"]?.GetValue<bool>());
    }

    [Fact]
    public async Task Invoke_SameSeed_OffersTheSameArrivals()
    {
        await using var server = FakeOpenAiServer.Start(_ => new FakeAnswer());
        var first = Path.Combine(_folder, "a.json");
        var second = Path.Combine(_folder, "b.json");
        string[] common = ["--url", server.BaseUrl.ToString(), "--duration", "0.5", "--target-qps", "20", "--max-new-tokens", "2",
            "--prompt-len-min", "1", "--prompt-len-max", "9", "--model", "m", "--seed", "9"];

        await InvokeAsync([.. common, "--output-json", first]);
        await InvokeAsync([.. common, "--output-json", second]);

        Assert.Equal(Arrivals(first), Arrivals(second));

        static IEnumerable<string> Arrivals(string path)
        {
            using var report = JsonDocument.Parse(File.ReadAllText(path));
            return report.RootElement.GetProperty("requests").EnumerateArray()
                .Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.GetProperty("scheduled_ms").GetDouble():F6}/{r.GetProperty("prompt_words").GetInt32()}"))
                .ToList();
        }
    }

    [Theory]
    [InlineData("--target-qps", "0", "--target-qps")]
    [InlineData("--duration", "-1", "--duration")]
    [InlineData("--url", "localhost:8080", "--url")]
    [InlineData("--prompt-len-max", "1", "--prompt-len-max")]
    [InlineData("--slo-ttft", "100", "--slo-ttft needs --stream")]
    [InlineData("--plot", "latency.png", "--plot")]
    [InlineData("--concurrency", "0", "--concurrency")]
    [InlineData("--max-new-tokens", "abc", "--max-new-tokens")]
    public async Task Invoke_BadArgument_ExitsNonZeroNamingIt(string option, string value, string expected)
    {
        var args = new Dictionary<string, string>
        {
            ["--url"] = "http://127.0.0.1:9/",
            ["--duration"] = "1",
            ["--target-qps"] = "5",
            ["--max-new-tokens"] = "4",
            ["--prompt-len-min"] = "4",
            ["--prompt-len-max"] = "8",
            ["--model"] = "m",
        };
        args[option] = value;

        var (code, _, error) = await InvokeAsync([.. args.SelectMany(pair => new[] { pair.Key, pair.Value })]);

        Assert.NotEqual(0, code);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invoke_MissingRequiredOption_NamesIt()
    {
        var (code, _, error) = await InvokeAsync("--url", "http://127.0.0.1:9/", "--duration", "1");

        Assert.NotEqual(0, code);
        Assert.Contains("--target-qps", error, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Output, string Error)> InvokeAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var configuration = new InvocationConfiguration { Output = output, Error = error };
        var code = await LoadtestCommand.Create().Parse(args).InvokeAsync(configuration).WaitAsync(RunLimit);
        return (code, output.ToString(), error.ToString());
    }
}
