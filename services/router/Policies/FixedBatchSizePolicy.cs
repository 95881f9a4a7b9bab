using Microsoft.Extensions.Options;
using MoeDapr.Router.Options;

namespace MoeDapr.Router.Policies;

/// <summary>Always the configured initial size.</summary>
public sealed class FixedBatchSizePolicy(IOptions<BatchingOptions> options) : IBatchSizePolicy
{
    private readonly int _size = options.Value.InitialBatchSize;

    public string Name => PolicyNames.FixedBatching;

    public int NextBatchSize(BatchSignal signal) => _size;
}
