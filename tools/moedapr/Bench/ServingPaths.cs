using System.Globalization;
using System.Net.Http.Json;
using MoeDapr.Contracts;
using MoeDapr.Engine;

namespace MoeDapr.Cli.Bench;

/// <summary>The three timed paths of <c>bench serving</c>: the engine in this process, prefill then decode, and decode alone.</summary>
internal static class ServingPaths
{
    /// <summary>TTFT and TPOT (seconds) of one request served by the engine in this process.</summary>
    internal static async Task<(double Ttft, double Tpot)> InProcessAsync(
        InferenceEngine engine, int r, int[] prompt, SamplingParams sampling, PathTimings timings, bool record, CancellationToken cancellationToken)
    {
        var clock = new TokenClock();
        var request = new GenerateRequest { RequestId = "local-" + r.ToString(CultureInfo.InvariantCulture), PromptTokens = prompt, Sampling = sampling };
        await foreach (var output in engine.GenerateAsync(request, cancellationToken))
        {
            if (output.TokenId >= 0)
            {
                clock.Token();
            }
        }

        return clock.Finish(record ? timings : null);
    }

    /// <summary>
    /// TTFT and TPOT (seconds) of one request through the workers: TTFT ends when prefill answers with the first token
    /// (what the router relays at once); TPOT spans from there to the last token decode streams, KV import included.
    /// </summary>
    internal static async Task<(double Ttft, double Tpot)> DisaggregatedAsync(
        HttpClient http, ServingWorkers workers, int r, int[] prompt, SamplingParams sampling, PathTimings? timings, PrefillStages? stages, CancellationToken cancellationToken)
    {
        var id = "bench-" + r.ToString(CultureInfo.InvariantCulture);
        var clock = new TokenClock();
        using var prefillAnswer = await http.PostAsJsonAsync(new Uri(workers.Prefill, WorkerMethods.PrefillBatch), new PrefillBatchRequest
        {
            BatchId = id,
            Sequences = [new PrefillSequence { RequestId = id, PromptTokenIds = prompt, Sampling = sampling }],
        }, ContractJson.Options, cancellationToken);
        prefillAnswer.EnsureSuccessStatusCode();
        if (stages is not null && prefillAnswer.Headers.TryGetValues("Server-Timing", out var serverTiming))
        {
            stages.Add(string.Join(", ", serverTiming));
        }

        var result = (await prefillAnswer.Content.ReadFromJsonAsync<PrefillBatchResponse>(ContractJson.Options, cancellationToken))!.Results[0];
        clock.Token(); // prefill's first token
        if (result.Error is { } error)
        {
            throw new InvalidOperationException($"prefill failed: {error.Code}: {error.Message}");
        }

        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(workers.Decode, WorkerMethods.DecodeGenerate))
        {
            Content = JsonContent.Create(new DecodeRequest
            {
                RequestId = id, PromptTokenIds = prompt, Sampling = sampling, FirstToken = result.FirstToken, KvHandle = result.KvHandle,
            }, options: ContractJson.Options),
        };
        using var decodeAnswer = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        decodeAnswer.EnsureSuccessStatusCode();
        await using var body = await decodeAnswer.Content.ReadAsStreamAsync(cancellationToken);
        await foreach (var e in DecodeStream.ReadAllAsync(body, cancellationToken))
        {
            if (e.Kind == DecodeEventKind.Token)
            {
                clock.Token();
            }
            else if (e.Kind == DecodeEventKind.Error)
            {
                throw new InvalidOperationException($"decode failed: {e.Error?.Code}: {e.Error?.Message}");
            }
        }

        if (timings is not null && clock.Count > 2)
        {
            timings.AddDecodeFirst(clock.Second - clock.First);
        }

        return clock.Finish(timings);
    }

    /// <summary>One request to decode alone (it prefills locally and streams): isolates the process and stream from the KV hop.</summary>
    internal static async Task<(double Ttft, double Tpot)> DecodeAloneAsync(
        HttpClient http, ServingWorkers workers, int r, int[] prompt, SamplingParams sampling, PathTimings? timings, CancellationToken cancellationToken)
    {
        var id = "alone-" + r.ToString(CultureInfo.InvariantCulture);
        var clock = new TokenClock();
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(workers.Decode, WorkerMethods.DecodeGenerate))
        {
            Content = JsonContent.Create(new DecodeRequest { RequestId = id, PromptTokenIds = prompt, Sampling = sampling }, options: ContractJson.Options),
        };
        using var answer = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        answer.EnsureSuccessStatusCode();
        await using var body = await answer.Content.ReadAsStreamAsync(cancellationToken);
        await foreach (var e in DecodeStream.ReadAllAsync(body, cancellationToken))
        {
            if (e.Kind == DecodeEventKind.Error)
            {
                throw new InvalidOperationException($"decode failed: {e.Error?.Code}: {e.Error?.Message}");
            }

            if (e.Kind == DecodeEventKind.Token)
            {
                clock.Token();
            }
        }

        return clock.Finish(timings);
    }
}
