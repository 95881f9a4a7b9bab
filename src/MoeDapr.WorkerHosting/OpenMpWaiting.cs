namespace MoeDapr.WorkerHosting;

/// <summary>How the idle threads of libtorch's OpenMP team wait for the next kernel.</summary>
public enum OpenMpWaiting
{
    /// <summary>
    /// libgomp's own default: a thread spins for a bounded while (<c>GOMP_SPINCOUNT</c> 300,000 pause loops, a few ms)
    /// before it sleeps. For a process whose steps are long runs of large kernels (prefill): no futex wake-up per
    /// kernel while it computes, and a few ms of spinning once it goes idle.
    /// </summary>
    BoundedSpin,

    /// <summary>
    /// <c>OMP_WAIT_POLICY=PASSIVE</c>: threads sleep as soon as a parallel region ends. For a process that runs short
    /// steps back to back on fewer cores than it shares (decode): its idle OpenMP thread must not spin on the core the
    /// step's own kernel threads need.
    /// </summary>
    Passive,
}
