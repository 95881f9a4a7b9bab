using MoeDapr.Engine.Checkpoint;
using MoeDapr.Engine.Kv;
using MoeDapr.Engine.Modeling;
using MoeDapr.Engine.Scheduling;
using MoeDapr.Model;
using TorchSharp;

namespace MoeDapr.Engine;

/// <summary>
/// Builds an engine core from settings and weights: devices and dtype, the expert-parallel ranks, the model, the paged
/// KV cache sized from the settings. Runs on the engine thread (TorchSharp's thread settings and scopes are per thread).
/// </summary>
internal static class EngineBuilder
{
    public static EngineCore Build(EngineOptions options, ModelConfig config, IWeightSource weights, ITextTokenizer? tokenizer, TimeProvider time)
    {
        if (options.Threads > 0)
        {
            torch.set_num_threads(options.Threads);
        }

        var device = options.ResolveDevice();
        var dtype = options.ResolveDtype(device);
        var ranks = options.ExpertParallelDevices.Count > 0
            ? options.ExpertParallelDevices.Select(d => torch.device(d)).ToArray()
            : Enumerable.Repeat(device, options.ExpertParallelSize).ToArray();
        var slots = config.NumExperts + options.RedundantExperts;
        if (slots % ranks.Length != 0)
        {
            throw new ArgumentException(
                $"EngineOptions.ExpertParallelSize: the {config.NumExperts} experts plus {options.RedundantExperts} redundant slots must split evenly over {ranks.Length} ranks",
                nameof(EngineOptions.ExpertParallelSize));
        }

        var model = new MoeTransformer(config, weights, new ModelPlacement
        {
            Device = device,
            Dtype = dtype,
            RankDevices = ranks,
            ExpertSlots = slots,
            MaxPositions = PromptRules.For(config, options.MaxSequenceLength).ContextLength,
            KernelThreads = torch.get_num_threads(),
        });
        var blocks = options.NumBlocks > 0 ? options.NumBlocks : PagedKvCache.BlocksForBytes(config, options.BlockSize, dtype, options.KvCacheBytes);
        var cache = new PagedKvCache(config, blocks, options.BlockSize, dtype, device);
        return new EngineCore(new ModelRunner(model, cache, options.MaxPrefillTokens), options, tokenizer, time);
    }
}
