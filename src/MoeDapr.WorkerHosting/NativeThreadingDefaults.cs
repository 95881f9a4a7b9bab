using System.Runtime.InteropServices;

namespace MoeDapr.WorkerHosting;

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
