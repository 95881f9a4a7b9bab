namespace MoeDapr.Model;

/// <summary>A model folder, config or checkpoint file is malformed; the message names the file and the defect.</summary>
public sealed class ModelFormatException : Exception
{
    public ModelFormatException(string message)
        : base(message)
    {
    }

    public ModelFormatException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
