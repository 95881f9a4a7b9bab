namespace MoeDapr.Engine.Eplb;

/// <summary>Loads or topology given to an expert placement policy break a rule; the message names the rule.</summary>
public sealed class EplbInputException : ArgumentException
{
    public EplbInputException(string message)
        : base(message)
    {
    }

    public EplbInputException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public EplbInputException()
    {
    }
}
