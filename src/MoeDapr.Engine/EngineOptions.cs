using TorchSharp;

namespace MoeDapr.Engine;

/// <summary>Settings of one engine instance; <see cref="Validate"/> names the setting at fault.</summary>
public sealed record EngineOptions
{
    /// <summary>"cpu", "cuda", "cuda:N" or "auto" (CUDA when available, else CPU).</summary>
    public string Device { get; init; } = "auto";

    /// <summary>"auto" (fp32 on CPU, bf16 on CUDA), "float32", "bfloat16" or "float16".</summary>
    public string Dtype { get; init; } = "auto";

    /// <summary>Tokens per KV block.</summary>
    public int BlockSize { get; init; } = 16;

    /// <summary>KV blocks in the pool; 0 sizes the pool from <see cref="KvCacheBytes"/>.</summary>
    public int NumBlocks { get; init; }

    /// <summary>Bytes for the KV pool when <see cref="NumBlocks"/> is 0.</summary>
    public long KvCacheBytes { get; init; } = 256L << 20;

    /// <summary>Longest sequence (prompt + output) the engine accepts; 0 means the model's maximum.</summary>
    public int MaxSequenceLength { get; init; }

    /// <summary>Most sequences decoded together in one step.</summary>
    public int MaxBatchSize { get; init; } = 32;

    /// <summary>Most prompt tokens computed in one prefill step (longer prompts go in chunks).</summary>
    public int MaxPrefillTokens { get; init; } = 512;

    /// <summary>How the scheduler picks between prefill and decode steps: one of <see cref="Scheduling.StepPolicies.Names"/>.</summary>
    public string StepPolicy { get; init; } = Scheduling.StepPolicies.Alternate;

    /// <summary>Bound of the queue in front of the engine thread; beyond it requests are refused at once.</summary>
    public int MaxQueuedRequests { get; init; } = 256;

    /// <summary>Expert-parallel ranks each MoE layer's experts are split over.</summary>
    public int ExpertParallelSize { get; init; } = 1;

    /// <summary>Device of each EP rank ("cpu", "cuda:1"); empty puts every rank on <see cref="Device"/>.</summary>
    public IReadOnlyList<string> ExpertParallelDevices { get; init; } = [];

    /// <summary>Extra physical expert slots per MoE layer for replicas of hot experts (spread over ranks).</summary>
    public int RedundantExperts { get; init; }

    /// <summary>How long an exported KV handle is kept when nobody releases it.</summary>
    public TimeSpan KvHandleLease { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Intra-op threads of TorchSharp; 0 leaves the default.</summary>
    public int Threads { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        static void Require(bool ok, string setting, string message)
        {
            if (!ok)
            {
                throw new ArgumentException($"EngineOptions.{setting}: {message}", setting);
            }
        }

        Require(Device is "cpu" or "auto" or "cuda" || Device.StartsWith("cuda:", StringComparison.Ordinal), nameof(Device), $"\"{Device}\" is not cpu, cuda, cuda:N or auto");
        Require(Dtype is "auto" or "float32" or "bfloat16" or "float16", nameof(Dtype), $"\"{Dtype}\" is not auto, float32, bfloat16 or float16");
        Require(BlockSize is > 0 and <= 1024, nameof(BlockSize), "must be between 1 and 1024");
        Require(NumBlocks >= 0, nameof(NumBlocks), "must not be negative");
        Require(NumBlocks > 0 || KvCacheBytes > 0, nameof(KvCacheBytes), "must be positive when NumBlocks is 0");
        Require(MaxSequenceLength >= 0, nameof(MaxSequenceLength), "must not be negative");
        Require(MaxBatchSize > 0, nameof(MaxBatchSize), "must be positive");
        Require(MaxPrefillTokens >= BlockSize, nameof(MaxPrefillTokens), "must be at least BlockSize");
        Require(Scheduling.StepPolicies.Names.Contains(StepPolicy), nameof(StepPolicy), $"\"{StepPolicy}\" is not one of {string.Join(", ", Scheduling.StepPolicies.Names)}");
        Require(MaxQueuedRequests > 0, nameof(MaxQueuedRequests), "must be positive");
        Require(ExpertParallelSize > 0, nameof(ExpertParallelSize), "must be positive");
        Require(ExpertParallelDevices.Count == 0 || ExpertParallelDevices.Count == ExpertParallelSize, nameof(ExpertParallelDevices), "must be empty or name one device per EP rank");
        Require(RedundantExperts >= 0, nameof(RedundantExperts), "must not be negative");
        Require(KvHandleLease > TimeSpan.Zero, nameof(KvHandleLease), "must be positive");
        Require(Threads >= 0, nameof(Threads), "must not be negative");
    }

    /// <summary>The device <see cref="Device"/> resolves to on this machine.</summary>
    public torch.Device ResolveDevice() => Device switch
    {
        "auto" => torch.cuda.is_available() ? torch.CUDA : torch.CPU,
        _ => torch.device(Device),
    };

    /// <summary>The compute dtype <see cref="Dtype"/> resolves to on <paramref name="device"/>.</summary>
    public torch.ScalarType ResolveDtype(torch.Device device) => Dtype switch
    {
        "float32" => torch.ScalarType.Float32,
        "bfloat16" => torch.ScalarType.BFloat16,
        "float16" => torch.ScalarType.Float16,
        _ => device.type == DeviceType.CUDA ? torch.ScalarType.BFloat16 : torch.ScalarType.Float32,
    };
}
