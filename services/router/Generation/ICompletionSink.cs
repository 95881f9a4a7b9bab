using MoeDapr.Contracts;

namespace MoeDapr.Router.Generation;

/// <summary>Where finished requests are reported (pub/sub in production).</summary>
public interface ICompletionSink
{
    /// <summary>Reports without blocking the request; failures are logged, never thrown.</summary>
    void Publish(CompletionRecord record);
}
