using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MoeDapr.Router.Tests.Infrastructure;

namespace MoeDapr.Router.Tests.Functional;

public sealed class AccessLoggingTests
{
    private const int OpenApiEvent = 1021;

    [Fact]
    public async Task Start_WithoutKeys_SaysOnceThatTheApiIsOpen()
    {
        var events = new ConcurrentQueue<int>();
        using var factory = new RouterFactory { ConfigureServices = services => services.AddSingleton<ILoggerProvider>(new EventIdRecorder(events)) };
        using var client = factory.CreateClient();

        for (var i = 0; i < 3; i++)
        {
            using var _ = await client.GetAsync("/v1/models");
        }

        Assert.Equal(1, events.Count(id => id == OpenApiEvent));
    }

    [Fact]
    public async Task Start_WithKeys_DoesNotSayTheApiIsOpen()
    {
        var events = new ConcurrentQueue<int>();
        using var factory = new RouterFactory(new Dictionary<string, string?> { ["Router:ApiKeys:0:Key"] = "sk-logging-0123456789", ["Router:ApiKeys:0:Name"] = "logging" })
        {
            ConfigureServices = services => services.AddSingleton<ILoggerProvider>(new EventIdRecorder(events)),
        };
        using var client = factory.CreateClient();

        using var _ = await client.GetAsync("/v1/models");

        Assert.DoesNotContain(OpenApiEvent, events);
    }

    private sealed class EventIdRecorder(ConcurrentQueue<int> events) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Recorder(events);

        public void Dispose()
        {
        }

        private sealed class Recorder(ConcurrentQueue<int> events) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                events.Enqueue(eventId.Id);
        }
    }
}
