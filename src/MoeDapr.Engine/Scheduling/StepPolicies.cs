namespace MoeDapr.Engine.Scheduling;

/// <summary>The step policies by name.</summary>
public static class StepPolicies
{
    public const string Alternate = "alternate";
    public const string PrefillFirst = "prefill-first";

    /// <summary>The names <see cref="Create"/> knows.</summary>
    public static IReadOnlyList<string> Names { get; } = [Alternate, PrefillFirst];

    /// <summary>The policy called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No policy has that name.</exception>
    public static IStepPolicy Create(string name) => name switch
    {
        Alternate => new AlternateStepPolicy(),
        PrefillFirst => new PrefillFirstStepPolicy(),
        _ => throw new ArgumentException($"no step policy is called \"{name}\" (known: {string.Join(", ", Names)})", nameof(name)),
    };
}
