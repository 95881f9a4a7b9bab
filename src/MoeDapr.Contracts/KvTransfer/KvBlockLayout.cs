namespace MoeDapr.Contracts.KvTransfer;

/// <summary>Shape of a KV payload, the fields of <see cref="KvPayloadHeader"/> in JSON form.</summary>
public sealed record KvBlockLayout(KvDtype Dtype, int Layers, int KvHeads, int HeadDim, int BlockSize, int Tokens)
{
    public KvPayloadHeader ToHeader() => new(Dtype, Layers, KvHeads, HeadDim, BlockSize, Tokens);

    public static KvBlockLayout FromHeader(KvPayloadHeader header) =>
        new(header.Dtype, header.Layers, header.KvHeads, header.HeadDim, header.BlockSize, header.Tokens);
}
