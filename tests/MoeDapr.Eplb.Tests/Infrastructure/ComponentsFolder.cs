namespace MoeDapr.Eplb.Tests.Infrastructure;

/// <summary>A resources folder with in-memory pub/sub and an in-memory actor state store for the local sidecar.</summary>
public sealed class ComponentsFolder : IDisposable
{
    public ComponentsFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "moedapr-eplb-tests", Guid.NewGuid().ToString("N"), "components");
        Directory.CreateDirectory(Path);
        File.WriteAllText(System.IO.Path.Combine(Path, "pubsub.yaml"), """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: pubsub
            spec:
              type: pubsub.in-memory
              version: v1
              metadata: []
            """);
        File.WriteAllText(System.IO.Path.Combine(Path, "statestore.yaml"), """
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
    }

    public string Path { get; }

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
