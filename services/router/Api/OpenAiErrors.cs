using MoeDapr.Router.Generation;

namespace MoeDapr.Router.Api;

/// <summary>The errors whose wording and type follow vLLM's server, so clients written against it see the same answers.</summary>
public static class OpenAiErrors
{
    /// <summary>vLLM's <c>type</c> for a 404 (the OpenAI clients raise <c>NotFoundError</c> on it).</summary>
    public const string NotFound = "NotFoundError";

    /// <summary>The <c>model</c> of a request names nothing this router serves (vLLM's wording, OpenAI's code).</summary>
    public static ApiError ModelNotFound(string requested) =>
        new(StatusCodes.Status404NotFound, $"The model `{requested}` does not exist.", NotFound, "model", "model_not_found");

    /// <summary>The body of a status the routing answered on its own (unknown route, wrong method).</summary>
    public static ApiError ForStatus(int status, string method, string path) => status switch
    {
        StatusCodes.Status404NotFound => new(status, $"No route {path}.", NotFound, null, "not_found"),
        StatusCodes.Status405MethodNotAllowed => new(status, $"Method {method} is not allowed on {path}.", "MethodNotAllowedError", null, "method_not_allowed"),
        StatusCodes.Status415UnsupportedMediaType => new(status, "The request body must be JSON.", ApiError.InvalidRequest, null, "unsupported_media_type"),
        >= 500 => new(status, "The server could not answer the request.", ApiError.ServerError),
        _ => new(status, $"The request to {path} failed with status {status}.", ApiError.InvalidRequest),
    };
}
