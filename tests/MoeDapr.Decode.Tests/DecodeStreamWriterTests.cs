using System.IO.Pipelines;
using MoeDapr.Contracts;
using MoeDapr.Decode;

namespace MoeDapr.Decode.Tests;

/// <summary>The decode call's stream writer: every line arrives, in order, and lines that queue up share a flush.</summary>
public sealed class DecodeStreamWriterTests
{
    private static DecodeStreamEvent Token(int index) => DecodeStreamEvent.ForToken(index, new TokenSample { TokenId = 1000 + index });

    private static async Task<List<DecodeStreamEvent>> ReadAllAsync(PipeReader reader)
    {
        var events = new List<DecodeStreamEvent>();
        await foreach (var e in DecodeStream.ReadAllAsync(reader.AsStream(), CancellationToken.None))
        {
            events.Add(e);
        }

        return events;
    }

    [Fact]
    public async Task EmitAsync_TokensThenDone_ArriveInOrderAndTheStreamCompletes()
    {
        var pipe = new Pipe();
        var reading = ReadAllAsync(pipe.Reader);
        await using (var writer = new DecodeStreamWriter(pipe.Writer, 205, CancellationToken.None))
        {
            for (var i = 0; i < 200; i++)
            {
                await writer.EmitAsync(Token(i));
            }

            await writer.EmitAsync(DecodeStreamEvent.ForDone(FinishReason.Length, 7, 200, 0));
            await writer.CompleteAsync();
        }

        await pipe.Writer.CompleteAsync();
        var events = await reading;

        Assert.Equal(201, events.Count);
        Assert.Equal(Enumerable.Range(0, 200), events.Take(200).Select(e => e.Index!.Value));
        Assert.Equal(Enumerable.Range(1000, 200), events.Take(200).Select(e => e.Token!.TokenId));
        Assert.Equal(DecodeEventKind.Done, events[^1].Kind);
        Assert.Equal(200, events[^1].CompletionTokens);
    }

    [Fact]
    public async Task EmitAsync_WhileAFlushIsStillOnTheWire_LaterLinesShareOneFlush()
    {
        // The pipe pushes back after one unread byte: the first flush waits for the reader, as a slow socket would.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1, resumeWriterThreshold: 1));
        await using var writer = new DecodeStreamWriter(pipe.Writer, 60, CancellationToken.None);
        for (var i = 0; i < 50; i++)
        {
            await writer.EmitAsync(Token(i));
        }

        var reading = ReadAllAsync(pipe.Reader);
        await writer.CompleteAsync();
        await pipe.Writer.CompleteAsync();
        var events = await reading;

        Assert.Equal(Enumerable.Range(0, 50), events.Select(e => e.Index!.Value));
        Assert.InRange(writer.Flushes, 1, 2);
    }

    [Fact]
    public async Task CompleteAsync_CallerGone_ThrowsCancellation()
    {
        var pipe = new Pipe();
        using var callerGone = new CancellationTokenSource();
        await using var writer = new DecodeStreamWriter(pipe.Writer, 8, callerGone.Token);
        await callerGone.CancelAsync();

        var failure = await Record.ExceptionAsync(async () =>
        {
            await writer.EmitAsync(Token(0));
            await writer.CompleteAsync();
        });

        Assert.IsAssignableFrom<OperationCanceledException>(failure);
    }

    [Fact]
    public async Task CompleteAsync_ReaderClosedBeforeTheCallerTokenFires_ThrowsStreamClosed()
    {
        var pipe = new Pipe();
        using var callerGone = new CancellationTokenSource();
        await using var writer = new DecodeStreamWriter(pipe.Writer, 8, callerGone.Token);
        await pipe.Reader.CompleteAsync(); // the connection ends; the request's token has not been cancelled yet

        var failure = await Record.ExceptionAsync(async () =>
        {
            await writer.EmitAsync(Token(0));
            await writer.CompleteAsync();
        });

        Assert.IsType<DecodeStreamClosedException>(failure);
        Assert.False(callerGone.IsCancellationRequested);
    }
}
