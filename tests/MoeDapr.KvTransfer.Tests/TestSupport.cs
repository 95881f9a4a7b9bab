using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MoeDapr.KvTransfer;
using MoeDapr.KvTransfer.Staging;

// Metric assertions compare counter deltas; tests in parallel would mix them.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace MoeDapr.KvTransfer.Tests;

/// <summary>Helpers shared by the kv-transfer tests.</summary>
internal static class TestSupport
{
    public static readonly KvBlockLayout SmallLayout = new(KvDtype.BFloat16, Layers: 2, KvHeads: 2, HeadDim: 16, BlockSize: 4, Tokens: 10);

    /// <summary>A payload for <paramref name="layout"/>: valid header, deterministic pseudo-random body.</summary>
    public static byte[] Payload(KvBlockLayout layout, int seed = 1)
    {
        var header = layout.ToHeader();
        var bytes = new byte[header.PayloadBytes];
        new Random(seed).NextBytes(bytes);
        header.Write(bytes);
        return bytes;
    }

    /// <summary>Layout whose payload is about <paramref name="mib"/> MiB.</summary>
    public static KvBlockLayout LayoutOfMiB(int mib) =>
        new(KvDtype.Float16, Layers: 8, KvHeads: 8, HeadDim: 128, BlockSize: 16, Tokens: mib * 1024 * 1024 / (2 * 8 * 8 * 128 * 2));

    public static string Hash(int i) => i.ToString("x32", CultureInfo.InvariantCulture);

    public static KvBlockStore NewStore(FakeTimeProvider time, long capacity = 4L << 20, int maxLeases = 64, TimeSpan? ttl = null, string hostId = "test-host")
    {
        var options = Options.Create(new KvTransferOptions
        {
            HostId = hostId,
            CapacityBytes = capacity,
            MaxLeases = maxLeases,
            LeaseTtl = ttl ?? TimeSpan.FromSeconds(30),
            Staging = StagingKind.Native,
        });
        return new KvBlockStore(new NativeStaging(capacity), options, time, new KvTransferMetrics(), NullLogger<KvBlockStore>.Instance);
    }

    /// <summary>Reads one sample from Prometheus text exposition (0 when absent).</summary>
    public static double Sample(string exposition, string series)
    {
        foreach (var line in exposition.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    /// <summary>Current value of a series in the default registry.</summary>
    public static async Task<double> MetricAsync(string series)
    {
        using var stream = new MemoryStream();
        await Prometheus.Metrics.DefaultRegistry.CollectAndExportAsTextAsync(stream);
        return Sample(System.Text.Encoding.UTF8.GetString(stream.ToArray()), series);
    }
}
