using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace MoeDapr.Sidecar.Discovery;

/// <summary>
/// Name resolution without a central daemon: sidecars of this process are found directly; sidecars of other
/// processes through a folder of small JSON files (one per sidecar, rewritten as a heartbeat every 2 s; a file
/// whose heartbeat is older than 10 s or whose process is gone is ignored and removed).
/// </summary>
public sealed class AppDirectory : IAsyncDisposable
{
    /// <summary>Environment variable naming the registry folder shared by separate sidecar processes.</summary>
    public const string RegistryEnvironmentVariable = "MOEDAPR_SIDECAR_REGISTRY";

    private static readonly TimeSpan HeartbeatPeriod = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CacheFor = TimeSpan.FromMilliseconds(500);
    private readonly ConcurrentDictionary<string, ILocalSidecar> _local = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task? _heartbeat;
    private (long AtMs, List<SidecarRecord> Records) _cache = (0, []);

    public AppDirectory(string? registryPath, TimeProvider time)
    {
        _time = time;
        RegistryPath = registryPath;
        if (registryPath is not null)
        {
            Directory.CreateDirectory(registryPath);
            _heartbeat = Task.Run(HeartbeatLoopAsync);
        }
    }

    /// <summary>The registry folder, or null when only this process's sidecars are visible.</summary>
    public string? RegistryPath { get; }

    public static string DefaultRegistryPath =>
        Environment.GetEnvironmentVariable(RegistryEnvironmentVariable) is { Length: > 0 } path
            ? path
            : Path.Combine(Path.GetTempPath(), "moedapr-sidecar", "registry");

    public void Register(ILocalSidecar sidecar)
    {
        var record = sidecar.Describe();
        _local[record.InstanceId] = sidecar;
        WriteRecord(record);
    }

    public void Unregister(ILocalSidecar sidecar)
    {
        var record = sidecar.Describe();
        _local.TryRemove(record.InstanceId, out _);
        if (RegistryPath is not null)
        {
            TryDelete(FileFor(record));
        }

        _cache = (0, []);
    }

    /// <summary>Rewrites a sidecar's record now (e.g. once its actor types are known).</summary>
    public void Refresh(ILocalSidecar sidecar)
    {
        WriteRecord(sidecar.Describe());
        _cache = (0, []);
    }

    /// <summary>Local sidecars of an app id, in a stable order.</summary>
    public IReadOnlyList<ILocalSidecar> LocalInstances(string appId) =>
        _local.Values.Where(s => s.Describe().AppId == appId).OrderBy(s => s.Describe().InstanceId, StringComparer.Ordinal).ToList();

    /// <summary>Sidecars of other processes for an app id.</summary>
    public IReadOnlyList<SidecarRecord> RemoteInstances(string appId) =>
        ReadRemote().Where(r => r.AppId == appId).ToList();

    /// <summary>Every live sidecar (local and remote) hosting the actor type, ordered by instance id.</summary>
    public IReadOnlyList<SidecarRecord> ActorHosts(string actorType)
    {
        var local = _local.Values.Select(s => s.Describe());
        return local.Concat(ReadRemote())
            .Where(r => r.ActorTypes.Contains(actorType, StringComparer.Ordinal))
            .DistinctBy(r => r.InstanceId)
            .OrderBy(r => r.InstanceId, StringComparer.Ordinal)
            .ToList();
    }

    public ILocalSidecar? FindLocal(string instanceId) => _local.GetValueOrDefault(instanceId);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_heartbeat is not null)
        {
            try
            {
                await _heartbeat.WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
            {
                // Stopping.
            }
        }

        foreach (var sidecar in _local.Values.ToList())
        {
            Unregister(sidecar);
        }

        _stop.Dispose();
    }

    private List<SidecarRecord> ReadRemote()
    {
        if (RegistryPath is null)
        {
            return [];
        }

        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var cache = _cache;
        if (now - cache.AtMs < CacheFor.TotalMilliseconds)
        {
            return cache.Records;
        }

        var records = new List<SidecarRecord>();
        foreach (var file in Directory.EnumerateFiles(RegistryPath, "*.json"))
        {
            SidecarRecord? record;
            try
            {
                record = JsonSerializer.Deserialize<SidecarRecord>(File.ReadAllBytes(file));
            }
            catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
            {
                continue;
            }

            if (record is null || _local.ContainsKey(record.InstanceId))
            {
                continue;
            }

            if (now - record.HeartbeatUnixMs > StaleAfter.TotalMilliseconds || !IsAlive(record.Pid))
            {
                TryDelete(file);
                continue;
            }

            records.Add(record);
        }

        _cache = (now, records);
        return records;
    }

    private async Task HeartbeatLoopAsync()
    {
        using var timer = new PeriodicTimer(HeartbeatPeriod, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                foreach (var sidecar in _local.Values)
                {
                    WriteRecord(sidecar.Describe());
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private void WriteRecord(SidecarRecord record)
    {
        if (RegistryPath is null)
        {
            return;
        }

        record = record with { HeartbeatUnixMs = _time.GetUtcNow().ToUnixTimeMilliseconds() };
        var file = FileFor(record);
        var temp = file + ".tmp";
        try
        {
            // Write then rename, so readers never see half a file.
            File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(record));
            File.Move(temp, file, overwrite: true);
        }
        catch (IOException)
        {
            // The next heartbeat tries again.
        }
    }

    private string FileFor(SidecarRecord record) => Path.Combine(RegistryPath!, $"{record.AppId}.{record.InstanceId}.json");

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (IOException)
        {
            // Another sidecar removed it first.
        }
    }
}
