using System.Text.Json;
using Microsoft.Extensions.Options;
using MoeDapr.Contracts;
using MoeDapr.Router.Access;
using MoeDapr.Router.Api.OpenAi;
using MoeDapr.Router.Generation;
using MoeDapr.Router.Options;
using MoeDapr.Router.Serving;

namespace MoeDapr.Router.Api;

/// <summary>The OpenAI-compatible routes: <c>/v1/completions</c>, <c>/v1/chat/completions</c>, <c>/v1/models</c>.</summary>
public static class CompletionsApi
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    public static IEndpointRouteBuilder MapCompletionsApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1");
        v1.MapPost("/completions", CreateCompletion);
        v1.MapPost("/chat/completions", CreateChatCompletion);
        v1.MapGet("/models", ListModels);
        return app;
    }

    public static Task<IResult> CreateCompletion(HttpContext context, ServedModel model, GenerationService generation, TimeProvider time, UnknownFieldLog unknownFields) =>
        HandleAsync(ApiKind.Completion, context, model, generation, time, unknownFields);

    public static Task<IResult> CreateChatCompletion(HttpContext context, ServedModel model, GenerationService generation, TimeProvider time, UnknownFieldLog unknownFields) =>
        HandleAsync(ApiKind.Chat, context, model, generation, time, unknownFields);

    /// <summary>One card per served name, all of the same checkpoint (<c>root</c>), as vLLM lists them.</summary>
    public static IResult ListModels(ServedModel model) =>
        TypedResults.Json(new ModelList("list", [.. model.Names.Select(name =>
            new ModelCard(name, "model", model.Created.ToUnixTimeSeconds(), "moedapr", model.ContextLength) { Root = model.Root })]), OpenAiJson.Options);

    /// <summary>The OpenAI error body with its status (and <c>Retry-After</c> when set).</summary>
    public static IResult Error(HttpContext context, ApiError error)
    {
        if (error.RetryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return TypedResults.Json(new ErrorResponse(new ErrorBody(error.Message, error.Type, error.Param, error.Code)), OpenAiJson.Options, statusCode: error.Status);
    }

    private static async Task<IResult> HandleAsync(
        ApiKind kind, HttpContext context, ServedModel model, GenerationService generation, TimeProvider time, UnknownFieldLog unknownFields)
    {
        var arrivedAt = time.GetTimestamp();
        var aborted = context.RequestAborted;
        var limits = context.RequestServices.GetRequiredService<IOptions<RequestLimitsOptions>>().Value;
        var (body, unreadable) = await RequestBodyReader.ReadAsync(context.Request, limits.MaxRequestBodyBytes, aborted);
        if (body is null)
        {
            return unreadable is null ? TypedResults.Empty : Error(context, unreadable);
        }

        // A client key caps the priority class before anything is decided on it.
        var client = context.Features.Get<ClientIdentity>();
        var priorityHeader = context.Request.Headers[MoeDaprHeaders.Priority].FirstOrDefault();
        priorityHeader = client is null ? priorityHeader : client.ApplyToHeader(priorityHeader);
        if (generation.RefuseEarly(body.Value.Span, priorityHeader) is { } refused)
        {
            return Error(context, refused);
        }

        var (request, invalid) = OpenAiRequestParser.Parse(kind, body.Value, model, priorityHeader, limits, client, unknownFields);
        if (invalid is not null)
        {
            return Error(context, invalid);
        }

        var id = (kind == ApiKind.Chat ? "chatcmpl-" : "cmpl-") + RequestIds.ForGeneration(context);
        context.Response.Headers[MoeDaprHeaders.RequestId] = id;
        GenerationSession? session;
        ApiError? error;
        try
        {
            (session, error) = await generation.StartAsync(request!, id, arrivedAt, aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return TypedResults.Empty;
        }

        if (session is null)
        {
            return Error(context, error!);
        }

        await using (session)
        {
            var created = time.GetUtcNow().ToUnixTimeSeconds();
            var output = new OutputAccumulator(request!, model.Tokenizer);
            var answer = new Answer(id, created, request!.Model, request, session, output);
            if (request!.Stream)
            {
                await StreamAsync(context, answer, aborted);
                return TypedResults.Empty;
            }

            try
            {
                await foreach (var token in session.ReadTokensAsync(aborted))
                {
                    output.Add(token);
                    if (output.Stopped)
                    {
                        session.ClientFinishReason = FinishReason.Stop;
                        break;
                    }
                }
            }
            catch (GenerationFailedException ex)
            {
                return Error(context, new ApiError(502, ex.Message, ApiError.ServerError));
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                return TypedResults.Empty;
            }

            output.Flush();
            return TypedResults.Json(answer.Whole(), OpenAiJson.Options);
        }
    }

    private static async Task StreamAsync(HttpContext context, Answer answer, CancellationToken aborted)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        try
        {
            if (answer.First() is { } first)
            {
                await WriteEventAsync(response, first, aborted);
            }

            try
            {
                await foreach (var token in answer.Session.ReadTokensAsync(aborted))
                {
                    var step = answer.Output.Add(token);
                    if (answer.Chunk(step) is { } chunk)
                    {
                        await WriteEventAsync(response, chunk, aborted);
                    }

                    if (answer.Output.Stopped)
                    {
                        answer.Session.ClientFinishReason = FinishReason.Stop;
                        break;
                    }
                }
            }
            catch (GenerationFailedException ex)
            {
                await WriteEventAsync(response, new ErrorResponse(new ErrorBody(ex.Message, ApiError.ServerError, null, null)), aborted);
                await response.Body.WriteAsync(Done, aborted);
                return;
            }

            await WriteEventAsync(response, answer.Last(answer.Output.Flush()), aborted);
            if (answer.Request.IncludeUsage)
            {
                await WriteEventAsync(response, answer.UsageChunk(), aborted);
            }

            await response.Body.WriteAsync(Done, aborted);
            await response.Body.FlushAsync(aborted);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && aborted.IsCancellationRequested)
        {
            // The client went away; disposing the session closes the decode call.
        }
    }

    private static async Task WriteEventAsync(HttpResponse response, object payload, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync(DataPrefix, cancellationToken);
        await response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(payload, payload.GetType(), OpenAiJson.Options), cancellationToken);
        await response.Body.WriteAsync(EventEnd, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    /// <summary>Builds the response objects of one request in its route's shape.</summary>
    private sealed record Answer(string Id, long Created, string Model, GenerationRequest Request, GenerationSession Session, OutputAccumulator Output)
    {
        private bool Chat => Request.Kind == ApiKind.Chat;

        private string? Finish => FinishReasons.ToOpenAi(Session.ClientFinishReason ?? Session.FinishReason);

        public Usage Usage() => new(Session.PromptTokens, Session.CompletionTokens, Session.PromptTokens + Session.CompletionTokens)
        {
            PromptTokensDetails = Session.CachedTokens > 0 ? new PromptTokensDetails(Session.CachedTokens) : null,
        };

        public object Whole() => Chat
            ? new ChatCompletionResponse(Id, "chat.completion", Created, Model,
                [new ChatChoice(0, new ChatMessageOut("assistant", Output.Text), Output.ChatLogprobs, Finish) { PromptTokenIds = PromptIds, TokenIds = Ids(Output.TokenIds) }],
                Usage())
            : new CompletionResponse(Id, "text_completion", Created, Model,
                [new CompletionChoice(0, Output.Text, Output.CompletionLogprobs, Finish) { PromptTokenIds = PromptIds, TokenIds = Ids(Output.TokenIds) }],
                Usage());

        /// <summary>Chat streams open with the assistant role; completions need no opening chunk.</summary>
        public object? First() => Chat
            ? new ChatCompletionChunk(Id, "chat.completion.chunk", Created, Model,
                [new ChatChunkChoice(0, new ChatDelta { Role = "assistant", Content = string.Empty }, null, null) { PromptTokenIds = PromptIds }], null)
            : null;

        /// <summary>The chunk for one token, or null when it adds nothing the client asked for yet.</summary>
        public object? Chunk(OutputStep step)
        {
            if (step.Text.Length == 0 && !Request.ReturnTokenIds && Request.Logprobs is null)
            {
                return null;
            }

            IReadOnlyList<int>? ids = Request.ReturnTokenIds ? [step.TokenId] : null;
            return Chat
                ? new ChatCompletionChunk(Id, "chat.completion.chunk", Created, Model,
                    [new ChatChunkChoice(0, new ChatDelta { Content = step.Text }, step.ChatLogprob is null ? null : new ChatLogprobs([step.ChatLogprob]), null) { TokenIds = ids }], null)
                : new CompletionResponse(Id, "text_completion", Created, Model,
                    [new CompletionChoice(0, step.Text, step.CompletionLogprobs, null) { TokenIds = ids, PromptTokenIds = Session.CompletionTokens == 1 ? PromptIds : null }], null);
        }

        public object Last(string rest) => Chat
            ? new ChatCompletionChunk(Id, "chat.completion.chunk", Created, Model,
                [new ChatChunkChoice(0, rest.Length == 0 ? new ChatDelta() : new ChatDelta { Content = rest }, null, Finish) { TokenIds = Request.ReturnTokenIds ? [] : null }], null)
            : new CompletionResponse(Id, "text_completion", Created, Model,
                [new CompletionChoice(0, rest, null, Finish) { TokenIds = Request.ReturnTokenIds ? [] : null }], null);

        public object UsageChunk() => Chat
            ? new ChatCompletionChunk(Id, "chat.completion.chunk", Created, Model, [], Usage())
            : new CompletionResponse(Id, "text_completion", Created, Model, [], Usage());

        private IReadOnlyList<int>? PromptIds => Request.ReturnTokenIds ? Request.PromptTokenIds : null;

        private IReadOnlyList<int>? Ids(IReadOnlyList<int> ids) => Request.ReturnTokenIds ? ids : null;
    }
}
