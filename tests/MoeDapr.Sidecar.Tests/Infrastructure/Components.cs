namespace MoeDapr.Sidecar.Tests.Infrastructure;

/// <summary>Writes a resources folder for a test: in-memory or Redis components, with short redelivery times.</summary>
public sealed class Components : IDisposable
{
    private Components(string path) => Path = path;

    public string Path { get; }

    /// <summary>"memory" or "redis" (then redisHost is required).</summary>
    public static Components Create(string kind, string? redisHost = null, int maxRetries = 3)
    {
        var dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "moedapr-sidecar-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var redisMeta = $"""
                - name: redisHost
                  value: "{redisHost}"
            """;
        File.WriteAllText(System.IO.Path.Combine(dir, "pubsub.yaml"), kind == "redis"
            ? $"""
              apiVersion: dapr.io/v1alpha1
              kind: Component
              metadata:
                name: pubsub
              spec:
                type: pubsub.redis
                version: v1
                metadata:
              {redisMeta}
                  - name: processingTimeout
                    value: 1s
                  - name: redeliverInterval
                    value: 200ms
                  - name: concurrency
                    value: "4"
              """
            : """
              apiVersion: dapr.io/v1alpha1
              kind: Component
              metadata:
                name: pubsub
              spec:
                type: pubsub.in-memory
                version: v1
                metadata: []
              """);
        File.WriteAllText(System.IO.Path.Combine(dir, "statestore.yaml"), kind == "redis"
            ? $"""
              apiVersion: dapr.io/v1alpha1
              kind: Component
              metadata:
                name: statestore
              spec:
                type: state.redis
                version: v1
                metadata:
              {redisMeta}
                  - name: actorStateStore
                    value: "true"
              """
            : """
              apiVersion: dapr.io/v1alpha1
              kind: Component
              metadata:
                name: statestore
              spec:
                type: state.in-memory
                version: v1
                metadata:
                  - name: actorStateStore
                    value: "true"
              """);
        File.WriteAllText(System.IO.Path.Combine(dir, "resiliency.yaml"), $"""
            apiVersion: dapr.io/v1alpha1
            kind: Resiliency
            metadata:
              name: test-resiliency
            spec:
              policies:
                retries:
                  quick:
                    policy: constant
                    duration: 20ms
                    maxRetries: {maxRetries}
              targets:
                components:
                  pubsub:
                    inbound:
                      retry: quick
            """);
        return new Components(dir);
    }

    public void Write(string fileName, string yaml) => File.WriteAllText(System.IO.Path.Combine(Path, fileName), yaml);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Temp folder; leftovers are harmless.
        }
    }
}
