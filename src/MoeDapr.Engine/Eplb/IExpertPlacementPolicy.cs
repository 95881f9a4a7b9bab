namespace MoeDapr.Engine.Eplb;

/// <summary>Decides which logical expert every physical expert slot holds, from observed expert loads.</summary>
public interface IExpertPlacementPolicy
{
    /// <summary>The name options pick the policy by (e.g. <c>deepseek</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Places the experts of every layer. Throws <see cref="EplbInputException"/> when the topology does not fit
    /// the loads (the message names the rule broken).
    /// </summary>
    ExpertPlacement Place(ExpertLoadMatrix loads, EplbTopology topology);
}
