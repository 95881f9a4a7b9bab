using Microsoft.Extensions.Options;
using MoeDapr.Router.Options;

namespace MoeDapr.Router.Access;

/// <summary>
/// Lets the admin routes answer only on connections accepted by the admin listener (<c>Router:AdminPort</c>), judged by
/// the connection's local port, which a client cannot forge as it can the <c>Host</c> header; elsewhere they are 404.
/// </summary>
public sealed class AdminPortFilter(IOptions<AccessOptions> options) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var port = options.Value.AdminPort;
        return port > 0 && context.HttpContext.Connection.LocalPort == port
            ? next(context)
            : ValueTask.FromResult<object?>(TypedResults.NotFound());
    }
}
