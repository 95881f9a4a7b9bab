namespace MoeDapr.Engine.Eplb;

/// <summary>The expert placement policies options can name.</summary>
public static class ExpertPlacementPolicies
{
    /// <summary>Every known policy name.</summary>
    public static IReadOnlyList<string> Names { get; } = [DeepSeekEplbPolicy.PolicyName];

    /// <summary>The policy called <paramref name="name"/> (case-insensitive); throws naming the known ones otherwise.</summary>
    public static IExpertPlacementPolicy Create(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (string.Equals(name, DeepSeekEplbPolicy.PolicyName, StringComparison.OrdinalIgnoreCase))
        {
            return new DeepSeekEplbPolicy();
        }

        throw new EplbInputException($"unknown expert placement policy '{name}' (known: {string.Join(", ", Names)}).");
    }
}
