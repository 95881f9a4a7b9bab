using Microsoft.Extensions.Options;
using MoeDapr.Contracts;

namespace MoeDapr.Decode;

/// <summary>Settings of the decode worker: the shared ones (<see cref="EngineWorkerOptions"/>) and its own <c>Worker</c> settings.</summary>
public sealed class DecodeOptions() : EngineWorkerOptions(AppIds.Decode)
{
    /// <summary><c>Worker:ExpertLogInterval</c>: how often the "Expert usage" line is logged; zero turns it off.</summary>
    public TimeSpan ExpertLogInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary><c>Worker:CompletionQueue</c>: completion records waiting to be published; the oldest are dropped beyond it.</summary>
    public int CompletionQueue { get; set; } = 1024;
}
