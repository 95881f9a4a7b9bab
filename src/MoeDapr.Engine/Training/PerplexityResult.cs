namespace MoeDapr.Engine.Training;

/// <summary>Token-level perplexity of a text: the tokens scored, their mean negative log-likelihood (nats) and exp of it.</summary>
public sealed record PerplexityResult(int Tokens, double MeanNll, double Perplexity, int Window);
