using System.Globalization;
using System.Text.Json;
using MoeDapr.Router.Serving;
using static MoeDapr.Router.Api.JsonFields;

namespace MoeDapr.Router.Api;

/// <summary>Bounds on the lists a request may carry, checked before their items are read; each breach is a 400 naming the field.</summary>
internal static class RequestBounds
{
    /// <summary>OpenAI's range for a <c>logit_bias</c> value.</summary>
    private const double MaxBias = 100;

    /// <summary><paramref name="array"/> when it holds at most <paramref name="max"/> items.</summary>
    internal static JsonElement Bounded(JsonElement array, int max, string param) =>
        array.GetArrayLength() <= max ? array : throw Invalid($"{param} may hold at most {max} items, got {array.GetArrayLength()}.", param);

    /// <summary>
    /// Checks <c>logit_bias</c> (token id → bias in [-100, 100]) when present. Sampling does not apply it yet, as before;
    /// the bounds keep a huge map from costing anything.
    /// </summary>
    internal static void LogitBias(JsonElement root, ServedModel model, int maxEntries)
    {
        if (Property(root, "logit_bias") is not { } bias)
        {
            return;
        }

        if (bias.ValueKind != JsonValueKind.Object)
        {
            throw WrongType("logit_bias", "an object mapping token ids to biases");
        }

        var count = 0;
        foreach (var entry in bias.EnumerateObject())
        {
            if (++count > maxEntries)
            {
                throw Invalid($"logit_bias may hold at most {maxEntries} entries.", "logit_bias");
            }

            if (!int.TryParse(Name(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id >= model.Tokenizer.VocabSize)
            {
                throw Invalid($"logit_bias keys must be token ids of this model (0 to {model.Tokenizer.VocabSize - 1}).", "logit_bias");
            }

            if (entry.Value.ValueKind != JsonValueKind.Number || !(entry.Value.GetDouble() is >= -MaxBias and <= MaxBias))
            {
                throw Invalid($"logit_bias values must be numbers in [{-MaxBias}, {MaxBias}].", "logit_bias");
            }
        }
    }

    private static string Name(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            throw Invalid("logit_bias keys must be token ids.", "logit_bias", InvalidText);
        }
    }
}
