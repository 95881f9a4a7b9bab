using MoeDapr.Engine.Kv;
using MoeDapr.Engine.Modeling;
using MoeDapr.Engine.Sampling;
using MoeDapr.Model;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Scheduling;

/// <summary>
/// The single-threaded heart of the engine: waiting and running sequences, block allocation with prefix
/// reuse and recompute preemption, and one <see cref="Step"/> at a time (a prefill step of prompt chunks or
/// a decode step of one token per sequence). Everything here runs on the engine thread.
/// </summary>
internal sealed class EngineCore : IDisposable
{
    private readonly MoeTransformer _model;
    private readonly PagedKvCache _cache;
    private readonly BlockPool _pool;
    private readonly EngineOptions _options;
    private readonly ITextTokenizer? _tokenizer;
    private readonly TimeProvider _time;
    private readonly LinkedList<Sequence> _waiting = new();
    private readonly List<Sequence> _running = [];
    private readonly Dictionary<long, HeldKv> _handles = [];
    private readonly HashSet<int> _eos;
    private readonly int _maxSequenceLength;
    private readonly Queue<(long Ticks, long Tokens)> _throughput = new();
    private long _nextHandle = 1;
    private bool _lastStepWasPrefill;

    public EngineCore(MoeTransformer model, PagedKvCache cache, EngineOptions options, ITextTokenizer? tokenizer, TimeProvider time)
    {
        _model = model;
        _cache = cache;
        _pool = new BlockPool(cache.NumBlocks);
        _options = options;
        _tokenizer = tokenizer;
        _time = time;
        _eos = [.. model.Config.EosTokenIds, .. tokenizer?.EosTokenIds ?? []];
        _maxSequenceLength = model.Placement.MaxPositions;
    }

    public MoeTransformer Model => _model;

    public BlockPool Pool => _pool;

    public PagedKvCache Cache => _cache;

    public bool HasWork => _waiting.Count > 0 || _running.Count > 0;

    public long PromptTokens { get; private set; }

    public long GeneratedTokens { get; private set; }

    public long Steps { get; private set; }

    public int MaxSequenceLength => _maxSequenceLength;

    public void Add(Sequence sequence)
    {
        if (sequence.Tokens.Count >= _maxSequenceLength)
        {
            throw new ArgumentException($"the prompt has {sequence.Tokens.Count} tokens; the engine allows at most {_maxSequenceLength - 1}");
        }

        _waiting.AddLast(sequence);
    }

    /// <summary>Adds a sequence whose first <paramref name="held"/>.Tokens tokens already have KV under a handle.</summary>
    public void AddWithKv(Sequence sequence, KvHandle handle)
    {
        if (!_handles.Remove(handle.Id, out var held))
        {
            throw new ArgumentException($"KV handle {handle.Id} is unknown, expired or already used", nameof(handle));
        }

        if (held.Tokens.Length > sequence.Tokens.Count || !held.Tokens.SequenceEqual(sequence.Tokens.Take(held.Tokens.Length)))
        {
            _pool.ReleaseAll(held.Blocks);
            throw new ArgumentException("the KV handle was made for a different prompt", nameof(handle));
        }

        sequence.Blocks.AddRange(held.Blocks);
        sequence.Hashes.AddRange(held.Hashes);
        sequence.Computed = held.Tokens.Length;
        _waiting.AddLast(sequence);
    }

    /// <summary>Aborts a waiting or running sequence at once; its blocks go back to the pool.</summary>
    public bool Abort(string requestId)
    {
        var sequence = _running.Find(s => s.RequestId == requestId) ?? _waiting.FirstOrDefault(s => s.RequestId == requestId);
        if (sequence is null)
        {
            return false;
        }

        _running.Remove(sequence);
        _waiting.Remove(sequence);
        FreeBlocks(sequence);
        sequence.Sink.OnToken(sequence, new TokenOutput(-1, 0, [], FinishReason.Abort));
        return true;
    }

    /// <summary>Fails every waiting and running sequence with <paramref name="error"/> and frees their blocks.</summary>
    public void FailAll(Exception error)
    {
        foreach (var s in _running.Concat(_waiting).ToArray())
        {
            FreeBlocks(s);
            s.Sink.OnFailed(s, error);
        }

        _running.Clear();
        _waiting.Clear();
    }

    /// <summary>Aborts everything (shutdown).</summary>
    public void AbortAll()
    {
        foreach (var id in _running.Concat(_waiting).Select(s => s.RequestId).ToArray())
        {
            Abort(id);
        }
    }

