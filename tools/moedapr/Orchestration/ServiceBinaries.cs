using System.Diagnostics;

namespace MoeDapr.Cli.Orchestration;

/// <summary>
/// Finds the built service assemblies. Looked up in order: <c>MOEDAPR_SERVICES_DIR</c> (a folder holding one
/// subfolder per service, as a publish lays them out), a <c>services/</c> folder next to the CLI, and the build
/// output of a repository checkout above the CLI (<c>services/&lt;name&gt;/bin/&lt;Configuration&gt;/net10.0</c>).
/// </summary>
public sealed class ServiceBinaries
{
    /// <summary>Service folder name and assembly of every service <c>moedapr up</c> starts.</summary>
    public static readonly IReadOnlyDictionary<string, string> Assemblies = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["router"] = "MoeDapr.Router.dll",
        ["prefill"] = "MoeDapr.Prefill.dll",
        ["decode"] = "MoeDapr.Decode.dll",
        ["kv-transfer"] = "MoeDapr.KvTransfer.dll",
        ["sidecar"] = "moedapr-sidecar.dll",
    };

    private readonly Func<string, string?> _locate;

    private ServiceBinaries(string description, Func<string, string?> locate, string? repositoryRoot, string configuration = "Release")
    {
        Description = description;
        _locate = locate;
        RepositoryRoot = repositoryRoot;
        Configuration = configuration;
    }

    /// <summary>The build configuration looked for in a checkout.</summary>
    public string Configuration { get; }

    /// <summary>Where the binaries are looked for, for messages.</summary>
    public string Description { get; }

    /// <summary>The checkout the CLI runs from, when it runs from one.</summary>
    public string? RepositoryRoot { get; }

    /// <summary>The assembly of <paramref name="service"/>, or null when it is not built.</summary>
    public string? Find(string service) => _locate(service);

    /// <summary>Binaries laid out as <c>DIR/{service}/{assembly}</c> (an install, or a test's stand-ins).</summary>
    public static ServiceBinaries InFolder(string dir, string? description = null) =>
        new(description ?? dir, s => Existing(Path.Combine(dir, s, Assemblies[s])), null);

    /// <summary>The lookup for this process (see the type summary).</summary>
    public static ServiceBinaries Discover(string? configuration = null)
    {
        if (Environment.GetEnvironmentVariable("MOEDAPR_SERVICES_DIR") is { Length: > 0 } dir)
        {
            return InFolder(dir, $"MOEDAPR_SERVICES_DIR={dir}");
        }

        var beside = Path.Combine(AppContext.BaseDirectory, "services");
        if (Directory.Exists(beside))
        {
            return new ServiceBinaries(beside, s => Existing(Path.Combine(beside, s, Assemblies[s])), null);
        }

        var root = FindRepositoryRoot(AppContext.BaseDirectory)
            ?? throw new DirectoryNotFoundException(
                $"no service binaries found: set MOEDAPR_SERVICES_DIR, put a services/ folder next to {AppContext.BaseDirectory}, or run from a MoeDapr checkout");
        configuration ??= CurrentConfiguration();
        return new ServiceBinaries(
            $"{root} (build output, {configuration})",
            s => Existing(Path.Combine(root, ProjectFolder(s), "bin", configuration, "net10.0", Assemblies[s])),
            root,
            configuration);
    }

    /// <summary>Builds the services whose output is missing, when running from a checkout; throws naming what is missing otherwise.</summary>
    public async Task EnsureBuiltAsync(Action<string> say, CancellationToken cancellationToken, IEnumerable<string>? services = null)
    {
        var missing = (services ?? Assemblies.Keys).Where(s => Find(s) is null).ToArray();
        if (missing.Length == 0)
        {
            return;
        }

        if (RepositoryRoot is not { } root)
        {
            throw new FileNotFoundException($"not built: {string.Join(", ", missing)} (looked in {Description})");
        }

        say($"Building {string.Join(", ", missing)} (their output is missing; this happens once) ...");
        foreach (var service in missing)
        {
            var project = ProjectPath(root, service);
            if (!File.Exists(project))
            {
                throw new FileNotFoundException($"{service}: project {project} is not in this checkout");
            }

            using var build = Process.Start(new ProcessStartInfo("dotnet", ["build", project, "-c", Configuration, "-nologo", "-v", "quiet"]) { UseShellExecute = false })
                ?? throw new InvalidOperationException("could not start dotnet build");
            await build.WaitForExitAsync(cancellationToken);
            if (build.ExitCode != 0 || Find(service) is null)
            {
                throw new InvalidOperationException($"building {project} failed (exit code {build.ExitCode})");
            }
        }
    }

    /// <summary>The project file of <paramref name="service"/> in a checkout.</summary>
    public static string ProjectPath(string root, string service) => service switch
    {
        "sidecar" => Path.Combine(root, "tools", "sidecar", "MoeDapr.Sidecar.csproj"),
        _ => Path.Combine(root, "services", service, Path.GetFileNameWithoutExtension(Assemblies[service]) + ".csproj"),
    };

    /// <summary>The folder above <paramref name="start"/> that holds MoeDapr.sln, or null.</summary>
    public static string? FindRepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MoeDapr.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    private static string ProjectFolder(string service) => service == "sidecar" ? Path.Combine("tools", "sidecar") : Path.Combine("services", service);

    /// <summary>Debug or Release: the configuration this process was built in (its output path says).</summary>
    public static string CurrentConfiguration()
    {
        var parts = AppContext.BaseDirectory.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        var bin = Array.LastIndexOf(parts, "bin");
        return bin >= 0 && bin + 1 < parts.Length ? parts[bin + 1] : "Debug";
    }

    private static string? Existing(string path) => File.Exists(path) ? path : null;
}
