using MoeDapr.Engine.Kernels;

namespace MoeDapr.Engine.Tests.Kernels;

/// <summary>A fact about the AVX2/FMA kernel itself: reported as skipped, not passed, on a CPU without it.</summary>
internal sealed class KernelFactAttribute : FactAttribute
{
    public KernelFactAttribute()
    {
        if (!SmallRowsLinear.IsSupported)
        {
            Skip = "the CPU lacks AVX2 or FMA";
        }
    }
}
