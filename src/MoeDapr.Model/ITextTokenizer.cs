namespace MoeDapr.Model;

/// <summary>Text ↔ token ids for one model, loaded from its <c>tokenizer.json</c>.</summary>
public interface ITextTokenizer
{
    int VocabSize { get; }

    /// <summary>Token id prepended to prompts when <c>addSpecialTokens</c> is set (Llama/Mixtral BOS); null when none.</summary>
    int? BosTokenId { get; }

    /// <summary>Token ids that end generation.</summary>
    IReadOnlyList<int> EosTokenIds { get; }

    /// <summary>Encodes text; special-token strings in the text (e.g. <c>&lt;|im_start|&gt;</c>) map to their ids.</summary>
    IReadOnlyList<int> Encode(string text, bool addSpecialTokens = true);

    /// <summary>Decodes ids to text; incomplete UTF-8 at the end is kept as U+FFFD.</summary>
    string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true);
}
