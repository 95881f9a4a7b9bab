namespace MoeDapr.Deploy.Tests.Kustomize;

/// <summary>The kustomize subset the manifest tests rely on, checked on small hand-made kustomizations.</summary>
public sealed class KustomizeRendererTests : IDisposable
{
    private const string BaseDeployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: decode
          labels:
            app.kubernetes.io/name: decode
        spec:
          replicas: 2
          selector:
            matchLabels:
              app.kubernetes.io/name: decode
          template:
            metadata:
              labels:
                app.kubernetes.io/name: decode
            spec:
              tolerations:
                - key: old
                  operator: Exists
              affinity:
                podAntiAffinity:
                  preferredDuringSchedulingIgnoredDuringExecution:
                    - weight: 100
                      podAffinityTerm:
                        topologyKey: kubernetes.io/hostname
                        labelSelector:
                          matchLabels:
                            app.kubernetes.io/name: decode
              containers:
                - name: decode
                  image: moedapr/decode:1
                  env:
                    - name: A
                      value: "1"
                  resources:
                    limits:
                      cpu: "4"
                      memory: 8Gi
                - name: helper
                  image: helper:1
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: decode
        spec:
          selector:
            app.kubernetes.io/name: decode
          ports:
            - port: 5102
        ---
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: pubsub
        spec:
          type: pubsub.redis
          metadata:
            - name: redisHost
              value: redis:6379
            - name: maxLenApprox
              value: "100"
        """;

    private readonly string _root = Directory.CreateTempSubdirectory("moedapr-kustomize-").FullName;

    public KustomizeRendererTests()
    {
        Write("base/kustomization.yaml", "resources:\n  - all.yaml\n");
        Write("base/all.yaml", BaseDeployment);
    }

    [Fact]
    public void Render_StrategicMergePatch_MergesContainersAndEnvByNameAndReplacesTolerations()
    {
        Write("overlay/kustomization.yaml", "resources:\n  - ../base\npatches:\n  - path: gpu.yaml\n");
        Write("overlay/gpu.yaml", """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: decode
            spec:
              replicas: null
              template:
                spec:
                  tolerations:
                    - key: nvidia.com/gpu
                      operator: Exists
                  containers:
                    - name: decode
                      env:
                        - name: B
                          value: "2"
                      resources:
                        limits:
                          nvidia.com/gpu: "1"
            """);

        var decode = Deployment(KustomizeRenderer.Render(Dir("overlay")));

        Assert.Null(Yaml.Get(decode, "spec", "replicas"));
        var containers = Yaml.Seq(decode, "spec", "template", "spec", "containers");
        Assert.Equal(["decode", "helper"], containers.Select(c => Yaml.Scalar(c, "name")));
        Assert.Equal(["A", "B"], Yaml.Seq(containers[0], "env").Select(e => Yaml.Scalar(e, "name")));
        Assert.Equal("8Gi", Yaml.Scalar(containers[0], "resources", "limits", "memory"));
        Assert.Equal("1", Yaml.Scalar(containers[0], "resources", "limits", "nvidia.com/gpu"));
        Assert.Equal(["nvidia.com/gpu"], Yaml.Seq(decode, "spec", "template", "spec", "tolerations").Select(t => Yaml.Scalar(t, "key")));
    }

    [Fact]
    public void Render_CustomResourcePatch_MergesListItemsByName()
    {
        Write("overlay/kustomization.yaml", "resources:\n  - ../base\npatches:\n  - path: redis.yaml\n");
        Write("overlay/redis.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: pubsub
            spec:
              metadata:
                - name: redisHost
                  value: redis.dev:6379
            """);

        var component = KustomizeRenderer.Render(Dir("overlay")).Single(o => Yaml.Scalar(o, "kind") == "Component");

        var metadata = Yaml.Seq(component, "spec", "metadata");
        Assert.Equal(["redisHost", "maxLenApprox"], metadata.Select(m => Yaml.Scalar(m, "name")));
        Assert.Equal("redis.dev:6379", Yaml.Scalar(metadata[0], "value"));
    }

    [Fact]
    public void Render_NamespaceAndCommonLabels_ReachObjectsSelectorsTemplatesAndAffinity()
    {
        Write("overlay/kustomization.yaml", """
            namespace: moedapr-test
            commonLabels:
              moedapr.io/variant: test
            resources:
              - ../base
            """);

        var objects = KustomizeRenderer.Render(Dir("overlay"));
        var decode = Deployment(objects);
        var service = objects.Single(o => Yaml.Scalar(o, "kind") == "Service");

        Assert.All(objects, o => Assert.Equal("moedapr-test", Yaml.Scalar(o, "metadata", "namespace")));
        Assert.All(objects, o => Assert.Equal("test", Yaml.Scalar(o, "metadata", "labels", "moedapr.io/variant")));
        Assert.Equal("test", Yaml.Scalar(decode, "spec", "selector", "matchLabels", "moedapr.io/variant"));
        Assert.Equal("test", Yaml.Scalar(decode, "spec", "template", "metadata", "labels", "moedapr.io/variant"));
        var term = Yaml.Seq(decode, "spec", "template", "spec", "affinity", "podAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution")[0];
        Assert.Equal("test", Yaml.Scalar(term, "podAffinityTerm", "labelSelector", "matchLabels", "moedapr.io/variant"));
        Assert.Equal("test", Yaml.Scalar(service, "spec", "selector", "moedapr.io/variant"));
    }

    [Fact]
    public void Render_FieldOutsideSubset_ThrowsNamingTheField()
    {
        Write("overlay/kustomization.yaml", "resources:\n  - ../base\nnamePrefix: dev-\n");

        var error = Assert.Throws<NotSupportedException>(() => KustomizeRenderer.Render(Dir("overlay")));

        Assert.Contains("namePrefix", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_PatchWithoutTarget_ThrowsNamingTheObject()
    {
        Write("overlay/kustomization.yaml", "resources:\n  - ../base\npatches:\n  - path: p.yaml\n");
        Write("overlay/p.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: prefil\nspec:\n  replicas: 1\n");

        var error = Assert.Throws<InvalidDataException>(() => KustomizeRenderer.Render(Dir("overlay")));

        Assert.Contains("apps/Deployment/prefil", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_SameObjectTwice_ThrowsNamingTheObject()
    {
        Write("twice/kustomization.yaml", "resources:\n  - ../base\n  - ../base/all.yaml\n");

        var error = Assert.Throws<InvalidDataException>(() => KustomizeRenderer.Render(Dir("twice")));

        Assert.Contains("apps/Deployment/decode", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static YamlMappingNode Deployment(IEnumerable<YamlMappingNode> objects) =>
        objects.Single(o => Yaml.Scalar(o, "kind") == "Deployment");

    private string Dir(string name) => Path.Combine(_root, name);

    private void Write(string relative, string content)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }
}
