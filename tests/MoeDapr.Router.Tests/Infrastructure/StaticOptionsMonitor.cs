using Microsoft.Extensions.Options;

namespace MoeDapr.Router.Tests.Infrastructure;

/// <summary>Options that never change, for types that follow reloads.</summary>
public sealed class StaticOptionsMonitor<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue => value;

    public T Get(string? name) => value;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}
