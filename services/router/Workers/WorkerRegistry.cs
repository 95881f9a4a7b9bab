using Microsoft.Extensions.Options;
using MoeDapr.Contracts;
using MoeDapr.Model;
using MoeDapr.Router.Options;
using MoeDapr.Router.Policies;

namespace MoeDapr.Router.Workers;

/// <summary>
/// The workers the router knows, learned from their load snapshots, with what the router adds between snapshots:
/// calls in flight, failures (a cool-down), and the prompt blocks it routed to each worker since its last snapshot.
/// </summary>
public sealed class WorkerRegistry(TimeProvider time, IOptions<WorkerOptions> options) : IWorkerLoadView
{
    private const int MaxRoutedHashes = 1 << 16;
    private readonly WorkerOptions _options = options.Value;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _workers = new(StringComparer.Ordinal);
    private long _kvTransferProbeHealthyAt = long.MinValue;

    /// <summary>Raised (outside the lock) when a snapshot arrives, so waiting work can be dispatched.</summary>
    public event Action? Changed;

    /// <summary>Takes a snapshot; an older one from the same instance is ignored. Returns whether it was applied.</summary>
    public bool Apply(WorkerLoadSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        lock (_lock)
        {
            if (_workers.TryGetValue(snapshot.AppId, out var entry))
            {
                if (entry.Snapshot.InstanceId == snapshot.InstanceId && entry.Snapshot.Sequence >= snapshot.Sequence)
                {
                    return false;
                }

                if (entry.Snapshot.InstanceId != snapshot.InstanceId)
                {
                    // A restarted replica: whatever the router believed about it is gone.
                    entry.Routed.Clear();
                    entry.InFlight = 0;
                    entry.InFlightTokens = 0;
                }
            }
            else
            {
                entry = new Entry();
                _workers[snapshot.AppId] = entry;
            }

            entry.Snapshot = snapshot;
            entry.ReceivedAt = time.GetTimestamp();
            if (snapshot.CachedBlockHashes is { } hashes)
            {
                entry.Cached = ParseHashes(hashes);
                entry.Routed.Clear();
            }
        }

        Changed?.Invoke();
        return true;
    }

    /// <summary>The result of the last kv-transfer readiness probe.</summary>
    public void ReportKvTransferProbe(bool ready)
    {
        lock (_lock)
        {
            _kvTransferProbeHealthyAt = ready ? time.GetTimestamp() : long.MinValue;
        }

        Changed?.Invoke();
    }

    /// <summary>kv-transfer answered its last probe recently, or publishes fresh accepting snapshots.</summary>
    public bool KvTransferHealthy
    {
        get
        {
            lock (_lock)
            {
                var probed = _kvTransferProbeHealthyAt != long.MinValue
                    && time.GetElapsedTime(_kvTransferProbeHealthyAt) <= _options.StaleAfter;
                return probed || _workers.Values.Any(e => e.Snapshot.Role == WorkerRole.KvTransfer && IsAvailable(e));
            }
        }
    }

    /// <inheritdoc/>
    public bool DisaggregationAvailable => KvTransferHealthy && Count(WorkerRole.Prefill) > 0;

    /// <summary>
    /// Workers of a role that are publishing fresh snapshots and accepting work, saturated or not: what readiness
    /// counts, since a busy worker is still serving and the router's queue absorbs the excess.
    /// </summary>
    public int CountLive(WorkerRole role)
    {
        lock (_lock)
        {
            return _workers.Values.Count(e => e.Snapshot.Role == role && IsFresh(e) && e.Snapshot.Accepting);
        }
    }

    /// <summary>Workers of a role that are fresh, accepting, not cooling down after a failure and not saturated.</summary>
    public int Count(WorkerRole role)
    {
        lock (_lock)
        {
            return _workers.Values.Count(e => e.Snapshot.Role == role && IsAvailable(e));
        }
    }

