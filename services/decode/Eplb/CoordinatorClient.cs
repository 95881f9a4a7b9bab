using Dapr.Actors;
using Dapr.Actors.Client;
using MoeDapr.Contracts.Eplb;

namespace MoeDapr.Decode.Eplb;

/// <summary>Reaches the coordinator actor of a model through the Dapr sidecar (actor calls are HTTP, JSON bodies).</summary>
public sealed class CoordinatorClient(IConfiguration configuration)
{
    /// <summary>How long one actor call may take.</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    private readonly ActorProxyFactory _factory = new(ProxyOptions(configuration));

    /// <summary>The coordinator of <paramref name="model"/>.</summary>
    public IEplbCoordinatorActor For(string model) =>
        _factory.CreateActorProxy<IEplbCoordinatorActor>(new ActorId(model), EplbTopics.CoordinatorActorType);

    private static ActorProxyOptions ProxyOptions(IConfiguration configuration)
    {
        var options = new ActorProxyOptions
        {
            HttpEndpoint = SidecarHttpEndpoint(configuration),
            UseJsonSerialization = true,
            RequestTimeout = CallTimeout,
        };
        if (configuration["DAPR_API_TOKEN"] is { Length: > 0 } token)
        {
            options.DaprApiToken = token;
        }

        return options;
    }

    /// <summary><c>DAPR_HTTP_ENDPOINT</c>, else <c>http://127.0.0.1:$DAPR_HTTP_PORT</c> (3500 by default), as the Dapr SDKs do.</summary>
    public static string SidecarHttpEndpoint(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration["DAPR_HTTP_ENDPOINT"] is { Length: > 0 } endpoint
            ? endpoint.TrimEnd('/')
            : $"http://127.0.0.1:{configuration["DAPR_HTTP_PORT"] ?? "3500"}";
    }
}
