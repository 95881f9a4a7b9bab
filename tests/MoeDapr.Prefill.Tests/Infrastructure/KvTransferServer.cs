extern alias kvtransfer;

using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace MoeDapr.Prefill.Tests.Infrastructure;

/// <summary>
/// kv-transfer in-process: its control API on a test server, its staging in a private shared-memory folder, every
/// shared-memory commit checked against its checksum.
/// </summary>
public sealed class KvTransferServer : WebApplicationFactory<kvtransfer::Program>
{
    public const string HostId = "prefill-tests-host";

    public KvTransferServer()
    {
        var root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        SharedMemoryDirectory = Directory.CreateDirectory(Path.Combine(root, "moedapr-prefill-tests-" + Guid.NewGuid().ToString("N"))).FullName;
    }

    public string SharedMemoryDirectory { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("KvTransfer:HostId", HostId);
        builder.UseSetting("KvTransfer:CapacityBytes", (64L << 20).ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("KvTransfer:SharedMemoryDirectory", SharedMemoryDirectory);
        builder.UseSetting("KvTransfer:SocketPort", "0");
        builder.UseSetting("KvTransfer:VerifySharedMemoryCommits", "true");
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
