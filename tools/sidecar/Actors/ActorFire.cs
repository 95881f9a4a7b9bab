namespace MoeDapr.Sidecar.Actors;

/// <summary>Fires a timer or reminder callback (<paramref name="method"/> such as "timer/t1") on the actor's current owner.</summary>
public delegate Task ActorFire(string actorType, string actorId, string method, byte[] payload);
