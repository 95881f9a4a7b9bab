using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace MoeDapr.KvTransfer.Tests;

/// <summary>kv-transfer in-process (control API on a test server, socket plane on a real loopback port, staging in a private /dev/shm folder).</summary>
public sealed class KvTransferFactory : WebApplicationFactory<Program>
{
    public const string HostId = "test-host";

    private readonly int? _maxLeases;
    private readonly int? _socketMaxConnections;

    public KvTransferFactory(long capacityBytes = 64L << 20, FakeTimeProvider? time = null, bool verifySharedMemoryCommits = false, int? maxLeases = null, int? socketMaxConnections = null)
    {
        CapacityBytes = capacityBytes;
        _maxLeases = maxLeases;
        _socketMaxConnections = socketMaxConnections;
        VerifySharedMemoryCommits = verifySharedMemoryCommits;
        Time = time;
        var root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        SharedMemoryDirectory = Directory.CreateDirectory(Path.Combine(root, "moedapr-kv-tests-" + Guid.NewGuid().ToString("N"))).FullName;
    }

    public long CapacityBytes { get; }

    public bool VerifySharedMemoryCommits { get; }

    public FakeTimeProvider? Time { get; }

    public string SharedMemoryDirectory { get; }

    /// <summary>A client that reaches the control API directly (in production the base address is the sidecar's invoke URL).</summary>
    public KvTransferClient NewClient(bool sharedMemory = true) =>
        new(new KvTransferHttpControl(CreateClient()), new KvTransferClientOptions { HostId = HostId, Requester = "tests", UseSharedMemory = sharedMemory });

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("KvTransfer:HostId", HostId);
        builder.UseSetting("KvTransfer:CapacityBytes", CapacityBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("KvTransfer:SharedMemoryDirectory", SharedMemoryDirectory);
        builder.UseSetting("KvTransfer:LeaseTtl", "00:00:30");
        builder.UseSetting("KvTransfer:SweepInterval", "00:00:01");
        builder.UseSetting("KvTransfer:SocketPort", "0");
        builder.UseSetting("KvTransfer:VerifySharedMemoryCommits", VerifySharedMemoryCommits ? "true" : "false");
        if (_maxLeases is { } maxLeases)
        {
            builder.UseSetting("KvTransfer:MaxLeases", maxLeases.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (_socketMaxConnections is { } connections)
        {
            builder.UseSetting("KvTransfer:SocketMaxConnections", connections.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        if (Time is not null)
        {
            builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Time));
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && Directory.Exists(SharedMemoryDirectory))
        {
            Directory.Delete(SharedMemoryDirectory, recursive: true);
        }
    }
}
