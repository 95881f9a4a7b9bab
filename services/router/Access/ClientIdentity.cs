using MoeDapr.Contracts;

namespace MoeDapr.Router.Access;

/// <summary>The client an API key identified, attached to its request as an HTTP feature.</summary>
/// <param name="Name">The key's holder, as configured.</param>
/// <param name="PriorityCeiling">The highest class its requests may get, and the class of those that ask for none.</param>
public sealed record ClientIdentity(string Name, RequestPriority PriorityCeiling)
{
    /// <summary><paramref name="requested"/> lowered to the key's class (a request may lower its class, never raise it).</summary>
    public RequestPriority Apply(RequestPriority? requested) =>
        requested is { } asked && asked > PriorityCeiling ? asked : PriorityCeiling;

    /// <summary>
    /// The priority header as this client's request will be classed, for decisions taken before the body is read; a
    /// header that names no class is returned as it is (the parser answers 400 for it).
    /// </summary>
    public string? ApplyToHeader(string? header)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return Apply(null).ToString();
        }

        return Enum.TryParse<RequestPriority>(header.Trim(), ignoreCase: true, out var asked) && Enum.IsDefined(asked)
            ? Apply(asked).ToString()
            : header;
    }
}
