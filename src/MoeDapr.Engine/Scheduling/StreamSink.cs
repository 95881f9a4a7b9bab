using System.Threading.Channels;

namespace MoeDapr.Engine.Scheduling;

/// <summary>Streams a generating sequence's tokens to its reader; the channel completes with the last one or the failure.</summary>
internal sealed class StreamSink(int capacity) : ISequenceSink
{
    private readonly Channel<TokenOutput> _channel = Channel.CreateBounded<TokenOutput>(new BoundedChannelOptions(capacity + 1) { SingleWriter = true, SingleReader = true });

    public ChannelReader<TokenOutput> Reader => _channel.Reader;

    public void OnToken(Sequence sequence, TokenOutput output)
    {
        _channel.Writer.TryWrite(output);
        if (output.FinishReason is not null)
        {
            _channel.Writer.TryComplete();
        }
    }

    public void OnPrefilled(Sequence sequence, TokenOutput first, EngineKvHandle? kv) => OnToken(sequence, first);

    public void OnFailed(Sequence sequence, Exception error) => _channel.Writer.TryComplete(error);
}
