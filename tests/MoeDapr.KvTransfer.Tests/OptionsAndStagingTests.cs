using MoeDapr.KvTransfer.Staging;

namespace MoeDapr.KvTransfer.Tests;

public sealed class OptionsAndStagingTests : IDisposable
{
    private readonly string _directory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "moedapr-kv-opts-" + Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Validate_BadSettings_NameEachSettingToFix()
    {
        var result = new KvTransferOptionsValidator().Validate(null, new KvTransferOptions
        {
            CapacityBytes = 10,
            LeaseTtl = TimeSpan.Zero,
            SocketListenAddress = "not-an-ip",
            SharedMemoryDirectory = Path.Combine(_directory, "missing"),
        });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures, f => f.Contains("KvTransfer:CapacityBytes", StringComparison.Ordinal));
        Assert.Contains(result.Failures, f => f.Contains("KvTransfer:LeaseTtl", StringComparison.Ordinal));
        Assert.Contains(result.Failures, f => f.Contains("KvTransfer:SocketListenAddress", StringComparison.Ordinal));
        Assert.Contains(result.Failures, f => f.Contains("KvTransfer:SharedMemoryDirectory", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_CapacityBeyondFreeSharedMemory_IsRefusedAtStart()
    {
        var result = new KvTransferOptionsValidator().Validate(null, new KvTransferOptions { SharedMemoryDirectory = _directory, CapacityBytes = long.MaxValue / 2 });

        Assert.Contains(result.Failures!, f => f.Contains("KvTransfer:CapacityBytes", StringComparison.Ordinal) && f.Contains("free", StringComparison.Ordinal));
    }

    [Fact]
    public void RemoveStale_ArenaOfDeadProcess_IsDeletedAndLiveOnesKept()
    {
        var dead = Path.Combine(_directory, "moedapr-kv-999999999-0123.arena"); // above any Linux pid_max
        var live = Path.Combine(_directory, $"moedapr-kv-{Environment.ProcessId}-0123.arena");
        File.WriteAllBytes(dead, [1]);
        File.WriteAllBytes(live, [1]);

        var removed = SharedMemoryStaging.RemoveStale(_directory);

        Assert.Equal([dead], removed);
        Assert.True(File.Exists(live));
    }

    [Fact]
    public void SharedMemoryStaging_Dispose_DeletesItsFile()
    {
        string path;
        using (var staging = new SharedMemoryStaging(_directory, 1 << 20))
        {
            path = staging.SharedMemoryPath!;
            Assert.Equal(1 << 20, new FileInfo(path).Length);
        }

        Assert.False(File.Exists(path));
    }
}
