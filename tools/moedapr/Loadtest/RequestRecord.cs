namespace MoeDapr.Cli.Loadtest;

/// <summary>One arrival of a run and how it ended.</summary>
/// <param name="Index">Arrival number, from 0.</param>
/// <param name="ScheduledMs">When the schedule wanted it sent, from the start of the run.</param>
/// <param name="SentMs">When it was sent (equal to or a little after <paramref name="ScheduledMs"/>).</param>
/// <param name="PromptWords">Prompt length in words.</param>
/// <param name="Result">The outcome and timings.</param>
public sealed record RequestRecord(int Index, double ScheduledMs, double SentMs, int PromptWords, CompletionResult Result);
