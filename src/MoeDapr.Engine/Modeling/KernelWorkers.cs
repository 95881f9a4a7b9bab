namespace MoeDapr.Engine.Modeling;

/// <summary>
/// Helper threads that take numbered chunks of a kernel's work beside the calling thread. The caller claims chunks
/// too and never waits for a helper that has not started: it only waits for chunks a helper has already claimed.
/// (Parallel.For waits for its queued task to start, which on a busy machine can cost a scheduler time slice per
/// product; a decode step runs hundreds of products.) One caller at a time gets the helpers; a concurrent caller
/// runs its chunks alone.
/// </summary>
internal static class KernelWorkers
{
    private static readonly object Gate = new();
    private static readonly SemaphoreSlim Signal = new(0);
    private static Job? _current;
    private static int _helpers;
    private static int _busy;

    /// <summary>Runs body(0) … body(chunks - 1), on the calling thread and up to <paramref name="threads"/> - 1 helpers.</summary>
    public static void Run(int chunks, int threads, Action<int> body)
    {
        if (chunks <= 1 || threads <= 1 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            for (var i = 0; i < chunks; i++)
            {
                body(i);
            }

            return;
        }

        try
        {
            var helpers = EnsureHelpers(threads - 1);
            var job = new Job(body, chunks);
            Volatile.Write(ref _current, job);
            Signal.Release(Math.Min(helpers, chunks - 1));
            job.Work();
            var spin = default(SpinWait);
            while (Volatile.Read(ref job.Done) < chunks)
            {
                spin.SpinOnce(); // only chunks a running helper has claimed are outstanding
            }

            Volatile.Write(ref _current, null);
            if (job.Error is { } error)
            {
                throw new AggregateException(error);
            }
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    private static int EnsureHelpers(int wanted)
    {
        if (Volatile.Read(ref _helpers) >= wanted)
        {
            return wanted;
        }

        lock (Gate)
        {
            while (_helpers < wanted)
            {
                var thread = new Thread(HelperLoop) { IsBackground = true, Name = $"moedapr-kernel-{_helpers}" };
                thread.Start();
                _helpers++;
            }
        }

        return wanted;
    }

    private static void HelperLoop()
    {
        while (true)
        {
            // A helper that wakes late finds the job finished (or the next one) and claims nothing it should not.
            if (Signal.Wait(TimeSpan.FromSeconds(1)))
            {
                Volatile.Read(ref _current)?.Work();
            }
        }
    }

    /// <summary>One Run call: chunks are claimed by incrementing <see cref="_next"/>; <see cref="Done"/> counts finished ones.</summary>
    private sealed class Job(Action<int> body, int total)
    {
        public int Done;
        private int _next;

        public Exception? Error { get; private set; }

        public void Work()
        {
            int chunk;
            while ((chunk = Interlocked.Increment(ref _next) - 1) < total)
            {
                try
                {
                    body(chunk);
                }
                catch (Exception e)
                {
                    Error ??= e;
                }
                finally
                {
                    Interlocked.Increment(ref Done);
                }
            }
        }
    }
}
