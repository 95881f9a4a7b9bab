using System.IO.Hashing;

namespace MoeDapr.KvTransfer.DataPlane.Tests;

public sealed class KvChecksumTests
{
    [Theory]
    [InlineData(1000, 0)]                                  // below the streaming size: plain copies
    [InlineData(KvChecksum.StreamingStoreBytes + 77, 0)]   // streaming stores, aligned destination, ragged tail
    [InlineData(KvChecksum.StreamingStoreBytes + 4097, 13)] // streaming stores after an unaligned head
    public unsafe void CopyAndHash_CopiesEveryByteAndHashesWhatWasSent(long length, int destinationOffset)
    {
        var source = new byte[length];
        new Random(7).NextBytes(source);
        var destination = new byte[length + destinationOffset + 64];
        destination.AsSpan().Fill(0xAB);
        var hasher = new XxHash3();

        fixed (byte* from = source)
        fixed (byte* to = destination)
        {
            KvChecksum.CopyAndHash(from, to + destinationOffset, length, hasher);
        }

        Assert.True(source.AsSpan().SequenceEqual(destination.AsSpan(destinationOffset, (int)length)));
        Assert.All(destination[..destinationOffset], b => Assert.Equal(0xAB, b));
        Assert.All(destination[(destinationOffset + (int)length)..], b => Assert.Equal(0xAB, b));
        Assert.Equal(KvChecksum.Compute(source), hasher.GetCurrentHashAsUInt64());
    }
}
