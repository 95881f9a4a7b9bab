namespace MoeDapr.Sidecar.Actors;

/// <summary>One active actor: its turn gate, the reentrancy chain holding the turn, the chain's depth and its last use.</summary>
internal sealed class ActorSlot
{
    public SemaphoreSlim Gate { get; } = new(1);

    public volatile string? ReentrancyId;

    public int Depth;

    public DateTimeOffset LastUsed;
}
