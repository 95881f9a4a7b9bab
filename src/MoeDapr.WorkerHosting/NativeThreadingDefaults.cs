using System.Runtime.InteropServices;

namespace MoeDapr.WorkerHosting;

/// <summary>Settings for libtorch's OpenMP runtime that a worker process puts in its native environment before libtorch loads.</summary>
public static partial class NativeThreadingDefaults
{
    /// <summary>
    /// Sets <c>OMP_WAIT_POLICY=PASSIVE</c> unless the operator set it: libgomp otherwise keeps every thread of a parallel
    /// region spinning after it ends, and prefill, decode and any other engine on the machine then burn the cores the
    /// process that is computing needs (see docs/tuning.md for the measured effect). libgomp reads its settings once,
    /// when it loads, and .NET's Environment.SetEnvironmentVariable does not reach the native environment on Linux,
    /// so this goes through libc and must run before the first TorchSharp call.
    /// </summary>
    public static void Apply()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        // overwrite = 0: a value set by the operator or the manifest wins.
        _ = SetEnv("OMP_WAIT_POLICY", "PASSIVE", 0);
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
