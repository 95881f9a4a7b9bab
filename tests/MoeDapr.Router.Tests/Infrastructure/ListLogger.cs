using Microsoft.Extensions.Logging;

namespace MoeDapr.Router.Tests.Infrastructure;

/// <summary>A logger that keeps what it was given, to assert on log lines.</summary>
public sealed class ListLogger<T> : ILogger<T>
{
    public List<(LogLevel Level, EventId Event, string Message)> Entries { get; } = [];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Entries)
        {
            Entries.Add((logLevel, eventId, formatter(state, exception)));
        }
    }
}
