using MoeDapr.Engine.Kernels;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Modeling;

// The loop of transformers' MixtralSparseMoeBlock.forward / Qwen3MoeSparseMoeBlock.forward, step by step:
//   router_logits = self.gate(hidden_states)                   MoeFeedForward.Forward: _linear.Apply(x, _router)
//   routing_weights = F.softmax(router_logits, dtype=float)    the same line: .to(Float32).softmax(-1)
//   routing_weights, selected_experts = torch.topk(...)        probs.topk(_topK, -1)
//   routing_weights /= routing_weights.sum(-1, keepdim=True)   the _normalize branch (Mixtral always, Qwen if norm_topk_prob)
//   routing_weights.to(hidden_states.dtype)                    Experts.Forward(x, weights.to(x.dtype), experts)
//   for expert_idx in expert_hit:                              Forward below: the (token, k) assignments sorted by the
//       idx, top_x = torch.where(expert_mask[expert_idx])      physical slot of their expert (slotOf, order, counts), so
//                                                              each expert's tokens are one contiguous run of rows
//       current_state = hidden_states[None, top_x]             gathered = x.index_select(0, sortedTokens)
//       expert_layer(current_state)                            ExpertByExpert (one GatedMlp per slot) or GroupedExperts
//                                                              (every slot of a rank in one kernel pass), per EP rank
//       * routing_weights[top_x, idx, None]                    the last line: combined * sortedWeights
//       final_hidden_states.index_add_(0, top_x, ...)          the last line: one index_add_ over all experts' rows
// Differences: replicas of one expert share its assignments (ExpertSlots.SlotsOf), experts run per EP rank, and
// Qwen2MoeSparseMoeBlock's sigmoid-gated shared expert is added after this in MoeFeedForward.Forward.

/// <summary>
/// The routed experts of one MoE layer computed over their expert-parallel ranks: tokens grouped by the slot that
/// holds their expert (<see cref="ExpertSlots"/>), each rank's slots run, outputs weighted and summed per token.
/// </summary>
internal sealed class ExpertShards(ExpertSlots slots, RowLinear linear) : IDisposable
{
    // Per rank: weights the CPU small-rows kernel can read in place (placement changes copy into the same views).
    private readonly bool[] _smallRowsKernel = Enumerable.Range(0, slots.Ranks).Select(r => SmallRowsLinear.IsSupported
        && SmallRowsLinear.IsSupportedWeight(slots.GateUp(r, 0), slots.Hidden)
        && SmallRowsLinear.IsSupportedWeight(slots.Down(r, 0), slots.Intermediate)).ToArray();

    private readonly ExpertLoadCounters _counters = new(slots.NumExperts, slots.Ranks);

    /// <summary>Where per-rank expert time is added up; null: not timed.</summary>
    public MoeStepTimings? Timings { get; init; }

    /// <summary>Current placement: logical expert of each physical slot.</summary>
    public int[] Phy2Log => slots.Phy2Log;

    /// <summary>Tokens routed to each logical expert since load (top-k assignments, not distinct tokens).</summary>
    public long[] ExpertTokens => _counters.ExpertTokens;

    /// <summary>Token assignments each rank computed since load.</summary>
    public long[] RankTokens => _counters.RankTokens;

    /// <summary>Applies a new placement between steps (see <see cref="ExpertSlots.Apply"/>).</summary>
    public void ApplyPlacement(int[] phy2Log) => slots.Apply(phy2Log);

