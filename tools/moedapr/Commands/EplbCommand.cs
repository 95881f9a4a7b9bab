using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using MoeDapr.Engine.Eplb;

namespace MoeDapr.Cli.Commands;

/// <summary>
/// <c>moedapr eplb</c>: computes an expert placement from per-layer expert loads and prints it as JSON, with the Gini
/// coefficient of each layer's loads for context (placement does not change it).
/// </summary>
public static class EplbCommand
{
    private static readonly JsonSerializerOptions ReadOptions = new() { PropertyNameCaseInsensitive = true };

    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var loads = new Option<FileInfo>("--loads")
        {
            Description = "JSON file {\"loads\": [[...], ...]}: per-layer token counts per logical expert [layers, experts].",
            Required = true,
        };
        var replicas = new Option<int>("--replicas") { Description = "Physical expert slots per layer (R), at least the expert count.", Required = true };
        var groups = new Option<int>("--groups") { Description = "Expert groups (G); hierarchical placement when G % nodes == 0.", DefaultValueFactory = _ => 1 };
        var nodes = new Option<int>("--nodes") { Description = "Nodes (N) the ranks sit on.", DefaultValueFactory = _ => 1 };
        var ranks = new Option<int>("--ranks") { Description = "EP ranks / GPUs (M); R must be a multiple of M.", Required = true };
        var policy = new Option<string>("--policy")
        {
            Description = $"Placement policy: {string.Join(", ", ExpertPlacementPolicies.Names)}.",
            DefaultValueFactory = _ => DeepSeekEplbPolicy.PolicyName,
        };

        var command = new Command("eplb", "Balance experts over ranks with DeepSeek's EPLB and print phy2log, log2phy, logcnt and balancedness.")
        {
            loads, replicas, groups, nodes, ranks, policy,
        };
        command.SetAction(parse => Run(
            parse.GetRequiredValue(loads),
            new EplbTopology(parse.GetValue(replicas), parse.GetValue(groups), parse.GetValue(nodes), parse.GetValue(ranks)),
            parse.InvocationConfiguration.Output,
            parse.InvocationConfiguration.Error,
            parse.GetValue(policy) ?? DeepSeekEplbPolicy.PolicyName));
        return command;
    }

    /// <summary>Places experts for the loads in <paramref name="loadsFile"/>; 0 on success, 1 with a message on bad input.</summary>
    public static int Run(FileInfo loadsFile, EplbTopology topology, TextWriter output, TextWriter error, string policyName = DeepSeekEplbPolicy.PolicyName)
    {
        ArgumentNullException.ThrowIfNull(loadsFile);
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        try
        {
            var policy = ExpertPlacementPolicies.Create(policyName);
            var loads = ReadLoads(loadsFile);
            var placement = policy.Place(loads, topology);
            var before = PlacementBalance.OfIdentity(loads, topology.Ranks);
            var after = PlacementBalance.Of(loads, placement);

            var result = new EplbOutput(
                policy.Name,
                topology.IsHierarchical ? "hierarchical" : "global",
                loads.Layers,
                loads.Experts,
                topology.Replicas,
                topology.Ranks,
                topology.SlotsPerRank,
                [.. placement.Layers.Select(layer => layer.Phy2Log.ToArray())],
                [.. placement.Layers.Select(layer => layer.Log2Phy.Select(row => row.ToArray()).ToArray())],
                [.. placement.Layers.Select(layer => layer.LogicalCount.ToArray())],
                new EplbBalancedness(before.Mean, after.Mean, [.. before.PerLayer], [.. after.PerLayer]),
                [.. Enumerable.Range(0, loads.Layers).Select(layer => ExpertLoadStatistics.Gini(loads.Row(layer)))]);
            output.WriteLine(JsonSerializer.Serialize(result));
            return 0;
        }
        catch (EplbInputException e)
        {
            error.WriteLine($"eplb: {e.Message}");
            return 1;
        }
    }

    private static ExpertLoadMatrix ReadLoads(FileInfo file)
    {
        if (!file.Exists)
        {
            throw new EplbInputException($"--loads: file '{file.FullName}' does not exist.");
        }

        LoadsFile? parsed;
        try
        {
            using var stream = file.OpenRead();
            parsed = JsonSerializer.Deserialize<LoadsFile>(stream, ReadOptions);
        }
        catch (JsonException e)
        {
            throw new EplbInputException($"--loads: '{file.Name}' is not {{\"loads\": [[number, ...], ...]}}: {e.Message}", e);
        }

        if (parsed?.Loads is null)
        {
            throw new EplbInputException($"--loads: '{file.Name}' has no \"loads\" array.");
        }

        return ExpertLoadMatrix.FromRows(parsed.Loads);
    }

    private sealed record LoadsFile([property: JsonPropertyName("loads")] double[][]? Loads);

    private sealed record EplbBalancedness(
        [property: JsonPropertyName("before")] double Before,
        [property: JsonPropertyName("after")] double After,
        [property: JsonPropertyName("before_per_layer")] double[] BeforePerLayer,
        [property: JsonPropertyName("after_per_layer")] double[] AfterPerLayer);

    private sealed record EplbOutput(
        [property: JsonPropertyName("policy")] string Policy,
        [property: JsonPropertyName("mode")] string Mode,
        [property: JsonPropertyName("layers")] int Layers,
        [property: JsonPropertyName("experts")] int Experts,
        [property: JsonPropertyName("replicas")] int Replicas,
        [property: JsonPropertyName("ranks")] int Ranks,
        [property: JsonPropertyName("slots_per_rank")] int SlotsPerRank,
        [property: JsonPropertyName("phy2log")] int[][] Phy2Log,
        [property: JsonPropertyName("log2phy")] int[][][] Log2Phy,
        [property: JsonPropertyName("logcnt")] int[][] LogCnt,
        [property: JsonPropertyName("balancedness")] EplbBalancedness Balancedness,
        [property: JsonPropertyName("load_gini_per_layer")] double[] LoadGiniPerLayer);
}
