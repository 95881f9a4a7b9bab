using Microsoft.Extensions.Logging;

namespace MoeDapr.WorkerHosting;

/// <summary>Log messages of <see cref="EngineHost"/>.</summary>
internal static partial class EngineHostLog
{
    [LoggerMessage(100, LogLevel.Information, "Model {Path} ({ModelType}) loaded in {Seconds:F1} s")]
    public static partial void ModelLoaded(ILogger logger, string path, string modelType, double seconds);

    [LoggerMessage(101, LogLevel.Critical, "Model {Path} failed to load; stopping")]
    public static partial void ModelLoadFailed(ILogger logger, string path, Exception error);
}
