using MoeDapr.Contracts.KvTransfer;
using MoeDapr.Engine.Kv;
using MoeDapr.Engine.Modeling;
using MoeDapr.Model;

namespace MoeDapr.Engine.Scheduling;

/// <summary>
/// The engine thread's core, in vLLM's shape: each <see cref="Step"/> asks the <see cref="Scheduler"/> for a plan,
/// has the <see cref="ModelRunner"/> execute it, and gives the outputs back to the scheduler; KV handed between
/// engines lives in the <see cref="KvHandleTable"/>. Everything here runs on the engine thread.
/// </summary>
internal sealed class EngineCore : IDisposable
{
    private readonly BlockPool _pool;
    private readonly KvHandleTable _handles;
    private readonly Scheduler _scheduler;
    private readonly ModelRunner _runner;
    private readonly int _blockSize;

    public EngineCore(ModelRunner runner, EngineOptions options, ITextTokenizer? tokenizer, TimeProvider time)
    {
        _runner = runner;
        _blockSize = runner.Cache.BlockSize;
        _pool = new BlockPool(runner.Cache.NumBlocks);
        _handles = new KvHandleTable(_pool, time, options.KvHandleLease);
        var maxLength = runner.Model.Placement.MaxPositions;
        var stops = new StopChecker([.. runner.Model.Config.EosTokenIds, .. tokenizer?.EosTokenIds ?? []], tokenizer, maxLength);
        var limits = new SchedulerLimits(options.MaxBatchSize, options.MaxPrefillTokens, maxLength);
        _scheduler = new Scheduler(_pool, _blockSize, limits, StepPolicies.Create(options.StepPolicy), stops, _handles, time);
    }

    public MoeTransformer Model => _runner.Model;

    public Scheduler Scheduler => _scheduler;

    public bool HasWork => _scheduler.HasWork;

    public void Add(Sequence sequence) => _scheduler.Add(sequence);

    /// <summary>Adds a sequence whose first <paramref name="handle"/>.Tokens tokens already have KV under a handle.</summary>
    public void AddWithKv(Sequence sequence, EngineKvHandle handle) => _scheduler.AddWithKv(sequence, handle);

    public bool Admit() => _scheduler.Admit();

    public bool Abort(string requestId) => _scheduler.Abort(requestId);

    public void FailAll(Exception error) => _scheduler.FailAll(error);

    public void AbortAll() => _scheduler.AbortAll();

    public EngineStats Stats() => _scheduler.Stats() with { LiveTensors = ModelRunner.LiveTensors };

    /// <summary>Per MoE layer: token counters since load and the current placement.</summary>
    public IReadOnlyList<ExpertLoad> ExpertLoads()
    {
        var loads = new List<ExpertLoad>();
        for (var l = 0; l < Model.Config.NumLayers; l++)
        {
            if (Model.Experts(l) is { } experts)
            {
                loads.Add(new ExpertLoad(l, experts.ExpertTokens, experts.RankTokens, experts.Phy2Log));
            }
        }

        return loads;
    }

    /// <summary>Runs one step if there is work; returns whether it did.</summary>
    public bool Step()
    {
        if (_scheduler.Schedule() is not { } plan)
        {
            return false;
        }

        if (plan.IsEmpty)
        {
            return true;
        }

        StepOutputs outputs;
        try
        {
            outputs = _runner.Execute(plan);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _scheduler.Fail(plan, e); // a forward pass that throws fails its batch only
            return true;
        }

        _scheduler.Apply(plan, outputs);
        return true;
    }

    /// <summary>Next-token logits after <paramref name="tokens"/>, computed in scratch blocks (prompt chunks as in prefill).</summary>
    public float[] Logits(IReadOnlyList<int> tokens)
    {
        var blocks = AllocateBlocks((tokens.Count + _blockSize - 1) / _blockSize);
        try
        {
            return _runner.Logits(tokens, blocks);
        }
        finally
        {
            _pool.ReleaseAll(blocks);
        }
    }

    /// <summary>Writes a handle's KV (header + blocks) to native memory; returns the bytes written.</summary>
    public long ExportKv(EngineKvHandle handle, IntPtr destination, long length)
    {
        var held = _handles.Get(handle);
        return _runner.Export(held.Blocks, held.Tokens.Length, destination, length);
    }

    /// <summary>The payload header of a <paramref name="tokens"/>-token export; depends on the configuration only (any thread).</summary>
    public KvPayloadHeader KvHeaderFor(int tokens) => _runner.HeaderFor(tokens);

    /// <summary>Bytes an export of <paramref name="handle"/> needs.</summary>
    public long ExportSize(EngineKvHandle handle) => KvHeaderFor(_handles.Get(handle).Tokens.Length).PayloadBytes;

    /// <summary>Copies a KV payload for <paramref name="tokens"/> into fresh blocks and returns a handle to them.</summary>
    public EngineKvHandle ImportKv(IntPtr source, long length, IReadOnlyList<int> tokens)
    {
        var header = _runner.ReadHeader(source, length);
        if (header.Tokens != tokens.Count)
        {
            throw new ArgumentException($"the KV payload holds {header.Tokens} tokens; the prompt has {tokens.Count}", nameof(tokens));
        }

        var blocks = AllocateBlocks(header.Blocks);
        try
        {
            _runner.Import(source, length, blocks);
        }
        catch
        {
            _pool.ReleaseAll(blocks);
            throw;
        }

        var tokenArray = tokens.ToArray();
        var hashes = PrefixBlockHash.Chain(tokenArray, _blockSize);
        for (var b = 0; b < hashes.Length; b++)
        {
            _pool.Register(blocks[b], hashes[b]);
        }

        return _handles.Hold(tokenArray, blocks, [.. hashes]);
    }

    public bool Release(EngineKvHandle handle) => _handles.Release(handle);

    /// <summary>Frees handles whose lease ran out (nobody exported or used them).</summary>
    public void ExpireHandles() => _handles.ReleaseExpired();

    public void Dispose()
    {
        AbortAll();
        _handles.ReleaseAll();
        _runner.Dispose();
    }

    private List<int> AllocateBlocks(int count)
    {
        if (count > _pool.Available)
        {
            throw new EngineOverloadedException($"no room for {count} KV blocks ({_pool.Available} available)");
        }

        return Enumerable.Range(0, count).Select(_ => _pool.Allocate()).ToList();
    }
}
