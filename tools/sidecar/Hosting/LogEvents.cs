namespace MoeDapr.Sidecar.Hosting;

/// <summary>Event ids of the sidecar's log messages: 1xxx runtime, 2xxx delivery, 3xxx components, 4xxx actors.</summary>
internal static class LogEvents
{
    public const int SidecarReady = 1001;

    public const int InitializationFailed = 1002;

    public const int AppHealthChanged = 1003;

    public const int UnknownPubSub = 2001;

    public const int NoRoute = 2002;

    public const int MessageDropped = 2003;

    public const int DeadLettered = 2004;

    public const int DeadLetterFailed = 2005;

    public const int RetriesExhausted = 2006;

    public const int RedisReadFailed = 3101;

    public const int RedisReclaimed = 3102;

    public const int NoActorStateStore = 4001;

    public const int ActorFireFailed = 4002;
}