    public EngineStats Stats() => new()
    {
        Running = _running.Count,
        Waiting = _waiting.Count,
        KvBlocksUsed = _pool.Used,
        KvBlocksTotal = _pool.Total,
        KvHandles = _handles.Count,
        PrefixCacheQueries = _pool.PrefixQueries,
        PrefixCacheHits = _pool.PrefixHits,
        PromptTokens = PromptTokens,
        GeneratedTokens = GeneratedTokens,
        Steps = Steps,
        TokensPerSecond = Throughput(),
        LiveTensors = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount,
    };

    /// <summary>Runs one step if there is work; returns whether it did.</summary>
    public bool Step()
    {
        Admit();
        if (_running.Count == 0)
        {
            return false;
        }

        var prefills = _running.Where(s => s.Remaining > 1).ToList();
        var decodes = _running.Where(s => s.Remaining == 1).ToList();
        var doPrefill = prefills.Count > 0 && (decodes.Count == 0 || !_lastStepWasPrefill);
        _lastStepWasPrefill = doPrefill;
        var batch = new List<(Sequence Sequence, int Count)>();
        if (doPrefill)
        {
            var budget = _options.MaxPrefillTokens;
            foreach (var s in prefills)
            {
                var n = Math.Min(s.Remaining, budget);
                if (n == 0)
                {
                    break;
                }

                batch.Add((s, n));
                budget -= n;
            }
        }
        else
        {
            batch.AddRange(decodes.Select(s => (s, 1)));
        }

        batch = ReserveBlocks(batch);
        if (batch.Count == 0)
        {
            return true;
        }

        try
        {
            Run(batch);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            foreach (var (s, _) in batch)
            {
                _running.Remove(s);
                FreeBlocks(s);
                s.Sink.OnFailed(s, e);
            }
        }

        return true;
    }

    private void Run(List<(Sequence Sequence, int Count)> batch)
    {
        var forward = new ForwardBatch
        {
            Tokens = batch.SelectMany(x => x.Sequence.Tokens.Skip(x.Sequence.Computed).Take(x.Count)).ToArray(),
            QueryLengths = batch.Select(x => x.Count).ToArray(),
            StartPositions = batch.Select(x => x.Sequence.Computed).ToArray(),
            BlockTables = batch.Select(x => (IReadOnlyList<int>)x.Sequence.Blocks).ToArray(),
        };
        float[] logits;
        float[] logSumExp;
        using (NewDisposeScope())
        {
            var output = _model.Forward(forward, _cache); // [B, vocab] fp32
            logSumExp = output.logsumexp(-1).cpu().data<float>().ToArray(); // [B], saves a pass over the vocabulary per sequence on the host
            logits = output.cpu().data<float>().ToArray(); // [B * vocab]
        }

        Steps++;
        var vocab = _model.Config.VocabSize;
        long computed = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var (s, n) = batch[i];
            PromptTokens += Math.Max(0, Math.Min(s.Computed + n, s.PromptLength) - s.Computed);
            s.Computed += n;
            computed += n;
            RegisterFullBlocks(s);
            if (s.Remaining == 0)
            {
                SampleNext(s, new ReadOnlySpan<float>(logits, i * vocab, vocab), logSumExp[i]);
            }
        }

