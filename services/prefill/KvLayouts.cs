using MoeDapr.Contracts.KvTransfer;
using MoeDapr.Engine;

namespace MoeDapr.Prefill;

/// <summary>The kv-transfer block layout of an engine export (see <see cref="KvPayloadHeader"/>).</summary>
internal static class KvLayouts
{
    /// <summary>
    /// The layout of a <paramref name="tokens"/>-token export of <paramref name="exportBytes"/> bytes. The element size
    /// follows from the byte count (the engine resolves "auto" dtypes itself); 2-byte elements are bf16 unless the
    /// engine was configured for fp16.
    /// </summary>
    public static KvBlockLayout For(InferenceEngine engine, int tokens, long exportBytes)
    {
        var config = engine.Config;
        var blockSize = engine.Options.BlockSize;
        var blocks = (tokens + blockSize - 1) / blockSize;
        var elements = 2L * config.NumLayers * blockSize * config.NumKvHeads * config.HeadDim * blocks;
        var elementSize = (exportBytes - KvPayloadHeader.Size) / elements;
        var dtype = elementSize switch
        {
            4 => KvDtype.Float32,
            2 when engine.Options.Dtype == "float16" => KvDtype.Float16,
            2 => KvDtype.BFloat16,
            _ => throw new InvalidDataException($"an export of {exportBytes} bytes does not fit {blocks} blocks of {elements / blocks} elements"),
        };
        var layout = new KvBlockLayout(dtype, config.NumLayers, config.NumKvHeads, config.HeadDim, blockSize, tokens);
        return layout.ToHeader().PayloadBytes == exportBytes
            ? layout
            : throw new InvalidDataException($"an export of {exportBytes} bytes does not match the layout {layout}");
    }
}