    /// <summary>x: [T, hidden]; weights, experts: [T, k] → [T, hidden], the weighted sum of each token's experts.</summary>
    public Tensor Forward(Tensor x, Tensor weights, Tensor experts)
    {
        var t = x.shape[0];
        var k = experts.shape[1];
        var flatExperts = experts.reshape(-1); // [T * k]
        var assignment = arange(t * k, dtype: ScalarType.Int64, device: slots.Main);
        var slotOf = slots.SlotsOf(flatExperts, assignment); // [T * k]
        var order = slotOf.argsort(0);
        var counts = slotOf.bincount(null, slots.NumSlots).cpu().data<long>().ToArray(); // one host read per layer
        var sortedTokens = assignment.index_select(0, order).floor_divide(k);
        var sortedWeights = weights.reshape(-1).index_select(0, order);
        var gathered = x.index_select(0, sortedTokens); // [T * k, hidden], grouped by slot

        var outputs = new List<Tensor>(slots.Ranks);
        long offset = 0;
        for (var r = 0; r < slots.Ranks; r++)
        {
            long rankCount = 0;
            for (var j = 0; j < slots.SlotsPerRank; j++)
            {
                rankCount += counts[(r * slots.SlotsPerRank) + j];
            }

            if (rankCount == 0)
            {
                continue;
            }

            _counters.AddRank(r, rankCount);
            var rankStart = Timings?.Start() ?? 0;
            var rankInput = gathered.narrow(0, offset, rankCount);
            var device = slots.RankDevices[r];
            if (!Equals(device, slots.Main))
            {
                rankInput = rankInput.to(device);
            }

            var rankOutput = t <= SmallRowsLinear.MaxRows && _smallRowsKernel[r]
                ? GroupedExperts(r, rankInput, counts)
                : ExpertByExpert(r, rankInput, counts);
            outputs.Add(Equals(device, slots.Main) ? rankOutput : rankOutput.to(slots.Main));
            Timings?.AddRank(r, rankStart);
            offset += rankCount;
        }

        var combined = outputs.Count == 1 ? outputs[0] : cat(outputs, 0); // [T * k, hidden] in slot order
        return zeros_like(x).index_add_(0, sortedTokens, combined * sortedWeights.unsqueeze(1), 1);
    }

    /// <summary>Each expert of rank <paramref name="r"/> with tokens as its own product over its slice of the rank's rows.</summary>
    private Tensor ExpertByExpert(int r, Tensor rankInput, long[] counts)
    {
        var parts = new List<Tensor>();
        long local = 0;
        foreach (var (j, c) in ActiveSlots(r, counts))
        {
            parts.Add(GatedMlp.Apply(linear, rankInput.narrow(0, local, c), slots.GateUp(r, j), slots.Down(r, j), slots.Intermediate));
            local += c;
        }

        return parts.Count == 1 ? parts[0] : cat(parts, 0);
    }

    /// <summary>
    /// The slots of rank <paramref name="r"/> that got tokens this step, as (slot within the rank, rows), in slot order;
    /// counts those rows to the slots' experts.
    /// </summary>
    private List<(int Slot, long Rows)> ActiveSlots(int r, long[] counts)
    {
        var active = new List<(int, long)>(slots.SlotsPerRank);
        for (var j = 0; j < slots.SlotsPerRank; j++)
        {
            var slot = (r * slots.SlotsPerRank) + j;
            if (counts[slot] > 0)
            {
                _counters.AddExpert(slots.ExpertOf(slot), counts[slot]);
                active.Add((j, counts[slot]));
            }
        }

        return active;
    }

    /// <summary>
    /// A decode step's few rows per expert (at most the step's tokens): all experts of rank <paramref name="r"/> in one
    /// grouped kernel pass for gate/up and one for down, instead of two small products per expert.
    /// </summary>
    private Tensor GroupedExperts(int r, Tensor rankInput, long[] counts)
    {
        var rows = new List<long>(slots.SlotsPerRank);
        var gateUp = new List<Tensor>(slots.SlotsPerRank);
        var down = new List<Tensor>(slots.SlotsPerRank);
        foreach (var (j, c) in ActiveSlots(r, counts))
        {
            rows.Add(c);
            gateUp.Add(slots.GateUp(r, j));
            down.Add(slots.Down(r, j));
        }

        var intermediate = slots.Intermediate;
        var gu = linear.GroupedApply(rankInput, rows, gateUp); // [rows, 2I]
        var act = nn.functional.silu(gu.narrow(1, 0, intermediate)) * gu.narrow(1, intermediate, intermediate);
        return linear.GroupedApply(act, rows, down); // [rows, hidden]
    }

    public void Dispose() => slots.Dispose();
}
