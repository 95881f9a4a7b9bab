using MoeDapr.Engine.Checkpoint;
using MoeDapr.Model;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Modeling;

/// <summary>
/// Placement of one MoE layer's routed experts over expert-parallel ranks: physical slot s lives on rank
/// s / slotsPerRank, holds logical expert phy2log[s] and its weights; an expert may have several replicas, which
/// share its tokens. A rank holds only its own slots' weights. A new plan rewrites only the slots that change.
/// </summary>
internal sealed class ExpertSlots : IDisposable
{
    private readonly Tensor[] _gateUp; // per rank [slots_per_rank, 2I, hidden]
    private readonly Tensor[] _down; // per rank [slots_per_rank, hidden, I]
    private readonly Tensor[][] _gateUpSlots; // per rank, per local slot: [2I, hidden] views
    private readonly Tensor[][] _downSlots; // per rank, per local slot: [hidden, I] views
    private int[] _phy2Log;
    private Tensor? _log2PhyFlat; // [experts * max_replicas] physical slot of (expert, replica)
    private Tensor? _replicaCounts; // [experts]
    private int _maxReplicas;

    public ExpertSlots(ModelConfig config, int layer, IWeightSource weights, ScalarType dtype, Device main, Device[] rankDevices, int[] phy2Log)
    {
        Main = main;
        RankDevices = rankDevices;
        NumExperts = config.NumExperts;
        NumSlots = phy2Log.Length;
        SlotsPerRank = NumSlots / rankDevices.Length;
        Intermediate = config.MoeIntermediateSize;
        Hidden = config.HiddenSize;
        Validate(phy2Log);
        _phy2Log = (int[])phy2Log.Clone();
        _gateUp = new Tensor[rankDevices.Length];
        _down = new Tensor[rankDevices.Length];
        for (var r = 0; r < rankDevices.Length; r++)
        {
            _gateUp[r] = empty([SlotsPerRank, 2 * Intermediate, Hidden], dtype: dtype, device: rankDevices[r]);
            _down[r] = empty([SlotsPerRank, Hidden, Intermediate], dtype: dtype, device: rankDevices[r]);
            for (var j = 0; j < SlotsPerRank; j++)
            {
                using var scope = NewDisposeScope();
                var (gate, up, down) = CheckpointSchema.ExpertWeights(config, layer, _phy2Log[(r * SlotsPerRank) + j]);
                using var g = weights.Load(new(gate, [Intermediate, Hidden]), dtype, rankDevices[r]);
                using var u = weights.Load(new(up, [Intermediate, Hidden]), dtype, rankDevices[r]);
                using var d = weights.Load(new(down, [Hidden, Intermediate]), dtype, rankDevices[r]);
                using var slot = _gateUp[r][j];
                slot.narrow(0, 0, Intermediate).copy_(g);
                slot.narrow(0, Intermediate, Intermediate).copy_(u);
                using var downSlot = _down[r][j];
                downSlot.copy_(d);
            }
        }

        _gateUpSlots = SlotViews(_gateUp);
        _downSlots = SlotViews(_down);
        BuildRoutingTables();
    }

    /// <summary>The device routing runs on and outputs are combined on.</summary>
    public Device Main { get; }

    /// <summary>Device of each EP rank.</summary>
    public Device[] RankDevices { get; }

    public int Ranks => RankDevices.Length;

    public int NumExperts { get; }

    public int NumSlots { get; }

    public int SlotsPerRank { get; }

    /// <summary>Intermediate size of one expert (I).</summary>
    public long Intermediate { get; }

    public long Hidden { get; }

    /// <summary>Current placement: logical expert of each physical slot.</summary>
    public int[] Phy2Log => (int[])_phy2Log.Clone();

    /// <summary>Logical expert held by physical slot <paramref name="slot"/>.</summary>
    public int ExpertOf(int slot) => _phy2Log[slot];

    /// <summary>Fused gate/up weight [2I, hidden] of local slot <paramref name="j"/> on rank <paramref name="r"/>.</summary>
    public Tensor GateUp(int r, int j) => _gateUpSlots[r][j];

    /// <summary>Down weight [hidden, I] of local slot <paramref name="j"/> on rank <paramref name="r"/>.</summary>
    public Tensor Down(int r, int j) => _downSlots[r][j];

    /// <summary>
    /// experts: [A] logical expert of each assignment; assignment: [A] its index 0..A-1 → [A] the physical slot that
    /// computes it. Replica r of expert e takes assignment a when a % replicas(e) == r: replicas share the load.
    /// </summary>
    public Tensor SlotsOf(Tensor experts, Tensor assignment)
    {
        if (_log2PhyFlat is null)
        {
            return experts;
        }

        var replica = assignment.remainder(_replicaCounts!.index_select(0, experts));
        return _log2PhyFlat.index_select(0, (experts * _maxReplicas) + replica);
    }

    /// <summary>
    /// Replaces the placement: slot s now holds expert <paramref name="phy2Log"/>[s]. Only the slots whose expert changes
    /// are written, in place, from a slot that holds the expert today (the same rank when possible), so the pause grows
    /// with the experts moved, not with the layer. Call between steps.
    /// </summary>
    public void Apply(int[] phy2Log)
    {
        Validate(phy2Log);
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
            var rank = slot / SlotsPerRank;
            var candidates = holders[phy2Log[slot]];
            var stable = candidates.Where(s => !changing.Contains(s)).ToList();
            var pool = stable.Count > 0 ? stable : candidates;
            var source = pool.FirstOrDefault(s => s / SlotsPerRank == rank, pool[0]);
            var (sr, sj) = (source / SlotsPerRank, source % SlotsPerRank);
            var (gateUp, down) = (_gateUpSlots[sr][sj], _downSlots[sr][sj]);
            if (!Equals(RankDevices[sr], RankDevices[rank]))
            {
                (gateUp, down) = (gateUp.to(RankDevices[rank]), down.to(RankDevices[rank]));
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
            var (r, j) = (slot / SlotsPerRank, slot % SlotsPerRank);
            _gateUpSlots[r][j].copy_(gateUp);
            _downSlots[r][j].copy_(down);
        }

        _phy2Log = (int[])phy2Log.Clone();
        BuildRoutingTables();
    }

    private void Validate(int[] phy2Log)
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

    private Tensor[][] SlotViews(Tensor[] perRank) =>
        perRank.Select(stacked => Enumerable.Range(0, SlotsPerRank).Select(j => stacked[j].DetachFromDisposeScope()).ToArray()).ToArray();

    /// <summary>Routing tables for a placement with replicas or moved experts; none for the identity placement.</summary>
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

        _log2PhyFlat = tensor(table, dtype: ScalarType.Int64, device: Main).DetachFromDisposeScope();
        _replicaCounts = tensor(replicas.Select(l => (long)l.Count).ToArray(), dtype: ScalarType.Int64, device: Main).DetachFromDisposeScope();
    }

    public void Dispose()
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

        _log2PhyFlat?.Dispose();
        _replicaCounts?.Dispose();
    }
}
