namespace MoeDapr.Prefill;

/// <summary>
/// What the load snapshot reports about this worker: sequences in flight, and per interval the busy fraction
/// and prompt tokens per second.
/// </summary>
public sealed class LoadMeter(TimeProvider time)
{
    private readonly Lock _lock = new();
    private int _running;
    private long _queuedTokens;
    private long _busySince;
    private TimeSpan _busy;
    private long _tokens;
    private long _intervalStart = time.GetTimestamp();

    public int Running
    {
        get
        {
            lock (_lock)
            {
                return _running;
            }
        }
    }

    /// <summary>Marks <paramref name="sequences"/> as in flight until the returned scope is disposed.</summary>
    public IDisposable Begin(int sequences, long promptTokens)
    {
        lock (_lock)
        {
            if (_running == 0)
            {
                _busySince = time.GetTimestamp();
            }

            _running += sequences;
            _queuedTokens += promptTokens;
        }

        return new Scope(this, sequences, promptTokens);
    }

    public void AddTokens(long tokens) => Interlocked.Add(ref _tokens, tokens);

    /// <summary>Busy fraction and tokens per second since the previous call; starts a new interval.</summary>
    public (double Utilization, double TokensPerSecond, int Running, long InFlightTokens) Sample()
    {
        lock (_lock)
        {
            var now = time.GetTimestamp();
            var busy = _busy + (_running > 0 ? time.GetElapsedTime(_busySince, now) : TimeSpan.Zero);
            var elapsed = time.GetElapsedTime(_intervalStart, now);
            _intervalStart = now;
            _busySince = now;
            _busy = TimeSpan.Zero;
            var tokens = Interlocked.Exchange(ref _tokens, 0);
            var seconds = Math.Max(elapsed.TotalSeconds, 1e-3);
            return (Math.Clamp(busy.TotalSeconds / seconds, 0, 1), tokens / seconds, _running, _queuedTokens);
        }
    }

    private void End(int sequences, long promptTokens)
    {
        lock (_lock)
        {
            _running -= sequences;
            _queuedTokens -= promptTokens;
            if (_running == 0)
            {
                _busy += time.GetElapsedTime(_busySince);
            }
        }
    }

    private sealed class Scope(LoadMeter meter, int sequences, long promptTokens) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                meter.End(sequences, promptTokens);
            }
        }
    }
}
