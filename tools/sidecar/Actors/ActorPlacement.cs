using System.Text;
using MoeDapr.Sidecar.Discovery;
using MoeDapr.Sidecar.Hosting;

namespace MoeDapr.Sidecar.Actors;

/// <summary>Where an actor id lives: rendezvous hashing over the live hosts of its type, the same answer on every sidecar.</summary>
public sealed class ActorPlacement(SidecarRuntime runtime)
{
    /// <summary>The host an actor id lives on, or null when no live sidecar hosts the type.</summary>
    public SidecarRecord? Of(string actorType, string actorId)
    {
        var hosts = runtime.Environment.Directory.ActorHosts(actorType);
        if (hosts.Count == 0)
        {
            return null;
        }

        return hosts.MaxBy(h => Hash($"{h.InstanceId}|{actorType}|{actorId}"));
    }

    /// <summary>True when this sidecar owns the id, or when no host of its type is known (nothing else could).</summary>
    public bool IsLocalOrUnplaced(string actorType, string actorId) =>
        Of(actorType, actorId) is not { } owner || owner.InstanceId == runtime.InstanceId;

    /// <summary>64-bit FNV-1a plus a finalizer: a stable hash across processes (string.GetHashCode is randomised per process).</summary>
    public static ulong Hash(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        // Murmur3's finalizer: FNV alone leaves the high bits to the common prefix, so one host would win every id.
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        hash *= 0xc4ceb9fe1a85ec53UL;
        hash ^= hash >> 33;
        return hash;
    }
}
