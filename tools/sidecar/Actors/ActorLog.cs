using Microsoft.Extensions.Logging;
using MoeDapr.Sidecar.Hosting;

namespace MoeDapr.Sidecar.Actors;

/// <summary>The actor runtime's log messages.</summary>
internal static partial class ActorLog
{
    [LoggerMessage(EventId = LogEvents.NoActorStateStore, Level = LogLevel.Warning, Message = "app '{AppId}' hosts actors but no state store sets actorStateStore: \"true\"; actor state and reminders will fail")]
    public static partial void NoActorStore(ILogger logger, string appId);

    [LoggerMessage(EventId = LogEvents.ActorFireFailed, Level = LogLevel.Warning, Message = "actor {ActorType}/{ActorId}: {Method} failed (status {Status})")]
    public static partial void FireFailed(ILogger logger, Exception? exception, string actorType, string actorId, string method, int status);
}
