using MoeDapr.Contracts;

namespace MoeDapr.Router.Generation;

/// <summary>Drops records (when publishing is switched off).</summary>
public sealed class NullCompletionSink : ICompletionSink
{
    public void Publish(CompletionRecord record)
    {
    }
}
