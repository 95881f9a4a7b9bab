namespace MoeDapr.Model.Tokenization;

/// <summary>
/// A token pair packed into a long (left id in the high half), hashed with a multiplicative mix:
/// <c>long.GetHashCode</c> XORs the halves, so every pair with the same <c>left ^ right</c> would collide.
/// </summary>
internal sealed class PairKey : IEqualityComparer<long>
{
    public static PairKey Comparer { get; } = new();

    public static long Of(int left, int right) => ((long)left << 32) | (uint)right;

    public bool Equals(long x, long y) => x == y;

    public int GetHashCode(long obj) => (int)(((ulong)obj * 0x9E3779B97F4A7C15UL) >> 32);
}
