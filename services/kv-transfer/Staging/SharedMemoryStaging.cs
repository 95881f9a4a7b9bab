using System.Globalization;
using MoeDapr.KvTransfer.DataPlane;

namespace MoeDapr.KvTransfer.Staging;

/// <summary>Staging in a file under /dev/shm, created (space reserved) at start and deleted at stop.</summary>
public sealed class SharedMemoryStaging : IStagingMemory
{
    private const string Prefix = "moedapr-kv-";
    private readonly KvSharedMemoryFile _file;

    public SharedMemoryStaging(string directory, long capacity)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"{Prefix}{Environment.ProcessId}-{Guid.NewGuid():N}.arena");
        _file = KvSharedMemoryFile.Create(Path.Combine(directory, name), capacity);
        _file.Prefault();
    }

    public string? SharedMemoryPath => _file.Path;

    public long Capacity => _file.Length;

    public unsafe nint BaseAddress => (nint)_file.Pointer;

    /// <summary>Arenas left by kv-transfer processes that no longer run (only where /proc tells which processes live).</summary>
    public static IReadOnlyList<string> FindStale(string directory)
    {
        var stale = new List<string>();
        if (!Directory.Exists("/proc/self"))
        {
            return stale;
        }

        foreach (var path in Directory.EnumerateFiles(directory, Prefix + "*.arena"))
        {
            var name = Path.GetFileName(path);
            var dash = name.IndexOf('-', Prefix.Length);
            if (dash > 0
                && int.TryParse(name.AsSpan(Prefix.Length, dash - Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && pid != Environment.ProcessId
                && !Directory.Exists($"/proc/{pid}"))
            {
                stale.Add(path);
            }
        }

        return stale;
    }

    /// <summary>Deletes the arenas <see cref="FindStale"/> reports (a crash leaves their tmpfs memory allocated).</summary>
    public static IReadOnlyList<string> RemoveStale(string directory)
    {
        var removed = new List<string>();
        foreach (var path in FindStale(directory))
        {
            try
            {
                File.Delete(path);
                removed.Add(path);
            }
            catch (IOException)
            {
                // Another instance is cleaning the same file.
            }
        }

        return removed;
    }

    public void Dispose() => _file.Dispose();
}
