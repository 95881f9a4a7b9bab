namespace MoeDapr.Model.Tokenization;

/// <summary>A token of <c>added_tokens</c>: matched in the raw text before BPE (special ones are dropped when decoding skips specials).</summary>
public sealed record AddedToken(int Id, string Content, bool Special, bool LStrip = false, bool RStrip = false, bool SingleWord = false);
