using MoeDapr.Router.Api.OpenAi;

namespace MoeDapr.Router.Api;

/// <summary>
/// Gives every bodiless error the routing produces (unknown route, wrong method) the OpenAI error body, as vLLM does:
/// clients parse <c>error.message</c> from any 4xx/5xx and an empty body makes them fail on the parse instead.
/// </summary>
public static class OpenAiStatusPages
{
    public static IApplicationBuilder UseOpenAiStatusPages(this IApplicationBuilder app) => app.UseStatusCodePages(async context =>
    {
        var http = context.HttpContext;
        var error = OpenAiErrors.ForStatus(http.Response.StatusCode, http.Request.Method, http.Request.Path.Value ?? "/");
        var body = new ErrorResponse(new ErrorBody(error.Message, error.Type, error.Param, error.Code));
        await http.Response.WriteAsJsonAsync(body, OpenAiJson.Options, http.RequestAborted);
    });
}
