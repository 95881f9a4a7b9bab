using MoeDapr.Engine.Checkpoint;
using MoeDapr.Model;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Modeling;

/// <summary>
/// The routed experts of one MoE layer, split over expert-parallel ranks. Physical slot s lives on rank
/// s / slotsPerRank and holds logical expert phy2log[s]; an expert may have several replicas, which
/// share its tokens. A rank holds only its own slots' weights.
/// </summary>
internal sealed class ExpertShards : IDisposable
{
    private readonly Device _main;
    private readonly Device[] _rankDevices;
    private readonly int _slotsPerRank;
    private readonly long _intermediate;
    private readonly long _hidden;
    private readonly ScalarType _dtype;
    private readonly long[] _expertTokens;
    private readonly long[] _rankTokens;
    private readonly Tensor[] _gateUp; // per rank [slots_per_rank, 2I, hidden]
    private readonly Tensor[] _down; // per rank [slots_per_rank, hidden, I]
    private readonly Tensor[][] _gateUpSlots; // per rank, per local slot: [2I, hidden] views
    private readonly Tensor[][] _downSlots;
    private readonly bool[] _smallRowsKernel; // per rank: weights the CPU small-rows kernel can read in place
    private int[] _phy2Log;
    private Tensor? _log2PhyFlat; // [experts * max_replicas] physical slot of (expert, replica)
    private Tensor? _replicaCounts; // [experts]
    private int _maxReplicas;

    public ExpertShards(ModelConfig config, int layer, IWeightSource weights, ScalarType dtype, Device main, Device[] rankDevices, int[] phy2Log)
    {
        _main = main;
        _rankDevices = rankDevices;
        NumExperts = config.NumExperts;
        NumSlots = phy2Log.Length;
        _slotsPerRank = NumSlots / rankDevices.Length;
        _intermediate = config.MoeIntermediateSize;
        _hidden = config.HiddenSize;
        _dtype = dtype;
        _expertTokens = new long[NumExperts];
        _rankTokens = new long[rankDevices.Length];
        ValidatePlacement(phy2Log);
        _phy2Log = (int[])phy2Log.Clone();
        _gateUp = new Tensor[rankDevices.Length];
        _down = new Tensor[rankDevices.Length];
        for (var r = 0; r < rankDevices.Length; r++)
        {
            _gateUp[r] = empty([_slotsPerRank, 2 * _intermediate, _hidden], dtype: dtype, device: rankDevices[r]);
            _down[r] = empty([_slotsPerRank, _hidden, _intermediate], dtype: dtype, device: rankDevices[r]);
            for (var j = 0; j < _slotsPerRank; j++)
            {
                using var scope = NewDisposeScope();
                var (gate, up, down) = CheckpointSchema.ExpertWeights(config, layer, _phy2Log[(r * _slotsPerRank) + j]);
                using var g = weights.Load(new(gate, [_intermediate, _hidden]), dtype, rankDevices[r]);
                using var u = weights.Load(new(up, [_intermediate, _hidden]), dtype, rankDevices[r]);
                using var d = weights.Load(new(down, [_hidden, _intermediate]), dtype, rankDevices[r]);
                using var slot = _gateUp[r][j];
                slot.narrow(0, 0, _intermediate).copy_(g);
                slot.narrow(0, _intermediate, _intermediate).copy_(u);
                using var downSlot = _down[r][j];
                downSlot.copy_(d);
            }
        }

        (_gateUpSlots, _downSlots) = SlotViews(_gateUp, _down);
        _smallRowsKernel = Enumerable.Range(0, rankDevices.Length).Select(r => SmallRowsLinear.IsSupported
            && SmallRowsLinear.IsSupportedWeight(_gateUpSlots[r][0], _hidden) && SmallRowsLinear.IsSupportedWeight(_downSlots[r][0], _intermediate)).ToArray();
        BuildRoutingTables();
    }

    public int NumExperts { get; }

    /// <summary>Where per-rank expert time is added up; null: not timed.</summary>
    public MoeStepTimings? Timings { get; init; }

    public int NumSlots { get; }

    public int Ranks => _rankDevices.Length;

    /// <summary>Current placement: logical expert of each physical slot.</summary>
    public int[] Phy2Log => (int[])_phy2Log.Clone();

    /// <summary>Tokens routed to each logical expert since load (top-k assignments, not distinct tokens).</summary>
    public long[] ExpertTokens => (long[])_expertTokens.Clone();

    /// <summary>Token assignments each rank computed since load.</summary>
    public long[] RankTokens => (long[])_rankTokens.Clone();

