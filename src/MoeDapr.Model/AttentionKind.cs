namespace MoeDapr.Model;

/// <summary>How a decoder layer computes attention. Only grouped-query attention exists today; MLA comes later.</summary>
public enum AttentionKind
{
    GroupedQuery,
}
