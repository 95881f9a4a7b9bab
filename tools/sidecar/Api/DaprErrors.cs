using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace MoeDapr.Sidecar.Api;

/// <summary>daprd's HTTP error body: {"errorCode": "...", "message": "..."}.</summary>
public static class DaprErrors
{
    // daprd (Go) writes quotes and apostrophes in messages as they are.
    private static readonly JsonSerializerOptions Options = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = ErrorJson.Default,
    };

    public static async Task WriteAsync(HttpContext context, int status, string errorCode, string message)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new ErrorBody(errorCode, message), Options), context.RequestAborted);
    }

    public static IResult Result(int status, string errorCode, string message) =>
        Results.Json(new ErrorBody(errorCode, message), Options, statusCode: status);
}
