using System.Runtime.InteropServices;

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

/// <summary>Settings for libtorch's OpenMP runtime that a worker process puts in its native environment before libtorch loads.</summary>
public static partial class NativeThreadingDefaults
{
    /// <summary>
    /// Puts the wait behaviour for <paramref name="waiting"/> in the native environment unless the operator set
    /// <c>OMP_WAIT_POLICY</c> or <c>GOMP_SPINCOUNT</c> (their values win). libgomp reads its settings once, when it
    /// loads, and .NET's Environment.SetEnvironmentVariable does not reach the native environment on Linux, so this
    /// goes through libc and must run before the first TorchSharp call. See docs/tuning.md for the measurements.
    /// </summary>
    public static void Apply(OpenMpWaiting waiting)
    {
        if (OperatingSystem.IsWindows() || waiting == OpenMpWaiting.BoundedSpin
            || Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is not null
            || Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") is not null)
        {
            return;
        }

        _ = SetEnv("OMP_WAIT_POLICY", "PASSIVE", 0);
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
