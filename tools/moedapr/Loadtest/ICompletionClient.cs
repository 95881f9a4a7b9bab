namespace MoeDapr.Cli.Loadtest;

/// <summary>Sends one completion request and reports what came back; never throws for server or network failures.</summary>
public interface ICompletionClient
{
    /// <summary>Sends <paramref name="prompt"/>; cancelling stops the request and reports it as failed.</summary>
    Task<CompletionResult> SendAsync(string prompt, CancellationToken cancellationToken);
}
