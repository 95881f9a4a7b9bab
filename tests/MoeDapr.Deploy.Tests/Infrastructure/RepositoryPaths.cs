namespace MoeDapr.Deploy.Tests.Infrastructure;

/// <summary>Paths inside the repository checkout the tests run from.</summary>
internal static class RepositoryPaths
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    /// <summary>The folder that holds MoeDapr.sln.</summary>
    public static string Root => RootPath.Value;

    public static string Deploy => Path.Combine(Root, "deploy");

    public static string Kubernetes => Path.Combine(Deploy, "k8s");

    public static string PrometheusDir => Path.Combine(Deploy, "prometheus");

    public static string Grafana => Path.Combine(Deploy, "grafana");

    public static string Docs => Path.Combine(Root, "docs");

    /// <summary>Dapr components shared by `dapr run` and the local sidecar (owned by the sidecar work).</summary>
    public static string Components => Path.Combine(Root, "components");

    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MoeDapr.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No MoeDapr.sln above {AppContext.BaseDirectory}.");
    }
}
