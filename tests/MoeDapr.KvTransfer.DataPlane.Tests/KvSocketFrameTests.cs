namespace MoeDapr.KvTransfer.DataPlane.Tests;

public sealed class KvSocketFrameTests
{
    [Fact]
    public void WriteRead_AnyFrame_ComesBackFieldForField()
    {
        var frame = new KvSocketFrame((ushort)KvSocketOp.Pull, Guid.NewGuid(), long.MaxValue - 3, 0xDEADBEEF_01234567);
        var bytes = new byte[KvSocketFrame.Size];

        frame.Write(bytes, KvSocketFrame.RequestMagic);

        Assert.Equal(frame, KvSocketFrame.Read(bytes, KvSocketFrame.RequestMagic));
        Assert.Equal(KvSocketOp.Pull, KvSocketFrame.Read(bytes, KvSocketFrame.RequestMagic).Op);
    }

    [Fact]
    public void Read_ReplyReadAsRequest_IsRefused()
    {
        var bytes = new byte[KvSocketFrame.Size];
        new KvSocketFrame((ushort)KvSocketStatus.Ok, Guid.NewGuid(), 1, 2).Write(bytes, KvSocketFrame.ReplyMagic);

        Assert.Throws<InvalidDataException>(() => KvSocketFrame.Read(bytes, KvSocketFrame.RequestMagic));
    }

    [Fact]
    public void Read_OtherVersion_IsRefused()
    {
        var bytes = new byte[KvSocketFrame.Size];
        new KvSocketFrame((ushort)KvSocketOp.Push, Guid.NewGuid(), 1, 2).Write(bytes, KvSocketFrame.RequestMagic);
        bytes[4] = KvSocketFrame.Version + 1; // version, little-endian at offset 4

        var error = Assert.Throws<InvalidDataException>(() => KvSocketFrame.Read(bytes, KvSocketFrame.RequestMagic));
        Assert.Contains("version", error.Message, StringComparison.Ordinal);
    }
}
