namespace MoeDapr.Engine.Eplb;

/// <summary>
/// DeepSeek's expert-parallel load balancer (github.com/deepseek-ai/EPLB). Hierarchical when groups divide evenly
/// over nodes (G % N == 0): whole expert groups are packed onto nodes, hot experts are replicated within their node,
/// and the node's physical experts are packed onto its ranks. Otherwise global: replicate over all slots and pack
/// onto all ranks (the hierarchical steps with one group and one node).
/// </summary>
public sealed class DeepSeekEplbPolicy : IExpertPlacementPolicy
{
    /// <summary>The name options select this policy by.</summary>
    public const string PolicyName = "deepseek";

    /// <inheritdoc />
    public string Name => PolicyName;

    /// <inheritdoc />
    public ExpertPlacement Place(ExpertLoadMatrix loads, EplbTopology topology)
    {
        ArgumentNullException.ThrowIfNull(loads);
        ArgumentNullException.ThrowIfNull(topology);
        topology.Validate(loads.Experts);

        var (groups, nodes) = topology.IsHierarchical ? (topology.Groups, topology.Nodes) : (1, 1);
        var phy2Log = new int[loads.Layers][];
        for (var layer = 0; layer < loads.Layers; layer++)
        {
            phy2Log[layer] = PlaceLayer(loads.Row(layer), topology.Replicas, groups, nodes, topology.Ranks);
        }

        return ExpertPlacement.FromPhy2Log(topology.Ranks, loads.Experts, phy2Log);
    }

    /// <summary>One layer: loads [experts] → logical expert per physical slot [replicas].</summary>
    private static int[] PlaceLayer(ReadOnlySpan<double> loads, int replicas, int groups, int nodes, int ranks)
    {
        var experts = loads.Length;
        var groupSize = experts / groups;
        var groupsPerNode = groups / nodes;
        var expertsPerNode = experts / nodes;
        var slotsPerNode = replicas / nodes;
        var ranksPerNode = ranks / nodes;
        var slotsPerRank = replicas / ranks;

        // Step 1: whole groups onto nodes, so a token's experts (chosen within few groups) stay on few nodes.
        var groupLoads = new double[groups];
        for (var expert = 0; expert < experts; expert++)
        {
            groupLoads[expert / groupSize] += loads[expert];
        }

        var (groupNode, groupPosition) = BalancedPacking.Pack(groupLoads, nodes);

        // [nodes * expertsPerNode]: the logical expert at each position of each node, node-major.
        var nodeExperts = new int[experts];
        for (var expert = 0; expert < experts; expert++)
        {
            var group = expert / groupSize;
            var nodeGroup = (groupNode[group] * groupsPerNode) + groupPosition[group];
            nodeExperts[(nodeGroup * groupSize) + (expert % groupSize)] = expert;
        }

        var phy2Log = new int[replicas];
        var nodeLoads = new double[expertsPerNode];
        var slotLoads = new double[slotsPerNode];
        for (var node = 0; node < nodes; node++)
        {
            var firstExpert = node * expertsPerNode;
            for (var local = 0; local < expertsPerNode; local++)
            {
                nodeLoads[local] = loads[nodeExperts[firstExpert + local]];
            }

            // Step 2: the node's redundant slots go to its hottest experts.
            var (slotToLocal, counts) = ExpertReplication.Replicate(nodeLoads, slotsPerNode);

            // Step 3: the node's physical experts onto its ranks; a replica carries an equal share of its expert's load.
            for (var slot = 0; slot < slotsPerNode; slot++)
            {
                var local = slotToLocal[slot];
                slotLoads[slot] = nodeLoads[local] / counts[local];
            }

            var (rank, position) = BalancedPacking.Pack(slotLoads, ranksPerNode);
            for (var slot = 0; slot < slotsPerNode; slot++)
            {
                var physical = (node * slotsPerNode) + (rank[slot] * slotsPerRank) + position[slot];
                phy2Log[physical] = nodeExperts[firstExpert + slotToLocal[slot]];
            }
        }

        return phy2Log;
    }
}
