namespace MoeDapr.Model;

/// <summary>One tensor a checkpoint must hold: its Hugging Face name and shape.</summary>
public sealed record TensorSpec(string Name, long[] Shape)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}]";
}
