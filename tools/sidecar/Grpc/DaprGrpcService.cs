using System.Globalization;
using System.Text;
using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using MoeDapr.Sidecar.Hosting;
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
        var response = new BulkPublishResponse();
        foreach (var entry in request.Entries)
        {
            try
            {
                var metadata = new Dictionary<string, string>(request.Metadata, StringComparer.Ordinal);
                foreach (var (key, value) in entry.Metadata)
                {
                    metadata[key] = value;
                }

                await runtime.PublishAsync(request.PubsubName, request.Topic, entry.Event.ToByteArray(), entry.ContentType, metadata,
                    context.RequestHeaders.GetValue("traceparent"), context.CancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                response.FailedEntries.Add(new BulkPublishResponseFailedEntry { EntryId = entry.EntryId, Error = ex.Message });
            }
        }

        return response;
    }

    public async Task<GetStateResponse> GetState(GetStateRequest request, ServerCallContext context)
    {
        CheckToken(context);
        var store = Store(request.StoreName);
        var entry = await store.GetAsync(StateKeys.For(store, runtime.Options.AppId, request.Key), context.CancellationToken);
        return entry is null ? new GetStateResponse() : new GetStateResponse { Data = ByteString.CopyFrom(entry.Data), Etag = entry.Etag };
    }

    public async Task<GetBulkStateResponse> GetBulkState(GetBulkStateRequest request, ServerCallContext context)
    {
        CheckToken(context);
        var store = Store(request.StoreName);
        var response = new GetBulkStateResponse();
        foreach (var key in request.Keys)
        {
            var entry = await store.GetAsync(StateKeys.For(store, runtime.Options.AppId, key), context.CancellationToken);
            response.Items.Add(entry is null
                ? new BulkStateItem { Key = key }
                : new BulkStateItem { Key = key, Data = ByteString.CopyFrom(entry.Data), Etag = entry.Etag });
        }

        return response;
    }

    public async Task<Empty> SaveState(SaveStateRequest request, ServerCallContext context)
    {
        CheckToken(context);
        var store = Store(request.StoreName);
        foreach (var item in request.States)
        {
            try
            {
                await store.ExecuteAsync([ToOperation(store, StateOperationKind.Upsert, item)], context.CancellationToken);
            }
            catch (StateEtagMismatchException ex)
            {
                // Aborted is what DaprClient.TrySaveStateAsync reads as an etag conflict.
                throw new RpcException(new Status(StatusCode.Aborted,
                    $"failed saving state in state store {request.StoreName}: possible etag mismatch. error from state store: {ex.Message}"));
            }
        }

        return EmptyReply;
    }

    public async Task<Empty> DeleteState(DeleteStateRequest request, ServerCallContext context)
    {
        CheckToken(context);
        var store = Store(request.StoreName);
        var item = new StateItem { Key = request.Key, Etag = request.Etag, Options = request.Options };
        try
        {
            await store.ExecuteAsync([ToOperation(store, StateOperationKind.Delete, item)], context.CancellationToken);
        }
        catch (StateEtagMismatchException ex)
        {
            throw new RpcException(new Status(StatusCode.Aborted,
                $"failed deleting state with key {request.Key}: possible etag mismatch. error from state store: {ex.Message}"));
        }

        return EmptyReply;
    }

    public async Task<Empty> DeleteBulkState(DeleteBulkStateRequest request, ServerCallContext context)
    {
        CheckToken(context);
        var store = Store(request.StoreName);
        foreach (var item in request.States)
        {
            try
            {
                await store.ExecuteAsync([ToOperation(store, StateOperationKind.Delete, item)], context.CancellationToken);
            }
            catch (StateEtagMismatchException ex)
            {
                throw new RpcException(new Status(StatusCode.Aborted,
                    $"failed deleting state with key {item.Key}: possible etag mismatch. error from state store: {ex.Message}"));
            }
        }

        return EmptyReply;
    }

    public async Task<Empty> ExecuteStateTransaction(ExecuteStateTransactionRequest request, ServerCallContext context)
    {
        CheckToken(context);
        var store = Store(request.StoreName);
        var operations = request.Operations.Select(op => ToOperation(store, op.OperationType switch
        {
            "upsert" => StateOperationKind.Upsert,
            "delete" => StateOperationKind.Delete,
            var other => throw new RpcException(new Status(StatusCode.Unimplemented, $"operation type {other} not supported")),
        }, op.Request)).ToList();
        try
        {
            await store.ExecuteAsync(operations, context.CancellationToken);
        }
        catch (StateEtagMismatchException ex)
        {
            throw new RpcException(new Status(StatusCode.Aborted,
                $"error while executing state transaction: possible etag mismatch. error from state store: {ex.Message}"));
        }

        return EmptyReply;
    }

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

    private StateOperation ToOperation(IStateStore store, StateOperationKind kind, StateItem item)
    {
        if (string.IsNullOrEmpty(item.Key))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "state key cannot be empty"));
        }

        TimeSpan? ttl = null;
        if (item.Metadata.TryGetValue("ttlInSeconds", out var ttlText))
        {
            if (!double.TryParse(ttlText, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"metadata ttlInSeconds '{ttlText}' is not a number"));
            }

            ttl = TimeSpan.FromSeconds(seconds);
        }

        var concurrency = item.Options?.Concurrency ?? StateOptions.Types.StateConcurrency.ConcurrencyUnspecified;
        var etag = item.Etag?.Value;
        if (concurrency == StateOptions.Types.StateConcurrency.ConcurrencyLastWrite)
        {
            etag = null;
        }

        return new StateOperation(kind, StateKeys.For(store, runtime.Options.AppId, item.Key),
            kind == StateOperationKind.Upsert ? item.Value.ToByteArray() : null,
            string.IsNullOrEmpty(etag) ? null : etag,
            concurrency == StateOptions.Types.StateConcurrency.ConcurrencyFirstWrite, ttl);
    }

    private IStateStore Store(string name)
    {
        if (runtime.StateStores.Count == 0)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, "state store is not configured"));
        }

        return runtime.StateStores.TryGetValue(name, out var store)
            ? store
            : throw new RpcException(new Status(StatusCode.InvalidArgument, $"state store {name} is not found"));
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

