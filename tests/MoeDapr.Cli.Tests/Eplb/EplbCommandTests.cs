using System.Diagnostics;
using System.Text.Json;
using MoeDapr.Cli.Commands;
using MoeDapr.Engine.Eplb;

namespace MoeDapr.Cli.Tests.Eplb;

public sealed class EplbCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("moedapr-eplb-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Run_SkewedLoads_PrintsConsistentPlacementThatImprovesBalance()
    {
        var file = WriteLoads("""{"loads": [[900, 40, 30, 20, 310, 10, 15, 25], [10, 10, 10, 800, 10, 10, 400, 10]]}""");
        var (code, stdout, stderr) = Run(file, new EplbTopology(Replicas: 12, Groups: 1, Nodes: 2, Ranks: 4));

        Assert.Equal(0, code);
        Assert.Empty(stderr);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal("global", root.GetProperty("mode").GetString());

        var phy2Log = root.GetProperty("phy2log");
        var log2Phy = root.GetProperty("log2phy");
        var logCnt = root.GetProperty("logcnt");
        Assert.Equal(2, phy2Log.GetArrayLength());
        for (var layer = 0; layer < 2; layer++)
        {
            var slots = phy2Log[layer].EnumerateArray().Select(e => e.GetInt32()).ToArray();
            Assert.Equal(12, slots.Length);
            for (var expert = 0; expert < 8; expert++)
            {
                var count = logCnt[layer][expert].GetInt32();
                Assert.Equal(count, slots.Count(s => s == expert));
                var replicas = log2Phy[layer][expert].EnumerateArray().Select(e => e.GetInt32()).ToArray();
                Assert.Equal(count, replicas.Count(s => s >= 0));
                Assert.All(replicas.Where(s => s >= 0), s => Assert.Equal(expert, slots[s]));
            }
        }

        // The hot expert of each layer is replicated.
        Assert.True(logCnt[0][0].GetInt32() > 1);
        Assert.True(logCnt[1][3].GetInt32() > 1);
        var balance = root.GetProperty("balancedness");
        Assert.True(balance.GetProperty("after").GetDouble() > balance.GetProperty("before").GetDouble());
        Assert.Equal(2, balance.GetProperty("after_per_layer").GetArrayLength());
        Assert.All(root.GetProperty("load_gini_per_layer").EnumerateArray(), gini => Assert.InRange(gini.GetDouble(), 0.5, 1));
    }

    [Fact]
    public void Run_GroupsDivideOverNodes_ReportsHierarchicalMode()
    {
        var file = WriteLoads("""{"loads": [[5, 1, 1, 1, 2, 2, 2, 2]]}""");
        var (code, stdout, _) = Run(file, new EplbTopology(Replicas: 8, Groups: 4, Nodes: 2, Ranks: 4));

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal("hierarchical", json.RootElement.GetProperty("mode").GetString());
    }

    [Fact]
    public void Run_OneNode_ReportsGlobalMode()
    {
        var file = WriteLoads("""{"loads": [[5, 1, 1, 1, 2, 2, 2, 2]]}""");
        var (code, stdout, _) = Run(file, new EplbTopology(Replicas: 8, Groups: 4, Nodes: 1, Ranks: 4));

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal("global", json.RootElement.GetProperty("mode").GetString());
    }

    [Theory]
    [InlineData("""{"loads": [[1, 2, 3, 4]]}""", 6, 1, 1, 4, "R % M == 0")]
    [InlineData("""{"loads": [[1, 2, 3, 4]]}""", 2, 1, 1, 2, "R >= experts")]
    [InlineData("""{"loads": [[1, 2, 3, 4]]}""", 4, 3, 1, 2, "experts % G == 0")]
    [InlineData("""{"loads": [[1, 2, 3, 4], [1, 2]]}""", 4, 1, 1, 2, "rectangular")]
    [InlineData("""{"loads": [[1, -2, 3, 4]]}""", 4, 1, 1, 2, "non-negative")]
    [InlineData("""{"weights": [[1, 2, 3, 4]]}""", 4, 1, 1, 2, "no \"loads\" array")]
    [InlineData("""{"loads": [[1, "x"]]}""", 4, 1, 1, 2, "--loads")]
    public void Run_BadInput_ExitsNonZeroNamingTheRule(string content, int replicas, int groups, int nodes, int ranks, string rule)
    {
        var file = WriteLoads(content);
        var (code, stdout, stderr) = Run(file, new EplbTopology(replicas, groups, nodes, ranks));

        Assert.Equal(1, code);
        Assert.Empty(stdout);
        Assert.Contains(rule, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_UnknownPolicy_NamesIt()
    {
        var file = WriteLoads("""{"loads": [[1, 2, 3, 4]]}""");
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = EplbCommand.Run(new FileInfo(file), new EplbTopology(4, 1, 1, 2), output, error, "greedy");

        Assert.Equal(1, code);
        Assert.Contains("unknown expert placement policy 'greedy'", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_MissingFile_NamesTheArgument()
    {
        var (code, _, stderr) = Run(Path.Combine(_folder, "absent.json"), new EplbTopology(4, 1, 1, 2));

        Assert.Equal(1, code);
        Assert.Contains("--loads", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Process_RanksDoNotDivideReplicas_ExitsNonZeroWithRule()
    {
        var file = WriteLoads("""{"loads": [[4, 3, 2, 1]]}""");

        var (code, stdout, stderr) = await RunProcessAsync(
            "eplb", "--loads", file, "--replicas", "6", "--groups", "1", "--nodes", "1", "--ranks", "4");

        Assert.NotEqual(0, code);
        Assert.Empty(stdout.Trim());
        Assert.Contains("R % M == 0", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Process_ValidInput_PrintsOneJsonObject()
    {
        var file = WriteLoads("""{"loads": [[40, 3, 2, 1, 1, 1, 1, 1]]}""");

        var (code, stdout, _) = await RunProcessAsync("eplb", "--loads", file, "--replicas", "10", "--ranks", "2");

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(3, json.RootElement.GetProperty("logcnt")[0][0].GetInt32());
    }

    private string WriteLoads(string content)
    {
        var path = Path.Combine(_folder, $"{Guid.NewGuid():N}.json");
        File.WriteAllText(path, content);
        return path;
    }

    private static (int Code, string Stdout, string Stderr) Run(string file, EplbTopology topology)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = EplbCommand.Run(new FileInfo(file), topology, output, error);
        return (code, output.ToString(), error.ToString());
    }

    internal static async Task<(int Code, string Stdout, string Stderr)> RunProcessAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "moedapr.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start moedapr");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
