using System.Threading.Channels;
using MoeDapr.Router.Diagnostics;
using MoeDapr.Router.Workers;

namespace MoeDapr.Router.Scheduling;

/// <summary>
/// Runs <see cref="Dispatcher.DispatchReady"/> whenever something may let waiting work go: a request admitted, a
/// snapshot or a finished call (the registry changed), and at a short poll for what no event announces (a worker's
/// cool-down ending, a snapshot going stale).
/// </summary>
public sealed class DispatchLoop : BackgroundService
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Dispatcher _dispatcher;
    private readonly TimeProvider _time;
    private readonly ILogger<DispatchLoop> _logger;

    public DispatchLoop(Dispatcher dispatcher, AdmissionGate gate, WorkerRegistry workers, TimeProvider time, ILogger<DispatchLoop> logger)
    {
        _dispatcher = dispatcher;
        _time = time;
        _logger = logger;
        gate.Admitted += Wake;
        workers.Changed += Wake;
    }

    private void Wake() => _wake.Writer.TryWrite(true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                _dispatcher.DispatchReady(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.DispatcherFailed(_logger, ex);
            }

            using var poll = new CancellationTokenSource(PollInterval, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(poll.Token, stoppingToken);
            try
            {
                await _wake.Reader.WaitToReadAsync(linked.Token);
                _wake.Reader.TryRead(out _);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
            }
        }
    }
}
