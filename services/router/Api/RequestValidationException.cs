using MoeDapr.Router.Generation;

namespace MoeDapr.Router.Api;

/// <summary>A request field failed validation: the client's 400.</summary>
internal sealed class RequestValidationException(ApiError error) : Exception(error.Message)
{
    public ApiError Error { get; } = error;
}