    /// <summary>All known workers with their state, for the admin view and readiness.</summary>
    public IReadOnlyList<WorkerStatus> List()
    {
        lock (_lock)
        {
            return _workers.Select(kv => new WorkerStatus(
                kv.Key, kv.Value.Snapshot.Role, IsFresh(kv.Value), IsAvailable(kv.Value), kv.Value.InFlight,
                time.GetElapsedTime(kv.Value.ReceivedAt).TotalSeconds)).OrderBy(s => s.AppId, StringComparer.Ordinal).ToArray();
        }
    }

    /// <summary>Prefill workers that can take a batch now (fewer than <paramref name="maxInFlight"/> batches running).</summary>
    public IReadOnlyList<PrefillCandidate> PrefillCandidates(IReadOnlyList<UInt128[]> batchHashes, int maxInFlight)
    {
        lock (_lock)
        {
            var result = new List<PrefillCandidate>();
            foreach (var (appId, entry) in _workers)
            {
                if (entry.Snapshot.Role != WorkerRole.Prefill || !IsAvailable(entry) || entry.InFlight >= maxInFlight)
                {
                    continue;
                }

                var overlap = batchHashes.Sum(h => Overlap(entry, h));
                var loadBlocks = PrefillLoadTokens(entry) / (double)BlockSize(entry);
                result.Add(new PrefillCandidate(appId, loadBlocks, overlap));
            }

            return result;
        }
    }

