using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace MoeDapr.Sidecar.Resources;

/// <summary>Reads Component, Subscription, Resiliency and Configuration resources from daprd's YAML files.</summary>
public static class ResourceLoader
{
    /// <summary>Loads every *.yaml / *.yml file under the paths (files or folders, not recursive, as daprd).</summary>
    public static ResourceSet Load(IEnumerable<string> resourcesPaths, string? configPath)
    {
        var set = new ResourceSet();
        foreach (var path in resourcesPaths)
        {
            IEnumerable<string> files = File.Exists(path)
                ? [path]
                : Directory.EnumerateFiles(path)
                    .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
                    .Order(StringComparer.Ordinal);
            foreach (var file in files)
            {
                LoadText(File.ReadAllText(file), file, set);
            }
        }

        if (configPath is not null)
        {
            var before = set.ConfigurationNames.Count;
            LoadText(File.ReadAllText(configPath), configPath, set);
            if (set.ConfigurationNames.Count == before)
            {
                throw new SidecarResourceException($"--config {configPath}: no 'kind: Configuration' resource in the file.");
            }
        }

        var duplicate = set.Components.GroupBy(c => c.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new SidecarResourceException(
                $"component name '{duplicate.Key}' is defined more than once ({string.Join(", ", duplicate.Select(c => c.Source))}).");
        }

        return set;
    }

