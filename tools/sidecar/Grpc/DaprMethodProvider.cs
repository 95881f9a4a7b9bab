using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;

namespace MoeDapr.Sidecar.Grpc;

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
