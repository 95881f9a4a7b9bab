namespace MoeDapr.Cli.Bench;

/// <summary>Batch shape and threads of <c>moedapr bench eplb</c>: sequences decoded together, output and prompt tokens each, TorchSharp threads (0 = default).</summary>
internal sealed record EplbBenchSettings(int Batch, int Tokens, int Prompt, int Threads);
