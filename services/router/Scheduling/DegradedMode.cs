using Microsoft.Extensions.Options;
using MoeDapr.Router.Options;

namespace MoeDapr.Router.Scheduling;

/// <summary>
/// The incident switch: starts from <c>Router:Degraded:Enabled</c>, follows configuration reloads, and can be flipped
/// at run time through <c>POST /admin/degraded</c> (the last change wins).
/// </summary>
public sealed class DegradedMode : IDisposable
{
    private readonly IDisposable? _subscription;
    private volatile DegradedOptions _options;
    private volatile bool _enabled;

    public DegradedMode(IOptionsMonitor<DegradedOptions> options)
    {
        _options = options.CurrentValue;
        _enabled = _options.Enabled;
        _subscription = options.OnChange(o =>
        {
            _options = o;
            _enabled = o.Enabled;
        });
    }

    public bool Enabled => _enabled;

    public int MaxBatchSize => _options.MaxBatchSize;

    public TimeSpan QueueTimeout => _options.QueueTimeout;

    public void Set(bool enabled) => _enabled = enabled;

    public void Dispose() => _subscription?.Dispose();
}
