using System.Text;
using MoeDapr.Model;
using MoeDapr.Router.Api.OpenAi;
using MoeDapr.Router.Generation;

namespace MoeDapr.Router.Api;

/// <summary>Collects a request's output: text (through <see cref="TextAssembler"/>), token ids and logprobs in both OpenAI shapes.</summary>
public sealed class OutputAccumulator(GenerationRequest request, ITextTokenizer tokenizer)
{
    private readonly TextAssembler _text = new(tokenizer, request.Sampling.StopStrings);
    private readonly List<int> _tokenIds = [];
    private readonly List<string> _tokens = [];
    private readonly List<float?> _tokenLogprobs = [];
    private readonly List<IReadOnlyDictionary<string, float>?> _top = [];
    private readonly List<int> _offsets = [];
    private readonly List<ChatTokenLogprob> _chat = [];
    private readonly StringBuilder _all = new();

    public IReadOnlyList<int> TokenIds => _tokenIds;

    public string Text => _all.ToString();

    /// <summary>A stop string ended the text.</summary>
    public bool Stopped => _text.Stopped;

    public OutputStep Add(GeneratedToken token)
    {
        var offset = _all.Length;
        var text = _text.Add(token.Sample.TokenId);
        _all.Append(text);
        _tokenIds.Add(token.Sample.TokenId);
        CompletionLogprobs? completion = null;
        ChatTokenLogprob? chat = null;
        if (request.Logprobs is not null)
        {
            var piece = TokenText(token.Sample.TokenId);
            var logprob = token.Sample.Logprob ?? 0f;
            if (request.Kind == ApiKind.Completion)
            {
                var top = token.Sample.TopLogprobs?.GroupBy(t => TokenText(t.TokenId)).ToDictionary(g => g.Key, g => g.First().Logprob);
                _tokens.Add(piece);
                _tokenLogprobs.Add(token.Sample.Logprob);
                _top.Add(top);
                _offsets.Add(offset);
                completion = new CompletionLogprobs([piece], [token.Sample.Logprob], [top], [offset]);
            }
            else
            {
                var top = (token.Sample.TopLogprobs ?? []).Select(t => new ChatTopLogprob(TokenText(t.TokenId), t.Logprob, Bytes(TokenText(t.TokenId)))).ToArray();
                chat = new ChatTokenLogprob(piece, logprob, Bytes(piece), top);
                _chat.Add(chat);
            }
        }

        return new OutputStep(text, token.Sample.TokenId, completion, chat);
    }

    /// <summary>Text held back until the end (a possible stop-string start, an incomplete character).</summary>
    public string Flush()
    {
        var rest = _text.Flush();
        _all.Append(rest);
        return rest;
    }

    public CompletionLogprobs? CompletionLogprobs =>
        request.Logprobs is null || request.Kind != ApiKind.Completion ? null : new CompletionLogprobs(_tokens, _tokenLogprobs, _top, _offsets);

    public ChatLogprobs? ChatLogprobs => request.Logprobs is null || request.Kind != ApiKind.Chat ? null : new ChatLogprobs(_chat);

    private string TokenText(int id) => tokenizer.Decode([id], skipSpecialTokens: false);

    private static int[] Bytes(string text) => Encoding.UTF8.GetBytes(text).Select(b => (int)b).ToArray();
}
