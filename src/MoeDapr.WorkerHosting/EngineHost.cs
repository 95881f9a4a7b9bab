using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MoeDapr.Engine;
using MoeDapr.Engine.Checkpoint;

namespace MoeDapr.WorkerHosting;

/// <summary>
/// Loads the checkpoint at <see cref="ModelLocation"/> (each service's <c>Model:Path</c>) in the background at start (the engine builds the model on its own
/// thread) and owns the engine until shutdown; the service is ready only once the model is loaded.
/// A model that fails to load stops the process, so whoever started it sees the failure.
/// </summary>
public sealed class EngineHost(
    ModelLocation model, EngineOptions engineOptions, IHostApplicationLifetime lifetime, ILogger<EngineHost> logger)
    : IHostedService, IHealthCheck, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private LoadedCheckpoint? _checkpoint;
    private volatile InferenceEngine? _engine;
    private volatile string _state = "loading";
    private Task? _loading;
    private int _disposed;

    /// <summary>The engine once loaded, else null.</summary>
    public InferenceEngine? Engine => _engine;

    /// <summary>The engine, or <see cref="EngineNotReadyException"/> while it loads.</summary>
    public InferenceEngine Require() => _engine ?? throw new EngineNotReadyException($"the model is {_state}");

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loading = Task.Run(LoadAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task LoadAsync()
    {
        var path = model.Path;
        try
        {
            var started = TimeProvider.System.GetTimestamp();
            _checkpoint = CheckpointLoader.Open(path);
            // The tokenizer lets the engine end sequences on their stop strings (and on the folder's EOS ids).
            var tokenizer = _checkpoint.Folder.HasTokenizer ? _checkpoint.Tokenizer : null;
            _engine = await InferenceEngine.CreateAsync(engineOptions, _checkpoint.Config, _checkpoint.Weights, tokenizer, cancellationToken: _stopping.Token);
            _state = "loaded";
            EngineHostLog.ModelLoaded(logger, path, _checkpoint.Config.ModelType, TimeProvider.System.GetElapsedTime(started).TotalSeconds);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            _state = "stopping";
        }
        catch (Exception e)
        {
            _state = "failed: " + e.Message;
            EngineHostLog.ModelLoadFailed(logger, path, e);
            lifetime.StopApplication();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // A host may stop this after disposing it (WebApplicationFactory does): stopping twice is a no-op.
        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync();
        }

        if (_loading is not null)
        {
            await _loading.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_engine is not null ? HealthCheckResult.Healthy("model loaded") : HealthCheckResult.Unhealthy("model " + _state));

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return; // hosts may dispose it twice (WebApplicationFactory's deferred host does)
        }

        if (_engine is { } engine)
        {
            _engine = null;
            await engine.DisposeAsync();
        }

        _checkpoint?.Dispose();
        await _stopping.CancelAsync();
        _stopping.Dispose();
    }
}
