using System.Text.Json;
using MoeDapr.Router.Api.OpenAi;
using MoeDapr.Router.Generation;
using MoeDapr.Router.Serving;
using static MoeDapr.Router.Api.JsonFields;

namespace MoeDapr.Router.Api;

/// <summary>
/// vLLM's <c>POST /tokenize</c> (a prompt, or chat messages through the chat template) and <c>POST /detokenize</c>,
/// with its request and response shapes; the same tokenizer and template as the completion routes, so the counts agree.
/// </summary>
public static class TokenizeApi
{
    /// <summary>A tokenize or detokenize body above this is refused (far above a full context of token ids).</summary>
    public const int MaxBodyBytes = 4 << 20;

    public static IEndpointRouteBuilder MapTokenizeApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/tokenize", Tokenize);
        app.MapPost("/detokenize", Detokenize);
        return app;
    }

    public static async Task<IResult> Tokenize(HttpContext context, ServedModel model) =>
        await WithBodyAsync(context, model, root =>
        {
            IReadOnlyList<int> ids;
            if (Has(root, "messages"))
            {
                var addGenerationPrompt = OptionalBool(root, "add_generation_prompt") ?? true;
                var addSpecial = OptionalBool(root, "add_special_tokens") ?? false; // the template writes BOS itself
                ids = PromptReader.ChatPrompt(root, model, addGenerationPrompt, addSpecial);
            }
            else
            {
                var prompt = RequiredString(root, "prompt");
                ids = model.Tokenizer.Encode(prompt, addSpecialTokens: OptionalBool(root, "add_special_tokens") ?? true);
            }

            IReadOnlyList<string>? pieces = OptionalBool(root, "return_token_strs") == true
                ? ids.Select(id => model.Tokenizer.Decode([id], skipSpecialTokens: false)).ToArray()
                : null;
            return TypedResults.Json(new TokenizeResponse(ids.Count, model.ContextLength, ids, pieces), OpenAiJson.Options);
        });

    public static async Task<IResult> Detokenize(HttpContext context, ServedModel model) =>
        await WithBodyAsync(context, model, root =>
        {
            var tokens = Property(root, "tokens") ?? throw Invalid("tokens is required.", "tokens", "missing_required_parameter");
            if (tokens.ValueKind != JsonValueKind.Array)
            {
                throw WrongType("tokens", "an array of token ids");
            }

            var ids = PromptReader.TokenIds(tokens, "tokens", model);
            return TypedResults.Json(new DetokenizeResponse(model.Tokenizer.Decode(ids)), OpenAiJson.Options);
        });

    private static async Task<IResult> WithBodyAsync(HttpContext context, ServedModel model, Func<JsonElement, IResult> handle)
    {
        if (context.Request.ContentLength > MaxBodyBytes)
        {
            return CompletionsApi.Error(context, ApiError.BadRequest($"The request body exceeds {MaxBodyBytes} bytes.", null, "body_too_large"));
        }

        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(context.Request.Body, new JsonDocumentOptions { MaxDepth = 32 }, context.RequestAborted);
        }
        catch (JsonException ex)
        {
            return CompletionsApi.Error(context, ApiError.BadRequest($"The request body is not valid JSON: {ex.Message}", null, "invalid_json"));
        }

        using (document)
        {
            var root = document.RootElement;
            try
            {
                if (root.ValueKind != JsonValueKind.Object)
                {
                    throw Invalid("The request body must be a JSON object.", null, "invalid_type");
                }

                // vLLM makes model optional here; when present it must be one of the served names.
                if (OptionalString(root, "model") is { } requested && !model.Serves(requested))
                {
                    return CompletionsApi.Error(context, OpenAiErrors.ModelNotFound(requested));
                }

                return handle(root);
            }
            catch (RequestValidationException ex)
            {
                return CompletionsApi.Error(context, ex.Error);
            }
        }
    }
}
