using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace MoeDapr.Contracts;

/// <summary>
/// The decode answer's wire format: newline-delimited JSON (<c>application/x-ndjson</c>), one
/// <see cref="DecodeStreamEvent"/> per line, UTF-8, each line flushed as soon as it is written so the router can
/// relay tokens as they are produced.
/// </summary>
public static class DecodeStream
{
    public const string ContentType = "application/x-ndjson";

    /// <summary>Longest accepted line; a longer one means a broken peer.</summary>
    public const int MaxLineBytes = 1 << 20;

    private static readonly byte[] NewLine = [(byte)'\n'];

    /// <summary>Writes one event as one line and flushes it.</summary>
    public static async Task WriteAsync(Stream body, DecodeStreamEvent streamEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(streamEvent, ContractJson.Options);
        await body.WriteAsync(bytes, cancellationToken);
        await body.WriteAsync(NewLine, cancellationToken);
        await body.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Reads events until the body ends. Throws <see cref="InvalidDataException"/> on a line that is not an event or
    /// is longer than <see cref="MaxLineBytes"/>. Whether the last event was done/error is the caller's check.
    /// </summary>
    public static async IAsyncEnumerable<DecodeStreamEvent> ReadAllAsync(Stream body, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var reader = PipeReader.Create(body, new StreamPipeReaderOptions(leaveOpen: true));
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken);
                var buffer = result.Buffer;
                while (TryReadLine(ref buffer, out var line))
                {
                    if (!IsBlank(line))
                    {
                        yield return Parse(line);
                    }
                }

                if (buffer.Length > MaxLineBytes)
                {
                    throw new InvalidDataException($"decode stream line longer than {MaxLineBytes} bytes");
                }

                if (result.IsCompleted)
                {
                    if (!IsBlank(buffer))
                    {
                        // A final line without its newline is still a whole JSON object or a cut-off one; Parse tells.
                        yield return Parse(buffer);
                    }

                    yield break;
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    private static bool TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        var newLine = buffer.PositionOf((byte)'\n');
        if (newLine is null)
        {
            line = default;
            return false;
        }

        line = buffer.Slice(0, newLine.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, newLine.Value));
        return true;
    }

    private static bool IsBlank(ReadOnlySequence<byte> line)
    {
        foreach (var segment in line)
        {
            foreach (var b in segment.Span)
            {
                if (b is not ((byte)' ' or (byte)'\r' or (byte)'\t'))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static DecodeStreamEvent Parse(ReadOnlySequence<byte> line)
    {
        try
        {
            var reader = new Utf8JsonReader(line);
            return JsonSerializer.Deserialize<DecodeStreamEvent>(ref reader, ContractJson.Options)
                ?? throw new InvalidDataException("decode stream line is null");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"decode stream line is not an event: {ex.Message}", ex);
        }
    }
}
