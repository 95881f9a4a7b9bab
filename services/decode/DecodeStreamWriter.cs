using System.IO.Pipelines;
using System.Text.Json;
using System.Threading.Channels;
using MoeDapr.Contracts;

namespace MoeDapr.Decode;

/// <summary>
/// Writes one decode call's <see cref="DecodeStream"/> lines to the response from its own loop, so the generation loop
/// only enqueues: events that are ready together (tokens that queued while a flush was on the wire) go out in one
/// flush, and each line is serialised straight into the response's pipe (no per-line array, one write per line).
/// The queue is bounded by the call's event count (max tokens plus the closing events), so enqueueing never waits.
/// </summary>
public sealed class DecodeStreamWriter : IAsyncDisposable
{
    private readonly PipeWriter _body;
    private readonly Channel<DecodeStreamEvent> _events;
    private readonly CancellationToken _callerGone;
    private readonly Utf8JsonWriter _json;
    private readonly Task _pump;

    /// <param name="body">The response's pipe.</param>
    /// <param name="maxEvents">Events the call can produce (tokens plus a done or error line).</param>
    /// <param name="callerGone">The caller closing the call.</param>
    public DecodeStreamWriter(PipeWriter body, int maxEvents, CancellationToken callerGone)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxEvents);
        _body = body;
        _callerGone = callerGone;
        _events = Channel.CreateBounded<DecodeStreamEvent>(new BoundedChannelOptions(maxEvents) { SingleReader = true, SingleWriter = true, AllowSynchronousContinuations = true });
        _json = new Utf8JsonWriter(body, new JsonWriterOptions { SkipValidation = true });
        _pump = Task.Run(PumpAsync, CancellationToken.None);
    }

    /// <summary>Flushes to the caller so far (one flush can carry several lines).</summary>
    public int Flushes { get; private set; }

    /// <summary>Queues one event; throws what ended the stream (the caller gone) once it cannot be written any more.</summary>
    public async Task EmitAsync(DecodeStreamEvent streamEvent)
    {
        if (_events.Writer.TryWrite(streamEvent))
        {
            return;
        }

        try
        {
            await _events.Writer.WriteAsync(streamEvent, _callerGone);
        }
        catch (ChannelClosedException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
        }
    }

    /// <summary>Ends the stream: waits until every queued line is flushed (or the caller is gone, which it rethrows).</summary>
    public async Task CompleteAsync()
    {
        _events.Writer.TryComplete();
        await _pump;
    }

    private async Task PumpAsync()
    {
        var reader = _events.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_callerGone))
            {
                while (reader.TryRead(out var streamEvent))
                {
                    JsonSerializer.Serialize(_json, streamEvent, ContractJson.Options);
                    _json.Flush();
                    _json.Reset();
                    _body.GetSpan(1)[0] = (byte)'\n';
                    _body.Advance(1);
                }

                FlushResult flushed;
                try
                {
                    flushed = await _body.FlushAsync(_callerGone);
                }
                catch (IOException e)
                {
                    throw new DecodeStreamClosedException(e);
                }

                Flushes++;
                if (flushed.IsCanceled || flushed.IsCompleted)
                {
                    throw new DecodeStreamClosedException(null);
                }
            }
        }
        catch (Exception e)
        {
            _events.Writer.TryComplete(e);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _events.Writer.TryComplete();
        try
        {
            await _pump;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The caller is gone; nothing is left to deliver.
        }

        await _json.DisposeAsync();
    }
}