    /// <summary>Decode workers that can take a sequence, excluding <paramref name="exclude"/> (workers that already failed it).</summary>
    public IReadOnlyList<DecodeCandidate> DecodeCandidates(IReadOnlyCollection<string>? exclude = null)
    {
        lock (_lock)
        {
            return [.. UsableDecode().Where(l => l.HasRoom && !(exclude?.Contains(l.AppId) ?? false)).Select(l => l.Candidate)];
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<DecodeLoad> DecodeLoads()
    {
        lock (_lock)
        {
            return [.. UsableDecode().Where(l => l.HasRoom)];
        }
    }

    /// <summary>Leading prompt blocks a worker holds (prefix caching reuses only an unbroken prefix).</summary>
    public int CachedPrefixBlocks(string appId, UInt128[] promptHashes)
    {
        lock (_lock)
        {
            return _workers.TryGetValue(appId, out var entry) ? Overlap(entry, promptHashes) : 0;
        }
    }

    /// <summary>
    /// Counts work sent to a worker until the lease is released: it carries this load meanwhile, and will soon hold these
    /// blocks. A worker the registry does not know gets a lease that counts nothing.
    /// </summary>
    public WorkerLease Lease(string appId, int tokens, IEnumerable<UInt128[]>? promptHashes = null)
    {
        Started(appId, tokens, promptHashes);
        return new WorkerLease(appId, tokens, (lease, failed) => Completed(lease.AppId, lease.Tokens, failed));
    }

    private void Started(string appId, int tokens, IEnumerable<UInt128[]>? promptHashes = null)
    {
        lock (_lock)
        {
            if (!_workers.TryGetValue(appId, out var entry))
            {
                return;
            }

            entry.InFlight++;
            entry.InFlightTokens += tokens;
            if (entry.Routed.Count > MaxRoutedHashes)
            {
                // Workers that never report their cache: forget old guesses rather than grow without bound.
                entry.Routed.Clear();
            }

            foreach (var hashes in promptHashes ?? [])
            {
                foreach (var h in hashes)
                {
                    entry.Routed.Add(h);
                }
            }
        }
    }

    /// <summary>Ends what <see cref="Started"/> began; a failure (not a client's cancel) starts the worker's cool-down.</summary>
    private void Completed(string appId, int tokens, bool failed)
    {
        lock (_lock)
        {
            if (_workers.TryGetValue(appId, out var entry))
            {
                entry.InFlight = Math.Max(0, entry.InFlight - 1);
                entry.InFlightTokens = Math.Max(0, entry.InFlightTokens - tokens);
                entry.CompletedAtUnixMs = time.GetUtcNow().ToUnixTimeMilliseconds();
                if (failed)
                {
                    entry.CoolDownUntil = time.GetTimestamp() + (long)(_options.FailureCooldown.TotalSeconds * time.TimestampFrequency);
                }
            }
        }

        Changed?.Invoke();
    }

    /// <summary>Average utilization of the available prefill workers (snapshot busy share, or batches in flight per slot).</summary>
    public double PrefillUtilization(int maxInFlight)
    {
        lock (_lock)
        {
            var prefill = _workers.Values.Where(e => e.Snapshot.Role == WorkerRole.Prefill && IsAvailable(e)).ToArray();
            return prefill.Length == 0 ? 1.0 : prefill.Average(e => Math.Max(e.Snapshot.Utilization, (double)e.InFlight / maxInFlight));
        }
    }

    private static HashSet<UInt128> ParseHashes(IReadOnlyList<string> hashes)
    {
        var set = new HashSet<UInt128>(hashes.Count);
        foreach (var hex in hashes)
        {
            if (UInt128.TryParse(hex, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var h))
            {
                set.Add(h);
            }
        }

        return set;
    }

    private static int Overlap(Entry entry, UInt128[] hashes)
    {
        var n = 0;
        while (n < hashes.Length && (entry.Cached.Contains(hashes[n]) || entry.Routed.Contains(hashes[n])))
        {
            n++;
        }

        return n;
    }

    /// <summary>
    /// Prompt tokens a prefill worker has to get through. The snapshot's figure includes the batches this router sent (so
    /// the two are not added) and lags up to an interval: once a call to the worker ended after the snapshot was taken, the
    /// router's own count is the fresher one. Otherwise the larger wins (the snapshot also sees other routers' work).
    /// </summary>
    private static long PrefillLoadTokens(Entry entry) =>
        entry.CompletedAtUnixMs > entry.Snapshot.TimestampUnixMs ? entry.InFlightTokens : Math.Max(entry.Snapshot.QueuedTokens, entry.InFlightTokens);

    private int BlockSize(Entry entry) => entry.Snapshot.BlockSize > 0 ? entry.Snapshot.BlockSize : _options.BlockSize;

    private bool IsFresh(Entry entry) => time.GetElapsedTime(entry.ReceivedAt) <= _options.StaleAfter;

    /// <summary>Fresh, accepting and not cooling down after a failure.</summary>
    private bool IsUsable(Entry entry) => IsFresh(entry) && entry.Snapshot.Accepting && time.GetTimestamp() >= entry.CoolDownUntil;

    /// <summary>Usable and, for decode, not saturated.</summary>
    private bool IsAvailable(Entry entry) => IsUsable(entry) && (entry.Snapshot.Role != WorkerRole.Decode || LoadOf(string.Empty, entry).HasRoom);

    private IEnumerable<DecodeLoad> UsableDecode()
    {
        foreach (var (appId, entry) in _workers)
        {
            if (entry.Snapshot.Role == WorkerRole.Decode && IsUsable(entry))
            {
                yield return LoadOf(appId, entry);
            }
        }
    }

    private DecodeLoad LoadOf(string appId, Entry entry)
    {
        var s = entry.Snapshot;
        return new DecodeLoad(appId, s.RunningSequences, s.QueuedRequests, s.MaxRunningSequences, s.KvUsage, s.KvUsage >= _options.SaturatedKvUsage, entry.InFlight);
    }

    private sealed class Entry
    {
        public WorkerLoadSnapshot Snapshot { get; set; } = null!;
        public long ReceivedAt { get; set; }
        public long CoolDownUntil { get; set; }
        /// <summary>Wall clock of the last call's end, compared with the snapshot's own timestamp (taken on the worker, so a snapshot sampled before the end but delivered after it still counts as older).</summary>
        public long CompletedAtUnixMs { get; set; } = long.MinValue;
        public int InFlight { get; set; }
        public long InFlightTokens { get; set; }
        public HashSet<UInt128> Cached { get; set; } = [];
        public HashSet<UInt128> Routed { get; } = [];
    }
}
