using MoeDapr.Contracts;
using MoeDapr.Router.Policies;

namespace MoeDapr.Router.Scheduling;

/// <summary>
/// The waiting requests: one FIFO list per priority, with running totals of requests and prompt tokens.
/// Not thread-safe; <see cref="AdmissionGate"/> guards it with its lock.
/// </summary>
public sealed class RequestQueue
{
    /// <summary>How far down a list "prefer short prompts" looks, so a pick stays cheap under a deep queue.</summary>
    public const int ShortestScanLimit = 64;

    private static readonly int Classes = Enum.GetValues<RequestPriority>().Length;
    private readonly LinkedList<GenerationJob>[] _lists = Enumerable.Range(0, Classes).Select(_ => new LinkedList<GenerationJob>()).ToArray();
    private readonly int[] _count = new int[Classes];
    private readonly long[] _tokens = new long[Classes];

    public int Count => _count.Sum();

    public long Tokens => _tokens.Sum();

    public QueueSnapshot Snapshot(double drainPerSecond) =>
        new() { Count = (int[])_count.Clone(), Tokens = (long[])_tokens.Clone(), DrainPerSecond = drainPerSecond };

    public void Add(GenerationJob job)
    {
        var p = (int)job.Priority;
        job.Node = _lists[p].AddLast(job);
        _count[p]++;
        _tokens[p] += job.PromptTokens;
    }

    /// <summary>Removes a waiting job; false when it is no longer queued.</summary>
    public bool Remove(GenerationJob job)
    {
        if (job.Node is not { List: not null } node)
        {
            return false;
        }

        var p = (int)job.Priority;
        _lists[p].Remove(node);
        job.Node = null;
        _count[p]--;
        _tokens[p] -= job.PromptTokens;
        return true;
    }

    /// <summary>Removes the newest jobs of priorities below <paramref name="priority"/>, lowest first, until the totals fit.</summary>
    public IReadOnlyList<GenerationJob> Shed(RequestPriority priority, int toCount, long toTokens)
    {
        var shed = new List<GenerationJob>();
        for (var p = Classes - 1; p > (int)priority; p--)
        {
            while ((Count > toCount || Tokens > toTokens) && _lists[p].Last is { } last)
            {
                Remove(last.Value);
                shed.Add(last.Value);
            }
        }

        return shed;
    }

    /// <summary>
    /// Removes the jobs admitted before <paramref name="enqueuedBefore"/> (a <see cref="TimeProvider"/> timestamp). Each
    /// list is in arrival order, so only its head needs looking at.
    /// </summary>
    public List<GenerationJob>? RemoveExpired(long enqueuedBefore)
    {
        List<GenerationJob>? expired = null;
        foreach (var list in _lists)
        {
            while (list.First is { } first && first.Value.EnqueuedAt < enqueuedBefore)
            {
                Remove(first.Value);
                (expired ??= []).Add(first.Value);
            }
        }

        return expired;
    }

    /// <summary>The job that would leave next: highest priority first, oldest (or shortest when asked) within it.</summary>
    public GenerationJob? Peek(bool preferShort)
    {
        foreach (var list in _lists)
        {
            if (list.First is null)
            {
                continue;
            }

            if (!preferShort)
            {
                return list.First.Value;
            }

            var best = list.First.Value;
            var scanned = 0;
            for (var node = list.First; node is not null && scanned < ShortestScanLimit; node = node.Next, scanned++)
            {
                if (node.Value.PromptTokens < best.PromptTokens)
                {
                    best = node.Value;
                }
            }

            return best;
        }

        return null;
    }

    /// <summary>
    /// Takes up to <paramref name="maxCount"/> jobs in leaving order while their prompts fit <paramref name="maxTokens"/>
    /// (the first always goes) and <paramref name="accept"/> agrees; the first refused job stays queued and ends the batch.
    /// </summary>
    public List<GenerationJob> DequeueBatch(int maxCount, long maxTokens, bool preferShort, Func<GenerationJob, bool>? accept = null)
    {
        var batch = new List<GenerationJob>();
        long tokens = 0;
        while (batch.Count < maxCount && Peek(preferShort) is { } next)
        {
            if ((batch.Count > 0 && tokens + next.PromptTokens > maxTokens) || (accept is not null && !accept(next)))
            {
                break;
            }

            Remove(next);
            batch.Add(next);
            tokens += next.PromptTokens;
        }

        return batch;
    }
}
