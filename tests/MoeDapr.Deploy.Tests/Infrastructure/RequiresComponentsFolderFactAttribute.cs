namespace MoeDapr.Deploy.Tests.Infrastructure;

/// <summary>
/// A fact that compares deploy/ with the repository's components/ folder; it is skipped, saying why, only
/// while that folder is absent from the checkout (it is written on another branch).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RequiresComponentsFolderFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when components/ is missing.</summary>
    public RequiresComponentsFolderFactAttribute()
    {
        if (!Directory.Exists(RepositoryPaths.Components))
        {
            Skip = "components/ is not in this checkout yet: the check of deploy/ against the Dapr component files runs once it is.";
        }
    }
}