    /// <summary>Bytes of one expert's weights.</summary>
    public long BytesPerExpert => 3 * _hidden * _intermediate * _gateUp[0].ElementSize;

    /// <summary>x: [T, hidden]; weights, experts: [T, k] → [T, hidden], the weighted sum of each token's experts.</summary>
    public Tensor Forward(Tensor x, Tensor weights, Tensor experts)
    {
        var t = x.shape[0];
        var k = experts.shape[1];
        var flatExperts = experts.reshape(-1); // [T * k]
        var assignment = arange(t * k, dtype: ScalarType.Int64, device: _main);
        Tensor slots;
        if (_log2PhyFlat is null)
        {
            slots = flatExperts;
        }
        else
        {
            // Replica r of expert e takes assignment a when a % replicas(e) == r: replicas share the load.
            var replica = assignment.remainder(_replicaCounts!.index_select(0, flatExperts));
            slots = _log2PhyFlat.index_select(0, (flatExperts * _maxReplicas) + replica);
        }

        var order = slots.argsort(0);
        var counts = slots.bincount(null, NumSlots).cpu().data<long>().ToArray(); // one host read per layer
        var sortedTokens = assignment.index_select(0, order).floor_divide(k);
        var sortedWeights = weights.reshape(-1).index_select(0, order);
        var gathered = x.index_select(0, sortedTokens); // [T * k, hidden], grouped by slot

        var outputs = new List<Tensor>(Ranks);
        long offset = 0;
        for (var r = 0; r < Ranks; r++)
        {
            long rankCount = 0;
            for (var j = 0; j < _slotsPerRank; j++)
            {
                rankCount += counts[(r * _slotsPerRank) + j];
            }

            if (rankCount == 0)
            {
                continue;
            }

            _rankTokens[r] += rankCount;
            var rankStart = Timings?.Start() ?? 0;
            var rankInput = gathered.narrow(0, offset, rankCount);
            if (!Equals(_rankDevices[r], _main))
            {
                rankInput = rankInput.to(_rankDevices[r]);
            }

            var rankOutput = t <= SmallRowsLinear.MaxRows && _smallRowsKernel[r]
                ? GroupedExperts(r, rankInput, counts)
                : ExpertByExpert(r, rankInput, counts);
            outputs.Add(Equals(_rankDevices[r], _main) ? rankOutput : rankOutput.to(_main));
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
            parts.Add(GatedMlp.Apply(rankInput.narrow(0, local, c), _gateUpSlots[r][j], _downSlots[r][j], _intermediate));
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
        var active = new List<(int, long)>(_slotsPerRank);
        for (var j = 0; j < _slotsPerRank; j++)
        {
            var slot = (r * _slotsPerRank) + j;
            if (counts[slot] > 0)
            {
                _expertTokens[_phy2Log[slot]] += counts[slot];
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
        var rows = new List<long>(_slotsPerRank);
        var gateUp = new List<Tensor>(_slotsPerRank);
        var down = new List<Tensor>(_slotsPerRank);
        foreach (var (j, c) in ActiveSlots(r, counts))
        {
            rows.Add(c);
            gateUp.Add(_gateUpSlots[r][j]);
            down.Add(_downSlots[r][j]);
        }

        var gu = SmallRowsLinear.GroupedApply(rankInput, rows, gateUp, SmallRowsLinear.Threads); // [rows, 2I]
        var act = nn.functional.silu(gu.narrow(1, 0, _intermediate)) * gu.narrow(1, _intermediate, _intermediate);
        return SmallRowsLinear.GroupedApply(act, rows, down, SmallRowsLinear.Threads); // [rows, hidden]
    }

    /// <summary>
    /// Replaces the placement: slot s now holds expert <paramref name="phy2Log"/>[s]. Only the slots whose expert changes
    /// are written, in place, from a slot that holds the expert today (the same rank when possible), so the pause grows
    /// with the experts moved, not with the layer. Call between steps.
    /// </summary>
    public void ApplyPlacement(int[] phy2Log)
    {
        ValidatePlacement(phy2Log);
        var holders = new Dictionary<int, List<int>>();
        for (var s = 0; s < NumSlots; s++)
        {
            if (!holders.TryGetValue(_phy2Log[s], out var list))
            {
                holders[_phy2Log[s]] = list = [];
            }

            list.Add(s);
        }

        var changed = Enumerable.Range(0, NumSlots).Where(s => phy2Log[s] != _phy2Log[s]).ToArray();
        var changing = changed.ToHashSet();
        using var scope = NewDisposeScope();
        var writes = new List<(int Slot, Tensor GateUp, Tensor Down)>(changed.Length);
        foreach (var slot in changed)
        {
            var rank = slot / _slotsPerRank;
            var candidates = holders[phy2Log[slot]];
            var stable = candidates.Where(s => !changing.Contains(s)).ToList();
            var pool = stable.Count > 0 ? stable : candidates;
            var source = pool.FirstOrDefault(s => s / _slotsPerRank == rank, pool[0]);
            var (sr, sj) = (source / _slotsPerRank, source % _slotsPerRank);
            var (gateUp, down) = (_gateUpSlots[sr][sj], _downSlots[sr][sj]);
            if (!Equals(_rankDevices[sr], _rankDevices[rank]))
            {
                (gateUp, down) = (gateUp.to(_rankDevices[rank]), down.to(_rankDevices[rank]));
            }
            else if (changing.Contains(source))
            {
                // The source slot is overwritten by this same move: read it before any write.
                (gateUp, down) = (gateUp.clone(), down.clone());
            }

            writes.Add((slot, gateUp, down));
        }

        foreach (var (slot, gateUp, down) in writes)
        {
            var (r, j) = (slot / _slotsPerRank, slot % _slotsPerRank);
            _gateUpSlots[r][j].copy_(gateUp);
            _downSlots[r][j].copy_(down);
        }

        _phy2Log = (int[])phy2Log.Clone();
        BuildRoutingTables();
    }

    private void ValidatePlacement(int[] phy2Log)
    {
        if (phy2Log.Length != NumSlots)
        {
            throw new ArgumentException($"phy2log has {phy2Log.Length} slots; this layer has {NumSlots}", nameof(phy2Log));
        }

        var seen = new bool[NumExperts];
        foreach (var e in phy2Log)
        {
            if (e < 0 || e >= NumExperts)
            {
                throw new ArgumentException($"phy2log names expert {e}; experts are 0..{NumExperts - 1}", nameof(phy2Log));
            }

            seen[e] = true;
        }

        var missing = Array.IndexOf(seen, false);
        if (missing >= 0)
        {
            throw new ArgumentException($"phy2log places no replica of expert {missing}", nameof(phy2Log));
        }
    }

    private (Tensor[][] GateUp, Tensor[][] Down) SlotViews(Tensor[] gateUp, Tensor[] down)
    {
        var g = new Tensor[Ranks][];
        var d = new Tensor[Ranks][];
        for (var r = 0; r < Ranks; r++)
        {
            g[r] = Enumerable.Range(0, _slotsPerRank).Select(j => gateUp[r][j].DetachFromDisposeScope()).ToArray();
            d[r] = Enumerable.Range(0, _slotsPerRank).Select(j => down[r][j].DetachFromDisposeScope()).ToArray();
        }

        return (g, d);
    }

    private void BuildRoutingTables()
    {
        _log2PhyFlat?.Dispose();
        _replicaCounts?.Dispose();
        var identity = NumSlots == NumExperts && _phy2Log.Select((e, s) => e == s).All(x => x);
        if (identity)
        {
            _log2PhyFlat = null;
            _replicaCounts = null;
            return;
        }

        var replicas = new List<int>[NumExperts];
        for (var e = 0; e < NumExperts; e++)
        {
            replicas[e] = [];
        }

        for (var s = 0; s < NumSlots; s++)
        {
            replicas[_phy2Log[s]].Add(s);
        }

        _maxReplicas = replicas.Max(l => l.Count);
        var table = new long[NumExperts * _maxReplicas];
        for (var e = 0; e < NumExperts; e++)
        {
            for (var r = 0; r < _maxReplicas; r++)
            {
                table[(e * _maxReplicas) + r] = replicas[e][r % replicas[e].Count];
            }
        }

        _log2PhyFlat = tensor(table, dtype: ScalarType.Int64, device: _main).DetachFromDisposeScope();
        _replicaCounts = tensor(replicas.Select(l => (long)l.Count).ToArray(), dtype: ScalarType.Int64, device: _main).DetachFromDisposeScope();
    }

    private void DisposeWeights()
    {
        for (var r = 0; r < Ranks; r++)
        {
            foreach (var view in _gateUpSlots[r].Concat(_downSlots[r]))
            {
                view.Dispose();
            }

            _gateUp[r].Dispose();
            _down[r].Dispose();
        }
    }

    public void Dispose()
    {
        DisposeWeights();
        _log2PhyFlat?.Dispose();
        _replicaCounts?.Dispose();
    }
}
