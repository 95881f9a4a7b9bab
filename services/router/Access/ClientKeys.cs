using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using MoeDapr.Router.Options;

namespace MoeDapr.Router.Access;

/// <summary>
/// The configured client keys. A lookup hashes the presented key and compares it with every key's hash in constant
/// time, so neither the answer's timing nor an early exit tells an attacker how much of a guess was right.
/// </summary>
public sealed class ClientKeys
{
    private readonly (byte[] Hash, ApiKeyOptions Key)[] _keys;

    public ClientKeys(IOptions<AccessOptions> options)
    {
        _keys = [.. options.Value.ApiKeys.Select(k => (Hash(k.Key), k))];
    }

    /// <summary>False when no key is configured: the client API is open.</summary>
    public bool Enabled => _keys.Length > 0;

    public int Count => _keys.Length;

    /// <summary>The key equal to <paramref name="presented"/>, or null.</summary>
    public ApiKeyOptions? Find(string presented)
    {
        var hash = Hash(presented);
        ApiKeyOptions? found = null;
        foreach (var (candidate, key) in _keys)
        {
            // No break: every lookup costs the same whichever key (if any) matches.
            if (CryptographicOperations.FixedTimeEquals(hash, candidate))
            {
                found = key;
            }
        }

        return found;
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