    /// <summary>Parses the documents of one YAML text into the set.</summary>
    public static void LoadText(string yaml, string source, ResourceSet set)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            throw new SidecarResourceException($"{source}: malformed YAML at line {ex.Start.Line}, column {ex.Start.Column}: {ex.InnerException?.Message ?? ex.Message}");
        }

        foreach (var document in stream.Documents)
        {
            if (document.RootNode is YamlScalarNode { Value: null or "" })
            {
                continue;
            }

            if (document.RootNode is not YamlMappingNode root)
            {
                throw new SidecarResourceException($"{source}: a resource must be a YAML mapping (apiVersion, kind, metadata, spec).");
            }

            var kind = Scalar(root, "kind");
            switch (kind)
            {
                case "Component":
                    set.Components.Add(ParseComponent(root, source));
                    break;
                case "Subscription":
                    set.Subscriptions.Add(ParseSubscription(root, source));
                    break;
                case "Resiliency":
                    set.Resiliencies.Add(ParseResiliency(root, source));
                    break;
                case "Configuration":
                    set.ConfigurationNames.Add(Name(root, source));
                    break;
                case null:
                    throw new SidecarResourceException($"{source}: a resource has no 'kind'.");
                default:
                    // daprd ignores resource kinds it does not load from this folder (e.g. HTTPEndpoint); so do we.
                    break;
            }
        }
    }

    private static ComponentSpec ParseComponent(YamlMappingNode root, string source)
    {
        var name = Name(root, source);
        var spec = Mapping(root, "spec") ?? throw new SidecarResourceException($"{source}: component '{name}' has no 'spec'.");
        var type = Scalar(spec, "type") ?? throw new SidecarResourceException($"{source}: component '{name}' has no 'spec.type'.");
        var version = Scalar(spec, "version") ?? "v1";
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Child(spec, "metadata") is YamlSequenceNode items)
        {
            foreach (var item in items)
            {
                if (item is not YamlMappingNode entry || Scalar(entry, "name") is not { } key)
                {
                    throw new SidecarResourceException($"{source}: component '{name}': every spec.metadata entry needs a 'name'.");
                }

                if (Child(entry, "secretKeyRef") is not null)
                {
                    throw new SidecarResourceException($"{source}: component '{name}': metadata '{key}' uses secretKeyRef, which this sidecar does not resolve; give a 'value'.");
                }

                metadata[key] = Scalar(entry, "value") ?? "";
            }
        }
        else if (Child(spec, "metadata") is { } other and not YamlScalarNode { Value: null or "" })
        {
            throw new SidecarResourceException($"{source}: component '{name}': spec.metadata must be a list of {{name, value}} (line {other.Start.Line}).");
        }

        return new ComponentSpec(name, type, version, metadata, Scopes(root), source);
    }

    private static SubscriptionSpec ParseSubscription(YamlMappingNode root, string source)
    {
        var name = Name(root, source);
        var spec = Mapping(root, "spec") ?? throw new SidecarResourceException($"{source}: subscription '{name}' has no 'spec'.");
        var pubsub = Scalar(spec, "pubsubname") ?? throw new SidecarResourceException($"{source}: subscription '{name}' has no 'spec.pubsubname'.");
        var topic = Scalar(spec, "topic") ?? throw new SidecarResourceException($"{source}: subscription '{name}' has no 'spec.topic'.");
        var rules = new List<RouteRule>();
        string? defaultRoute = Scalar(spec, "route");
        if (Mapping(spec, "routes") is { } routes)
        {
            defaultRoute = Scalar(routes, "default") ?? defaultRoute;
            if (Child(routes, "rules") is YamlSequenceNode ruleNodes)
            {
                foreach (var node in ruleNodes.OfType<YamlMappingNode>())
                {
                    var path = Scalar(node, "path") ?? throw new SidecarResourceException($"{source}: subscription '{name}': a rule has no 'path'.");
                    rules.Add(new RouteRule(Scalar(node, "match") ?? "", path));
                }
            }
        }

        if (defaultRoute is null && rules.Count == 0)
        {
            throw new SidecarResourceException($"{source}: subscription '{name}' has neither 'spec.route' nor 'spec.routes'.");
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Mapping(spec, "metadata") is { } meta)
        {
            foreach (var (key, value) in meta.Children)
            {
                metadata[((YamlScalarNode)key).Value ?? ""] = (value as YamlScalarNode)?.Value ?? "";
            }
        }

        foreach (var rule in rules.Where(r => r.Match.Length > 0))
        {
            if (!MatchExpression.TryParse(rule.Match, out _, out var error))
            {
                throw new SidecarResourceException($"{source}: subscription '{name}': match '{rule.Match}': {error}");
            }
        }

        return new SubscriptionSpec(pubsub, topic, rules, defaultRoute, Scalar(spec, "deadLetterTopic"), metadata, Scopes(root), "declarative");
    }

    private static ResiliencySpec ParseResiliency(YamlMappingNode root, string source)
    {
        var name = Name(root, source);
        var spec = Mapping(root, "spec") ?? throw new SidecarResourceException($"{source}: resiliency '{name}' has no 'spec'.");
        var retries = new Dictionary<string, RetryPolicy>(StringComparer.Ordinal);
        if (Mapping(Mapping(spec, "policies"), "retries") is { } retryNodes)
        {
            foreach (var (keyNode, valueNode) in retryNodes.Children)
            {
                var policyName = ((YamlScalarNode)keyNode).Value ?? "";
                if (valueNode is not YamlMappingNode policy)
                {
                    throw new SidecarResourceException($"{source}: resiliency '{name}': retry policy '{policyName}' must be a mapping.");
                }

                var kind = Scalar(policy, "policy") ?? "constant";
                if (kind is not ("constant" or "exponential"))
                {
                    throw new SidecarResourceException($"{source}: resiliency '{name}': retry policy '{policyName}': policy '{kind}' must be constant or exponential.");
                }

                var duration = ParseDurationField(policy, "duration", kind == "constant" ? TimeSpan.FromSeconds(5) : TimeSpan.FromMilliseconds(500), source, policyName);
                var maxInterval = ParseDurationField(policy, "maxInterval", TimeSpan.FromSeconds(60), source, policyName);
                var maxRetriesText = Scalar(policy, "maxRetries");
                var maxRetries = -1;
                if (maxRetriesText is not null && !int.TryParse(maxRetriesText, NumberStyles.Integer, CultureInfo.InvariantCulture, out maxRetries))
                {
                    throw new SidecarResourceException($"{source}: resiliency '{name}': retry policy '{policyName}': maxRetries '{maxRetriesText}' is not an integer.");
                }

                retries[policyName] = new RetryPolicy(policyName, kind == "exponential", duration, maxInterval, maxRetries);
            }
        }

        var inbound = new Dictionary<string, string>(StringComparer.Ordinal);
        var outbound = new Dictionary<string, string>(StringComparer.Ordinal);
        var apps = new Dictionary<string, string>(StringComparer.Ordinal);
        var targets = Mapping(spec, "targets");
        if (Mapping(targets, "components") is { } components)
        {
            foreach (var (keyNode, valueNode) in components.Children)
            {
                var component = ((YamlScalarNode)keyNode).Value ?? "";
                if (Scalar(Mapping(valueNode as YamlMappingNode, "inbound"), "retry") is { } inRetry)
                {
                    inbound[component] = CheckPolicy(inRetry, retries, source, name);
                }

                if (Scalar(Mapping(valueNode as YamlMappingNode, "outbound"), "retry") is { } outRetry)
                {
                    outbound[component] = CheckPolicy(outRetry, retries, source, name);
                }
            }
        }

        if (Mapping(targets, "apps") is { } appNodes)
        {
            foreach (var (keyNode, valueNode) in appNodes.Children)
            {
                if (Scalar(valueNode as YamlMappingNode, "retry") is { } retry)
                {
                    apps[((YamlScalarNode)keyNode).Value ?? ""] = CheckPolicy(retry, retries, source, name);
                }
            }
        }

        return new ResiliencySpec(name, retries, inbound, outbound, apps, Scopes(root));
    }

    private static string CheckPolicy(string policy, Dictionary<string, RetryPolicy> retries, string source, string name) =>
        retries.ContainsKey(policy)
            ? policy
            : throw new SidecarResourceException($"{source}: resiliency '{name}': target refers to retry policy '{policy}', which spec.policies.retries does not define.");

    private static TimeSpan ParseDurationField(YamlMappingNode node, string key, TimeSpan fallback, string source, string policy)
    {
        var text = Scalar(node, key);
        if (text is null)
        {
            return fallback;
        }

        return DurationParser.TryParse(text, out var value)
            ? value
            : throw new SidecarResourceException($"{source}: retry policy '{policy}': {key} '{text}' is not a duration (e.g. 5s).");
    }

    private static string Name(YamlMappingNode root, string source) =>
        Scalar(Mapping(root, "metadata"), "name")
        ?? throw new SidecarResourceException($"{source}: a '{Scalar(root, "kind")}' resource has no metadata.name.");

    private static List<string> Scopes(YamlMappingNode root) =>
        Child(root, "scopes") is YamlSequenceNode scopes
            ? scopes.OfType<YamlScalarNode>().Select(s => s.Value ?? "").Where(s => s.Length > 0).ToList()
            : [];

    private static YamlNode? Child(YamlMappingNode? node, string key)
    {
        if (node is null)
        {
            return null;
        }

        foreach (var (k, v) in node.Children)
        {
            if (k is YamlScalarNode scalar && string.Equals(scalar.Value, key, StringComparison.Ordinal))
            {
                return v;
            }
        }

        return null;
    }

    private static YamlMappingNode? Mapping(YamlMappingNode? node, string key) => Child(node, key) as YamlMappingNode;

    private static string? Scalar(YamlMappingNode? node, string key) => (Child(node, key) as YamlScalarNode)?.Value;
}
