using MoeDapr.Contracts.KvTransfer;

namespace MoeDapr.KvTransfer.Tests;

public sealed class KvChecksumTests
{
    private static byte[] Payload(int length)
    {
        var bytes = new byte[length];
        new Random(7).NextBytes(bytes);
        return bytes;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(7919)]
    [InlineData(KvChecksum.ChunkBytes)]
    [InlineData(KvChecksum.ChunkBytes + 1)]
    public void Builder_PiecesOfAnySize_EqualTheOneShotChecksum(int piece)
    {
        var payload = Payload((3 * KvChecksum.ChunkBytes) + 12345);
        var builder = new KvChecksumBuilder();
        for (var offset = 0; offset < payload.Length; offset += piece)
        {
            builder.Append(payload.AsSpan(offset, Math.Min(piece, payload.Length - offset)));
        }

        Assert.Equal(KvChecksum.Compute(payload), builder.GetCurrentHash());
    }

    [Fact]
    public unsafe void CopyAndHash_CopiesEveryByteAndHashesWhatItCopied()
    {
        var payload = Payload((2 * KvChecksum.ChunkBytes) + 77);
        var copy = new byte[payload.Length];
        var builder = new KvChecksumBuilder();
        fixed (byte* from = payload)
        fixed (byte* to = copy)
        {
            KvChecksum.CopyAndHash(from, to, payload.Length, builder);
        }

        Assert.Equal(payload, copy);
        Assert.Equal(KvChecksum.Compute(payload), builder.GetCurrentHash());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(KvChecksum.ChunkBytes - 1)]
    [InlineData(KvChecksum.ChunkBytes)]
    [InlineData((2 * KvChecksum.ChunkBytes) + 5)]
    public void Compute_OneFlippedBitAnywhere_ChangesTheChecksum(int position)
    {
        var payload = Payload((2 * KvChecksum.ChunkBytes) + 10);
        var before = KvChecksum.Compute(payload);
        payload[position] ^= 0x01;

        Assert.NotEqual(before, KvChecksum.Compute(payload));
    }

    [Fact]
    public void Compute_SwappedChunks_ChangesTheChecksum()
    {
        var payload = Payload(2 * KvChecksum.ChunkBytes);
        var swapped = payload[KvChecksum.ChunkBytes..].Concat(payload[..KvChecksum.ChunkBytes]).ToArray();

        Assert.NotEqual(KvChecksum.Compute(payload), KvChecksum.Compute(swapped));
    }

    [Fact]
    public void Compute_TruncatedPayload_ChangesTheChecksum()
    {
        var payload = Payload(KvChecksum.ChunkBytes + 100);

        Assert.NotEqual(KvChecksum.Compute(payload), KvChecksum.Compute(payload.AsSpan(0, payload.Length - 1)));
    }
}
