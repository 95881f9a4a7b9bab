namespace MoeDapr.KvTransfer.DataPlane.Tests;

public sealed class KvSharedMemoryFileTests : IDisposable
{
    private readonly string _path = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"moedapr-kv-file-tests-{Guid.NewGuid():N}.arena");

    public void Dispose() => File.Delete(_path);

    [Fact]
    public unsafe void CreateThenOpen_TwoMappings_SeeEachOthersWrites()
    {
        using var arena = KvSharedMemoryFile.Create(_path, 3 * KvNativeBuffer.PageSize);
        using var other = KvSharedMemoryFile.Open(_path);

        arena.At(KvNativeBuffer.PageSize + 5, 1)[0] = 42;
        other.At(2 * KvNativeBuffer.PageSize, 1)[0] = 7;

        Assert.Equal(arena.Length, other.Length);
        Assert.Equal(42, other.At(KvNativeBuffer.PageSize + 5, 1)[0]);
        Assert.Equal(7, arena.At(2 * KvNativeBuffer.PageSize, 1)[0]);
    }

    [Fact]
    public void At_RangePastTheEnd_IsRefused()
    {
        using var arena = KvSharedMemoryFile.Create(_path, KvNativeBuffer.PageSize);

        Assert.Throws<ArgumentOutOfRangeException>(() => arena.AddressOf(KvNativeBuffer.PageSize - 10, 11));
        Assert.Throws<ArgumentOutOfRangeException>(() => arena.AddressOf(-1, 1));
    }

    [Fact]
    public void Dispose_OfTheCreator_RemovesTheFileButAnOpenerLeavesIt()
    {
        var arena = KvSharedMemoryFile.Create(_path, KvNativeBuffer.PageSize);
        KvSharedMemoryFile.Open(_path).Dispose();
        Assert.True(File.Exists(_path));

        arena.Dispose();

        Assert.False(File.Exists(_path));
    }

    [Fact]
    public void Create_OverAnExistingFile_IsRefused()
    {
        using var arena = KvSharedMemoryFile.Create(_path, KvNativeBuffer.PageSize);

        Assert.Throws<IOException>(() => KvSharedMemoryFile.Create(_path, KvNativeBuffer.PageSize));
        Assert.True(File.Exists(_path)); // the refused call must not delete the file it found
    }
}
