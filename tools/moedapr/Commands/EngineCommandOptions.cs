using System.CommandLine;
using MoeDapr.Engine;

namespace MoeDapr.Cli.Commands;

/// <summary>Options and argument checks shared by the engine commands (logits, generate, eval perplexity, bench engine).</summary>
internal static class EngineCommandOptions
{
    public const int UsageError = 2;
    public const int Failure = 1;

    public static Option<string> Device() => new("--device") { Description = "auto (CUDA when present, else CPU), cpu, cuda or cuda:N.", DefaultValueFactory = _ => "auto" };

    public static Option<string> Dtype() => new("--dtype") { Description = "auto (fp32 on CPU, bf16 on CUDA), float32, bfloat16 or float16.", DefaultValueFactory = _ => "auto" };

    public static int Usage(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return UsageError;
    }

    public static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return Failure;
    }

    public static bool TryParseTokens(string text, string argument, out int[] tokens, out string error)
    {
        tokens = [];
        error = string.Empty;
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            error = $"{argument}: give at least one token id";
            return false;
        }

        var ids = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ids[i]))
            {
                error = $"{argument}: \"{parts[i]}\" is not a non-negative integer token id";
                return false;
            }
        }

        tokens = ids;
        return true;
    }

    /// <summary>Validates engine options, naming the CLI argument (--device, --dtype, …) that set the bad value.</summary>
    public static string? ValidateOptions(EngineOptions options, params (string Setting, string Argument)[] extra)
    {
        try
        {
            options.Validate();
            return null;
        }
        catch (ArgumentException e)
        {
            return Describe(e, extra);
        }
    }

    /// <summary>An engine option error as a CLI message that names the argument behind the setting.</summary>
    public static string Describe(ArgumentException error, params (string Setting, string Argument)[] extra)
    {
        var argument = error.ParamName switch
        {
            nameof(EngineOptions.Device) => "--device",
            nameof(EngineOptions.Dtype) => "--dtype",
            nameof(EngineOptions.ExpertParallelSize) => "--ep",
            nameof(EngineOptions.Threads) => "--threads",
            _ => extra.FirstOrDefault(x => x.Setting == error.ParamName).Argument ?? error.ParamName,
        };
        var message = error.Message.Split(" (Parameter", 2)[0];
        var setting = $"EngineOptions.{error.ParamName}: ";
        return $"{argument}: {(message.StartsWith(setting, StringComparison.Ordinal) ? message[setting.Length..] : message)}";
    }
}
