namespace MoeDapr.Sidecar.State;

/// <summary>A state store component (state.redis, state.in-memory).</summary>
public interface IStateStore
{
    string Name { get; }

    string Type { get; }

    /// <summary>True when the component's metadata says actorStateStore: "true".</summary>
    bool IsActorStateStore { get; }

    /// <summary>How keys are prefixed: "appid" (default), "name", "none" or a fixed prefix.</summary>
    string KeyPrefix { get; }

    Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>Applies all operations or none; a failed etag check throws <see cref="StateEtagMismatchException"/>.</summary>
    Task ExecuteAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken);
}
