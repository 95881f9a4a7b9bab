using MoeDapr.Contracts.KvTransfer;
using MoeDapr.Engine.Kv;
using MoeDapr.Engine.Modeling;
using MoeDapr.Engine.Sampling;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Scheduling;

/// <summary>
/// Runs plans on the model: the only part of the engine core that touches tensors. <see cref="Execute"/> computes a
/// step's chunks into the paged KV cache, brings the next-token logits to the host and samples where a chunk ends its
/// sequence; KV export and import copy blocks between the cache and native memory. Engine thread only.
/// </summary>
internal sealed class ModelRunner(MoeTransformer model, PagedKvCache cache, int maxPrefillTokens) : IDisposable
{
    public MoeTransformer Model => model;

    public PagedKvCache Cache => cache;

    /// <summary>Native tensors alive that the engine thread created (TorchSharp's per-thread statistics).</summary>
    public static long LiveTensors => TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    /// <summary>Computes <paramref name="plan"/>'s chunks and samples the token after each chunk that reaches its sequence's end.</summary>
    public StepOutputs Execute(StepPlan plan)
    {
        var chunks = plan.Chunks;
        var forward = new ForwardBatch
        {
            Tokens = ChunkTokens(chunks),
            QueryLengths = chunks.Select(c => c.Count).ToArray(),
            StartPositions = chunks.Select(c => c.Start).ToArray(),
            BlockTables = chunks.Select(c => c.Blocks).ToArray(),
        };
        float[] logits;
        float[] logSumExp;
        using (NewDisposeScope())
        {
            var output = model.Forward(forward, cache); // [B, vocab] fp32
            logSumExp = output.logsumexp(-1).cpu().data<float>().ToArray(); // [B], saves a pass over the vocabulary per sequence on the host
            logits = output.cpu().data<float>().ToArray(); // [B * vocab]
        }

        var vocab = model.Config.VocabSize;
        var samples = new SampledToken?[chunks.Count];
        for (var i = 0; i < chunks.Count; i++)
        {
            var s = chunks[i].Sequence;
            if (chunks[i].SamplesNext)
            {
                samples[i] = Sampler.Sample(new ReadOnlySpan<float>(logits, i * vocab, vocab), s.Sampling, s.Output, s.Seed, logSumExp[i]);
            }
        }

        return new StepOutputs(samples);
    }

    /// <summary>The chunks' tokens back to back, copied straight from each sequence (no per-chunk list on every step).</summary>
    private static int[] ChunkTokens(IReadOnlyList<ScheduledChunk> chunks)
    {
        var total = 0;
        foreach (var c in chunks)
        {
            total += c.Count;
        }

        var tokens = new int[total];
        var at = 0;
        foreach (var c in chunks)
        {
            System.Runtime.InteropServices.CollectionsMarshal.AsSpan(c.Sequence.Tokens).Slice(c.Start, c.Count).CopyTo(tokens.AsSpan(at));
            at += c.Count;
        }

        return tokens;
    }

    /// <summary>Next-token logits after <paramref name="tokens"/>, computed into <paramref name="blocks"/> in prefill-sized chunks.</summary>
    public float[] Logits(IReadOnlyList<int> tokens, IReadOnlyList<int> blocks)
    {
        float[] logits = [];
        for (var start = 0; start < tokens.Count; start += maxPrefillTokens)
        {
            var n = Math.Min(maxPrefillTokens, tokens.Count - start);
            var batch = new ForwardBatch
            {
                Tokens = tokens.Skip(start).Take(n).ToArray(),
                QueryLengths = [n],
                StartPositions = [start],
                BlockTables = [blocks],
            };
            using var scope = NewDisposeScope();
            logits = model.Forward(batch, cache).cpu().data<float>().ToArray();
        }

        return logits;
    }

    /// <summary>The payload header of a <paramref name="tokens"/>-token export; depends on the configuration only (any thread).</summary>
    public KvPayloadHeader HeaderFor(int tokens) => cache.HeaderFor(tokens);

    /// <summary>Writes the KV of <paramref name="tokens"/> tokens in <paramref name="blocks"/> (header, then blocks); returns bytes written.</summary>
    public long Export(IReadOnlyList<int> blocks, int tokens, IntPtr destination, long length) => cache.Export(blocks, tokens, destination, length);

    /// <summary>The header of a payload in native memory.</summary>
    public KvPayloadHeader ReadHeader(IntPtr source, long length) => cache.ReadHeader(source, length);

    /// <summary>Copies a payload's blocks into <paramref name="blocks"/> of the cache.</summary>
    public void Import(IntPtr source, long length, IReadOnlyList<int> blocks) => cache.Import(source, length, blocks);

    public void Dispose()
    {
        model.Dispose();
        cache.Dispose();
    }
}
