using System.Text;
using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using MoeDapr.Sidecar.Hosting;
using MoeDapr.Sidecar.PubSub;
using MoeDapr.Sidecar.State;

namespace MoeDapr.Sidecar.Grpc;

/// <summary>
/// The gRPC service dapr.proto.runtime.v1.Dapr for the calls DaprClient makes over gRPC (publish, state, metadata,
/// shutdown). Dapr.Protos has no server base, so the methods are bound by <see cref="DaprMethodProvider"/>.
/// </summary>
public sealed class DaprGrpcService(SidecarRuntime runtime)
{
    private static readonly Empty EmptyReply = new();

    public async Task<Empty> PublishEvent(PublishEventRequest request, ServerCallContext context)
    {
        CheckToken(context);
        CheckPubSub(request.PubsubName);
        if (string.IsNullOrEmpty(request.Topic))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"topic is empty in pubsub {request.PubsubName}"));
        }

        try
        {
            await runtime.PublishAsync(request.PubsubName, request.Topic, request.Data.ToByteArray(), request.DataContentType,
                request.Metadata, context.RequestHeaders.GetValue("traceparent"), context.CancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not RpcException)
        {
            throw new RpcException(new Status(StatusCode.Internal, $"error when publish to topic {request.Topic} in pubsub {request.PubsubName}: {ex.Message}"));
        }

        return EmptyReply;
    }

    public async Task<BulkPublishResponse> BulkPublishEvent(BulkPublishRequest request, ServerCallContext context)
    {
        CheckToken(context);
        CheckPubSub(request.PubsubName);
        var failures = await runtime.PublishBulkAsync(request.PubsubName, request.Topic, request.Entries.Select(entry =>
        {
            // Entry metadata overrides the request's.
            var metadata = new Dictionary<string, string>(request.Metadata, StringComparer.Ordinal);
            foreach (var (key, value) in entry.Metadata)
            {
                metadata[key] = value;
            }

            return new BulkPublishEntry(entry.EntryId, entry.Event.ToByteArray(), entry.ContentType, metadata);
        }), context.RequestHeaders.GetValue("traceparent"), context.CancellationToken);
        var response = new BulkPublishResponse();
        response.FailedEntries.AddRange(failures.Select(f => new BulkPublishResponseFailedEntry { EntryId = f.EntryId, Error = f.Error }));
        return response;
    }

    public Task<GetStateResponse> GetState(GetStateRequest request, ServerCallContext context) => StateCall(context, request.StoreName, async store =>
    {
        var entry = await runtime.State.GetAsync(store, request.Key, context.CancellationToken);
        return entry is null ? new GetStateResponse() : new GetStateResponse { Data = ByteString.CopyFrom(entry.Data), Etag = entry.Etag };
    });

    public Task<GetBulkStateResponse> GetBulkState(GetBulkStateRequest request, ServerCallContext context) => StateCall(context, request.StoreName, async store =>
    {
        var response = new GetBulkStateResponse();
        foreach (var (key, entry) in await runtime.State.GetBulkAsync(store, request.Keys, context.CancellationToken))
        {
            response.Items.Add(entry is null
                ? new BulkStateItem { Key = key }
                : new BulkStateItem { Key = key, Data = ByteString.CopyFrom(entry.Data), Etag = entry.Etag });
        }

        return response;
    });

    public Task<Empty> SaveState(SaveStateRequest request, ServerCallContext context) => StateCall(context, request.StoreName, async store =>
    {
        await runtime.State.SaveAsync(store, request.States.Select(i => ToWrite(i, withValue: true)), context.CancellationToken);
        return EmptyReply;
    });

    public Task<Empty> DeleteState(DeleteStateRequest request, ServerCallContext context) => StateCall(context, request.StoreName, async store =>
    {
        var item = new StateItem { Key = request.Key, Etag = request.Etag, Options = request.Options };
        await runtime.State.DeleteAsync(store, [ToWrite(item, withValue: false)], context.CancellationToken);
        return EmptyReply;
    });

    public Task<Empty> DeleteBulkState(DeleteBulkStateRequest request, ServerCallContext context) => StateCall(context, request.StoreName, async store =>
    {
        await runtime.State.DeleteAsync(store, request.States.Select(i => ToWrite(i, withValue: false)), context.CancellationToken);
        return EmptyReply;
    });

    public Task<Empty> ExecuteStateTransaction(ExecuteStateTransactionRequest request, ServerCallContext context) => StateCall(context, request.StoreName, async store =>
    {
        var operations = request.Operations.Select(op => (StateService.OperationKind(op.OperationType), ToWrite(op.Request, withValue: true))).ToList();
        await runtime.State.TransactAsync(store, operations, context.CancellationToken);
        return EmptyReply;
    });

    public Task<GetMetadataResponse> GetMetadata(GetMetadataRequest request, ServerCallContext context)
    {
        CheckToken(context);
        var response = new GetMetadataResponse
        {
            Id = runtime.Options.AppId,
            RuntimeVersion = SidecarRuntime.RuntimeVersion,
            ActorRuntime = new ActorRuntime
            {
                RuntimeStatus = runtime.Actors.HostedTypes.Count > 0 ? ActorRuntime.Types.ActorRuntimeStatus.Running : ActorRuntime.Types.ActorRuntimeStatus.Initializing,
                HostReady = runtime.IsReady,
            },
        };
        foreach (var type in runtime.Actors.HostedTypes)
        {
            response.ActorRuntime.ActiveActors.Add(new ActiveActorsCount { Type = type, Count = runtime.Actors.ActiveCounts.GetValueOrDefault(type) });
        }

        foreach (var store in runtime.StateStores.Values)
        {
            response.RegisteredComponents.Add(new RegisteredComponents { Name = store.Name, Type = store.Type, Version = "v1" });
        }

        foreach (var pubsub in runtime.PubSubs.Values)
        {
            response.RegisteredComponents.Add(new RegisteredComponents { Name = pubsub.Name, Type = pubsub.Type, Version = "v1" });
        }

        foreach (var subscription in runtime.Subscriptions.Active)
        {
            var item = new PubsubSubscription
            {
                PubsubName = subscription.Spec.PubsubName,
                Topic = subscription.Spec.Topic,
                DeadLetterTopic = subscription.Spec.DeadLetterTopic ?? "",
                Rules = new PubsubSubscriptionRules(),
            };
            foreach (var (match, path) in subscription.Rules)
            {
                item.Rules.Rules.Add(new PubsubSubscriptionRule { Match = match?.ToString() ?? "", Path = path });
            }

            response.Subscriptions.Add(item);
        }

        foreach (var (key, value) in runtime.ExtendedMetadata)
        {
            response.ExtendedMetadata[key] = value;
        }

        return Task.FromResult(response);
    }

    public Task<Empty> SetMetadata(SetMetadataRequest request, ServerCallContext context)
    {
        CheckToken(context);
        runtime.ExtendedMetadata[request.Key] = request.Value;
        return Task.FromResult(EmptyReply);
    }

    public Task<Empty> Shutdown(ShutdownRequest request, ServerCallContext context)
    {
        CheckToken(context);
        runtime.RequestShutdown();
        return Task.FromResult(EmptyReply);
    }

    /// <summary>Checks the token, resolves the store and runs <paramref name="call"/>, mapping the state service's failures to statuses.</summary>
    private async Task<T> StateCall<T>(ServerCallContext context, string storeName, Func<IStateStore, Task<T>> call)
    {
        CheckToken(context);
        try
        {
            return await call(runtime.State.Store(storeName));
        }
        catch (StateRequestException ex)
        {
            var code = ex.Kind switch
            {
                StateRequestKind.StoreNotConfigured => StatusCode.FailedPrecondition,
                StateRequestKind.Unsupported => StatusCode.Unimplemented,
                // Aborted is what DaprClient.TrySaveStateAsync reads as an etag conflict.
                StateRequestKind.EtagMismatch => StatusCode.Aborted,
                _ => StatusCode.InvalidArgument,
            };
            throw new RpcException(new Status(code, ex.Message));
        }
    }

    private static StateWrite ToWrite(StateItem item, bool withValue)
    {
        var concurrency = (item.Options?.Concurrency ?? StateOptions.Types.StateConcurrency.ConcurrencyUnspecified) switch
        {
            StateOptions.Types.StateConcurrency.ConcurrencyFirstWrite => StateConcurrency.FirstWrite,
            StateOptions.Types.StateConcurrency.ConcurrencyLastWrite => StateConcurrency.LastWrite,
            _ => StateConcurrency.Unspecified,
        };
        return new StateWrite(item.Key, withValue ? item.Value.ToByteArray() : null, item.Etag?.Value, concurrency,
            item.Metadata.TryGetValue("ttlInSeconds", out var ttl) ? ttl : null);
    }

    private void CheckPubSub(string name)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "pubsub name is empty"));
        }

        if (!runtime.PubSubs.ContainsKey(name))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"pubsub {name} is not found"));
        }
    }

    private void CheckToken(ServerCallContext context)
    {
        if (runtime.Options.ApiToken is not { Length: > 0 } token)
        {
            return;
        }

        var given = context.RequestHeaders.GetValue("dapr-api-token");
        if (given is null)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "missing api token in request metadata"));
        }

        if (!string.Equals(given, token, StringComparison.Ordinal))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "authentication error: api token mismatch"));
        }
    }
}
