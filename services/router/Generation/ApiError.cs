namespace MoeDapr.Router.Generation;

/// <summary>An OpenAI error answer: HTTP status, <c>type</c>, <c>param</c>, <c>code</c>.</summary>
public sealed record ApiError(int Status, string Message, string Type = ApiError.InvalidRequest, string? Param = null, string? Code = null)
{
    public const string InvalidRequest = "invalid_request_error";
    public const string ServerError = "server_error";
    public const string Overloaded = "overloaded_error";

    /// <summary>Seconds for the <c>Retry-After</c> header; null for none.</summary>
    public int? RetryAfterSeconds { get; init; }

    public static ApiError BadRequest(string message, string? param = null, string? code = null) => new(400, message, InvalidRequest, param, code);
}
