namespace MoeDapr.Contracts.KvTransfer;

/// <summary>Handles are 128-bit random values written as 32 lowercase hex digits; the socket plane sends the 16 bytes.</summary>
public static class KvHandle
{
    public static string New() => Guid.NewGuid().ToString("N");

    public static bool TryParse(string? handle, out Guid value)
    {
        value = default;
        return handle is { Length: 32 } && Guid.TryParseExact(handle, "N", out value);
    }

    public static string Format(Guid value) => value.ToString("N");
}
