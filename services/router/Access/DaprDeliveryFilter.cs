using System.Security.Cryptography;
using System.Text;

namespace MoeDapr.Router.Access;

/// <summary>
/// Accepts pub/sub deliveries only from the app's own sidecar when Dapr's app token is set (<c>APP_API_TOKEN</c>):
/// daprd, and the local sidecar, send it as the <c>dapr-api-token</c> header. Without the token the route is as open as
/// the port it listens on.
/// </summary>
public sealed class DaprDeliveryFilter(IConfiguration configuration) : IEndpointFilter
{
    public const string TokenVariable = "APP_API_TOKEN";
    public const string TokenHeader = "dapr-api-token";

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var expected = configuration[TokenVariable];
        if (string.IsNullOrEmpty(expected))
        {
            return next(context);
        }

        var presented = context.HttpContext.Request.Headers[TokenHeader].ToString();
        var match = CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
        return match ? next(context) : ValueTask.FromResult<object?>(TypedResults.Unauthorized());
    }
}