/// <summary>Binds the Dapr runtime RPCs by hand: a Method per RPC with protobuf marshallers from the message parsers.</summary>
public sealed class DaprMethodProvider : IServiceMethodProvider<DaprGrpcService>
{
    private const string ServiceName = "dapr.proto.runtime.v1.Dapr";

    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<DaprGrpcService> context)
    {
        Add(context, "PublishEvent", PublishEventRequest.Parser, (s, r, c) => s.PublishEvent(r, c));
        Add(context, "BulkPublishEvent", BulkPublishRequest.Parser, (s, r, c) => s.BulkPublishEvent(r, c));
        Add(context, "BulkPublishEventAlpha1", BulkPublishRequest.Parser, (s, r, c) => s.BulkPublishEvent(r, c));
        Add(context, "GetState", GetStateRequest.Parser, (s, r, c) => s.GetState(r, c));
        Add(context, "GetBulkState", GetBulkStateRequest.Parser, (s, r, c) => s.GetBulkState(r, c));
        Add(context, "SaveState", SaveStateRequest.Parser, (s, r, c) => s.SaveState(r, c));
        Add(context, "DeleteState", DeleteStateRequest.Parser, (s, r, c) => s.DeleteState(r, c));
        Add(context, "DeleteBulkState", DeleteBulkStateRequest.Parser, (s, r, c) => s.DeleteBulkState(r, c));
        Add(context, "ExecuteStateTransaction", ExecuteStateTransactionRequest.Parser, (s, r, c) => s.ExecuteStateTransaction(r, c));
        Add(context, "GetMetadata", GetMetadataRequest.Parser, (s, r, c) => s.GetMetadata(r, c));
        Add(context, "SetMetadata", SetMetadataRequest.Parser, (s, r, c) => s.SetMetadata(r, c));
        Add(context, "Shutdown", ShutdownRequest.Parser, (s, r, c) => s.Shutdown(r, c));
    }

    private static void Add<TRequest, TResponse>(
        ServiceMethodProviderContext<DaprGrpcService> context,
        string name,
        MessageParser<TRequest> parser,
        Func<DaprGrpcService, TRequest, ServerCallContext, Task<TResponse>> handler)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>, new()
    {
        var responseParser = new MessageParser<TResponse>(() => new TResponse());
        var method = new Method<TRequest, TResponse>(
            MethodType.Unary,
            ServiceName,
            name,
            Marshallers.Create(m => m.ToByteArray(), parser.ParseFrom),
            Marshallers.Create(m => m.ToByteArray(), responseParser.ParseFrom));
        context.AddUnaryMethod(method, [], (service, request, callContext) => handler(service, request, callContext));
    }
}