        RecordThroughput(computed);
    }

    private void SampleNext(Sequence s, ReadOnlySpan<float> row, float logSumExp)
    {
        var sampled = Sampler.Sample(row, s.Sampling, s.Output, s.Seed, logSumExp);
        s.Output.Add(sampled.TokenId);
        s.Tokens.Add(sampled.TokenId);
        GeneratedTokens++;
        var finish = FinishOf(s, sampled.TokenId);
        var output = new TokenOutput(sampled.TokenId, sampled.Logprob, sampled.TopLogprobs, finish);
        if (s.PrefillOnly)
        {
            _running.Remove(s);
            KvHandle? handle = null;
            if (finish is null)
            {
                var id = _nextHandle++;
                var held = new HeldKv(s.Tokens.Take(s.PromptLength).ToArray(), [.. s.Blocks], [.. s.Hashes], _time.GetUtcNow() + _options.KvHandleLease);
                _handles[id] = held;
                handle = new KvHandle(id, s.PromptLength);
            }
            else
            {
                FreeBlocks(s);
            }

            s.Sink.OnPrefilled(s, output, handle);
            return;
        }

        if (finish is not null)
        {
            _running.Remove(s);
            FreeBlocks(s);
        }

        s.Sink.OnToken(s, output);
    }

    private FinishReason? FinishOf(Sequence s, int token)
    {
        if ((!s.Sampling.IgnoreEos && _eos.Contains(token)) || s.Sampling.StopTokenIds.Contains(token))
        {
            return FinishReason.Stop;
        }

        if (s.Sampling.StopStrings.Count > 0 && _tokenizer is not null)
        {
            // Only the tail can complete a new match: decode enough tokens to cover the longest stop string.
            var window = Math.Min(s.Output.Count, s.Sampling.StopStrings.Max(x => x.Length) + 8);
            var text = _tokenizer.Decode(s.Output.Skip(s.Output.Count - window));
            if (s.Sampling.StopStrings.Any(stop => text.Contains(stop, StringComparison.Ordinal)))
            {
                return FinishReason.Stop;
            }
        }

        return s.Output.Count >= s.Sampling.MaxTokens || s.Tokens.Count >= _maxSequenceLength ? FinishReason.Length : null;
    }

    /// <summary>
    /// Moves waiting sequences into the running set while there are batch slots and blocks for their prompts; returns
    /// whether any moved. <see cref="Step"/> admits too; calling it first lets the caller publish who runs before the
    /// step emits their tokens.
    /// </summary>
    public bool Admit()
    {
        var admitted = false;
        while (_waiting.First is { } node && _running.Count < _options.MaxBatchSize)
        {
            var s = node.Value;
            var needed = BlocksFor(s.Tokens.Count) - s.Blocks.Count;
            if (needed > _pool.Available)
            {
                break;
            }

            _waiting.RemoveFirst();
            if (s.Computed == 0)
            {
                ReusePrefix(s);
            }

            _running.Add(s);
            admitted = true;
        }

        return admitted;
    }

    /// <summary>Takes cached blocks for the longest cached prefix, leaving at least one token to compute.</summary>
    private void ReusePrefix(Sequence s)
    {
        var tokens = s.Tokens.ToArray();
        var hashes = PrefixBlockHash.Chain(tokens.AsSpan(0, tokens.Length - 1), _cache.BlockSize);
        foreach (var hash in hashes)
        {
            if (!_pool.TryReuse(hash, out var block))
            {
                break;
            }

            s.Blocks.Add(block);
            s.Hashes.Add(hash);
        }

        s.Computed = s.Blocks.Count * _cache.BlockSize;
        s.CachedTokens = s.Computed;
    }

    /// <summary>Allocates the blocks each batch entry needs, preempting the newest other sequences when the pool is empty.</summary>
    private List<(Sequence Sequence, int Count)> ReserveBlocks(List<(Sequence Sequence, int Count)> batch)
    {
        var kept = new List<(Sequence Sequence, int Count)>();
        foreach (var entry in batch)
        {
            var s = entry.Sequence;
            if (!_running.Contains(s))
            {
                continue; // preempted for an earlier entry
            }

            var needed = BlocksFor(s.Computed + entry.Count) - s.Blocks.Count;
            while (needed > _pool.Available)
            {
                var victim = _running.LastOrDefault(r => r != s && !kept.Any(k => k.Sequence == r)) ?? _running.LastOrDefault(r => r != s);
                if (victim is null)
                {
                    break;
                }

                Preempt(victim);
                kept.RemoveAll(k => k.Sequence == victim);
            }

            if (needed > _pool.Available)
            {
                _running.Remove(s);
                FreeBlocks(s);
                s.Sink.OnFailed(s, new InvalidOperationException($"the KV pool ({_pool.Total} blocks) cannot hold request {s.RequestId}"));
                continue;
            }

            for (var i = 0; i < needed; i++)
            {
                s.Blocks.Add(_pool.Allocate());
            }

            kept.Add(entry);
        }

        return kept;
    }

    /// <summary>Recompute preemption: the sequence gives back its blocks and waits at the front to be prefilled again.</summary>
    private void Preempt(Sequence s)
    {
        _running.Remove(s);
        FreeBlocks(s);
        s.Computed = 0;
        _waiting.AddFirst(s);
    }

    private void RegisterFullBlocks(Sequence s)
    {
        var full = s.Computed / _cache.BlockSize;
        while (s.Hashes.Count < full)
        {
            var b = s.Hashes.Count;
            var parent = b == 0 ? PrefixBlockHash.Root : s.Hashes[b - 1];
            var hash = PrefixBlockHash.Compute(parent, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(s.Tokens).Slice(b * _cache.BlockSize, _cache.BlockSize));
            s.Hashes.Add(hash);
            _pool.Register(s.Blocks[b], hash);
        }
    }

    private void FreeBlocks(Sequence s)
    {
        _pool.ReleaseAll(s.Blocks);
        s.Blocks.Clear();
        s.Hashes.Clear();
    }

    private int BlocksFor(int tokens) => (tokens + _cache.BlockSize - 1) / _cache.BlockSize;

    /// <summary>Next-token logits after <paramref name="tokens"/>, computed in scratch blocks (prompt chunks as in prefill).</summary>
    public float[] Logits(IReadOnlyList<int> tokens)
    {
        var count = BlocksFor(tokens.Count);
        if (count > _pool.Available)
        {
            throw new EngineOverloadedException($"no room for {count} KV blocks ({_pool.Available} available)");
        }

        var blocks = Enumerable.Range(0, count).Select(_ => _pool.Allocate()).ToList();
        try
        {
            float[] logits = [];
            for (var start = 0; start < tokens.Count; start += _options.MaxPrefillTokens)
            {
                var n = Math.Min(_options.MaxPrefillTokens, tokens.Count - start);
                var batch = new ForwardBatch
                {
                    Tokens = tokens.Skip(start).Take(n).ToArray(),
                    QueryLengths = [n],
                    StartPositions = [start],
                    BlockTables = [blocks],
                };
                using var scope = NewDisposeScope();
                logits = _model.Forward(batch, _cache).cpu().data<float>().ToArray();
            }

            return logits;
        }
        finally
        {
            _pool.ReleaseAll(blocks);
        }
    }

    /// <summary>Writes a handle's KV (header + blocks) to native memory; returns the bytes written.</summary>
    public long ExportKv(KvHandle handle, IntPtr destination, long length)
    {
        if (!_handles.TryGetValue(handle.Id, out var held))
        {
            throw new ArgumentException($"KV handle {handle.Id} is unknown, expired or released", nameof(handle));
        }

        return _cache.Export(held.Blocks, held.Tokens.Length, destination, length);
    }

    /// <summary>The payload header of a <paramref name="tokens"/>-token export; depends on the configuration only (any thread).</summary>
    public Contracts.KvTransfer.KvPayloadHeader KvHeaderFor(int tokens) => _cache.HeaderFor(tokens);

    /// <summary>Bytes an export of <paramref name="handle"/> needs.</summary>
    public long ExportSize(KvHandle handle) =>
        _handles.TryGetValue(handle.Id, out var held)
            ? KvHeaderFor(held.Tokens.Length).PayloadBytes
            : throw new ArgumentException($"KV handle {handle.Id} is unknown, expired or released", nameof(handle));

    /// <summary>Copies a KV payload for <paramref name="tokens"/> into fresh blocks and returns a handle to them.</summary>
    public KvHandle ImportKv(IntPtr source, long length, IReadOnlyList<int> tokens)
    {
        var header = _cache.ReadHeader(source, length);
        if (header.Tokens != tokens.Count)
        {
            throw new ArgumentException($"the KV payload holds {header.Tokens} tokens; the prompt has {tokens.Count}", nameof(tokens));
        }

        if (header.Blocks > _pool.Available)
        {
            throw new EngineOverloadedException($"no room for {header.Blocks} KV blocks ({_pool.Available} available)");
        }

        var blocks = Enumerable.Range(0, header.Blocks).Select(_ => _pool.Allocate()).ToList();
        try
        {
            _cache.Import(source, length, blocks);
        }
        catch
        {
            _pool.ReleaseAll(blocks);
            throw;
        }

        var tokenArray = tokens.ToArray();
        var hashes = PrefixBlockHash.Chain(tokenArray, _cache.BlockSize);
        for (var b = 0; b < hashes.Length; b++)
        {
            _pool.Register(blocks[b], hashes[b]);
        }

        var id = _nextHandle++;
        _handles[id] = new HeldKv(tokenArray, blocks, [.. hashes], _time.GetUtcNow() + _options.KvHandleLease);
        return new KvHandle(id, tokens.Count);
    }

    public bool Release(KvHandle handle)
    {
        if (!_handles.Remove(handle.Id, out var held))
        {
            return false;
        }

        _pool.ReleaseAll(held.Blocks);
        return true;
    }

    /// <summary>Frees handles whose lease ran out (nobody exported or used them).</summary>
    public void ExpireHandles()
    {
        var now = _time.GetUtcNow();
        foreach (var (id, held) in _handles.Where(h => h.Value.Expires <= now).ToArray())
        {
            _handles.Remove(id);
            _pool.ReleaseAll(held.Blocks);
        }
    }

    private void RecordThroughput(long tokens)
    {
        var now = _time.GetTimestamp();
        _throughput.Enqueue((now, tokens));
        while (_throughput.Count > 0 && _time.GetElapsedTime(_throughput.Peek().Ticks, now) > TimeSpan.FromSeconds(5))
        {
            _throughput.Dequeue();
        }
    }

    private double Throughput()
    {
        if (_throughput.Count < 2)
        {
            return 0;
        }

        var seconds = _time.GetElapsedTime(_throughput.Peek().Ticks, _time.GetTimestamp()).TotalSeconds;
        return seconds <= 0 ? 0 : _throughput.Skip(1).Sum(x => x.Tokens) / seconds;
    }

    public void Dispose()
    {
        AbortAll();
        foreach (var handle in _handles.Keys.ToArray())
        {
            Release(new KvHandle(handle, 0));
        }
    }

    private sealed record HeldKv(int[] Tokens, List<int> Blocks, List<UInt128> Hashes, DateTimeOffset Expires);
}
