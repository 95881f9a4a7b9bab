using MoeDapr.Router.Generation;

namespace MoeDapr.Router.Api;

/// <summary>
/// Reads a request body up to a limit. Too large is 413; Kestrel's own refusals (a body below the minimum data rate, a
/// malformed chunk) keep their 4xx; a client that goes away mid-body yields neither body nor error.
/// </summary>
internal static class RequestBodyReader
{
    internal static async Task<(ReadOnlyMemory<byte>? Body, ApiError? Error)> ReadAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return (null, TooLarge(maxBytes));
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    return (null, TooLarge(maxBytes));
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException ex)
        {
            var error = ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? TooLarge(maxBytes)
                : new ApiError(ex.StatusCode is >= 400 and < 500 ? ex.StatusCode : 400, $"The request body could not be read: {ex.Message}", ApiError.InvalidRequest, null, "invalid_body");
            return (null, error);
        }
        catch (IOException)
        {
            // The connection broke mid-body (a reset, an abort): no one is left to answer.
            return (null, null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return (null, null);
        }

        return (buffer.GetBuffer().AsMemory(0, (int)buffer.Length), null);
    }

    private static ApiError TooLarge(int maxBytes) =>
        new(StatusCodes.Status413PayloadTooLarge, $"The request body exceeds {maxBytes} bytes.", ApiError.InvalidRequest, null, "request_too_large");
}
