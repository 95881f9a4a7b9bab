using MoeDapr.Contracts;
using MoeDapr.Engine.Kv;
using MoeDapr.Engine.Sampling;

namespace MoeDapr.Engine.Scheduling;

/// <summary>
/// Waiting and running sequences, and the block bookkeeping under them: <see cref="Schedule"/> admits waiting
/// sequences, picks the step (policy), reserves the blocks it needs (preempting the newest sequences, which recompute,
/// when the pool runs dry) and returns the plan; <see cref="Apply"/> takes the sampled tokens, checks the stop rules
/// and finishes sequences. Plain bookkeeping, no tensors; engine thread only.
/// </summary>
internal sealed class Scheduler(
    BlockPool pool, int blockSize, SchedulerLimits limits, IStepPolicy policy, StopChecker stops, KvHandleTable handles, TimeProvider time)
{
    private readonly LinkedList<Sequence> _waiting = new();
    private readonly List<Sequence> _running = [];
    private readonly ThroughputWindow _throughput = new(time);
    private StepKind? _lastKind;

    public bool HasWork => _waiting.Count > 0 || _running.Count > 0;

    public IReadOnlyList<Sequence> Running => _running;

    public int Waiting => _waiting.Count;

    public long PromptTokens { get; private set; }

    public long GeneratedTokens { get; private set; }

    public long Steps { get; private set; }

    /// <summary>Queues a sequence to prefill from its first uncached token.</summary>
    public void Add(Sequence sequence)
    {
        if (sequence.Tokens.Count >= limits.MaxSequenceLength)
        {
            throw new ArgumentException($"the prompt has {sequence.Tokens.Count} tokens; the engine allows at most {limits.MaxSequenceLength - 1}");
        }

        _waiting.AddLast(sequence);
    }

    /// <summary>Queues a sequence whose first tokens already have KV under <paramref name="handle"/> (the handle is used up).</summary>
    public void AddWithKv(Sequence sequence, EngineKvHandle handle)
    {
        var held = handles.Take(handle);
        if (held.Tokens.Length > sequence.Tokens.Count || !held.Tokens.SequenceEqual(sequence.Tokens.Take(held.Tokens.Length)))
        {
            pool.ReleaseAll(held.Blocks);
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
        SequenceBlocks.Free(pool, sequence);
        sequence.Sink.OnToken(sequence, new TokenOutput(-1, 0, [], FinishReason.Abort));
        return true;
    }

    /// <summary>Aborts everything (shutdown).</summary>
    public void AbortAll()
    {
        foreach (var id in _running.Concat(_waiting).Select(s => s.RequestId).ToArray())
        {
            Abort(id);
        }
    }

    /// <summary>Fails every waiting and running sequence with <paramref name="error"/> and frees their blocks.</summary>
    public void FailAll(Exception error)
    {
        foreach (var s in _running.Concat(_waiting).ToArray())
        {
            SequenceBlocks.Free(pool, s);
            s.Sink.OnFailed(s, error);
        }

        _running.Clear();
        _waiting.Clear();
    }

    /// <summary>Fails the sequences of a plan whose step could not run (the others keep going).</summary>
    public void Fail(StepPlan plan, Exception error)
    {
        foreach (var chunk in plan.Chunks)
        {
            _running.Remove(chunk.Sequence);
            SequenceBlocks.Free(pool, chunk.Sequence);
            chunk.Sequence.Sink.OnFailed(chunk.Sequence, error);
        }
    }

    /// <summary>
    /// Moves waiting sequences into the running set while there are batch slots and blocks for their prompts; returns
    /// whether any moved. <see cref="Schedule"/> admits too; calling it first lets the caller publish who runs before the
    /// step emits their tokens.
    /// </summary>
    public bool Admit()
    {
        var admitted = false;
        while (_waiting.First is { } node && _running.Count < limits.MaxBatchSize)
        {
            var s = node.Value;
            var needed = SequenceBlocks.For(blockSize, s.Tokens.Count) - s.Blocks.Count;
            if (needed > pool.Available)
            {
                break;
            }

            _waiting.RemoveFirst();
            if (s.Computed == 0)
            {
                SequenceBlocks.ReusePrefix(pool, blockSize, s);
            }

            _running.Add(s);
            admitted = true;
        }

        return admitted;
    }

    /// <summary>The next step, with its blocks reserved; null when nothing runs (no step is due).</summary>
    public StepPlan? Schedule()
    {
        Admit();
        if (_running.Count == 0)
        {
            return null;
        }

        // A sequence with one token left to compute is decoding; more, and it is (re)filling its prompt.
        var prefilling = _running.Where(s => s.Remaining > 1).ToList();
        var decoding = _running.Where(s => s.Remaining == 1).ToList();
        var kind = policy.Next(prefilling.Count, decoding.Count, _lastKind);
        kind = kind == StepKind.Prefill && prefilling.Count == 0 ? StepKind.Decode : kind;
        kind = kind == StepKind.Decode && decoding.Count == 0 ? StepKind.Prefill : kind;
        _lastKind = kind;
        var wanted = new List<(Sequence Sequence, int Count)>();
        if (kind == StepKind.Prefill)
        {
            var budget = limits.MaxPrefillTokens;
            foreach (var s in prefilling)
            {
                var n = Math.Min(s.Remaining, budget);
                if (n == 0)
                {
                    break;
                }

                wanted.Add((s, n));
                budget -= n;
            }
        }
        else
        {
            wanted.AddRange(decoding.Select(s => (s, 1)));
        }

        var preempted = new List<Sequence>();
        var chunks = Reserve(wanted, preempted);
        return new StepPlan(kind, chunks, preempted);
    }

    /// <summary>Takes the results of running <paramref name="plan"/>: computed tokens, sampled tokens, stops and finishes.</summary>
    public void Apply(StepPlan plan, StepOutputs outputs)
    {
        Steps++;
        long computed = 0;
        for (var i = 0; i < plan.Chunks.Count; i++)
        {
            var (s, start, n) = plan.Chunks[i];
            PromptTokens += Math.Max(0, Math.Min(start + n, s.PromptLength) - start);
            s.Computed = start + n;
            computed += n;
            SequenceBlocks.RegisterFull(pool, blockSize, s);
            if (s.Remaining == 0)
            {
                Append(s, outputs.Samples[i] ?? throw new InvalidOperationException($"the step sampled no token for request {s.RequestId}"));
            }
        }

        _throughput.Record(computed);
    }

    public EngineStats Stats() => new()
    {
        Running = _running.Count,
        Waiting = _waiting.Count,
        KvBlocksUsed = pool.Used,
        KvBlocksTotal = pool.Total,
        KvHandles = handles.Count,
        PrefixCacheQueries = pool.PrefixQueries,
        PrefixCacheHits = pool.PrefixHits,
        PromptTokens = PromptTokens,
        GeneratedTokens = GeneratedTokens,
        Steps = Steps,
        TokensPerSecond = _throughput.PerSecond(),
    };

    private void Append(Sequence s, SampledToken sampled)
    {
        s.Output.Add(sampled.TokenId);
        s.Tokens.Add(sampled.TokenId);
        GeneratedTokens++;
        var (finish, stopString) = stops.Check(s, sampled.TokenId);
        var wantsLogprobs = s.Sampling.Logprobs is not null;
        var output = new TokenOutput(sampled.TokenId, sampled.Logprob, sampled.TopLogprobs, finish)
        {
            Sample = new TokenSample
            {
                TokenId = sampled.TokenId,
                Logprob = wantsLogprobs ? sampled.Logprob : null,
                TopLogprobs = wantsLogprobs ? sampled.TopLogprobs : null,
            },
            StopString = stopString,
        };
        if (s.PrefillOnly)
        {
            _running.Remove(s);
            EngineKvHandle? handle = null;
            if (finish is null)
            {
                handle = handles.Hold(s.Tokens.Take(s.PromptLength).ToArray(), [.. s.Blocks], [.. s.Hashes]);
            }
            else
            {
                SequenceBlocks.Free(pool, s);
            }

            s.Sink.OnPrefilled(s, output, handle);
            return;
        }

        if (finish is not null)
        {
            _running.Remove(s);
            SequenceBlocks.Free(pool, s);
        }

        s.Sink.OnToken(s, output);
    }

    /// <summary>Allocates the blocks each wanted chunk needs, preempting the newest other sequences when the pool is empty.</summary>
    private List<ScheduledChunk> Reserve(List<(Sequence Sequence, int Count)> wanted, List<Sequence> preempted)
    {
        var kept = new List<ScheduledChunk>();
        foreach (var (s, count) in wanted)
        {
            if (!_running.Contains(s))
            {
                continue; // preempted for an earlier entry
            }

            var needed = SequenceBlocks.For(blockSize, s.Computed + count) - s.Blocks.Count;
            while (needed > pool.Available)
            {
                var victim = _running.LastOrDefault(r => r != s && !kept.Any(k => k.Sequence == r)) ?? _running.LastOrDefault(r => r != s);
                if (victim is null)
                {
                    break;
                }

                Preempt(victim);
                preempted.Add(victim);
                kept.RemoveAll(k => k.Sequence == victim);
            }

            if (needed > pool.Available)
            {
                _running.Remove(s);
                SequenceBlocks.Free(pool, s);
                s.Sink.OnFailed(s, new InvalidOperationException($"the KV pool ({pool.Total} blocks) cannot hold request {s.RequestId}"));
                continue;
            }

            for (var i = 0; i < needed; i++)
            {
                s.Blocks.Add(pool.Allocate());
            }

            kept.Add(new ScheduledChunk(s, s.Computed, count));
        }

        return kept;
    }

    /// <summary>Recompute preemption: the sequence gives back its blocks and waits at the front to be prefilled again.</summary>
    private void Preempt(Sequence s)
    {
        _running.Remove(s);
        SequenceBlocks.Free(pool, s);
        s.Computed = 0;
        _waiting.AddFirst(s);
    }
}
