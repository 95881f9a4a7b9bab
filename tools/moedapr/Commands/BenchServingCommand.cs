using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Threading.Channels;
using MoeDapr.Cli.Orchestration;
using MoeDapr.Contracts;
using MoeDapr.Contracts.KvTransfer;
using MoeDapr.Engine;
using MoeDapr.Engine.Checkpoint;
using MoeDapr.KvTransfer.DataPlane;
using MoeDapr.KvTransfer.DataPlane.Client;

namespace MoeDapr.Cli.Commands;

/// <summary>
/// <c>moedapr bench serving</c>: time to first token and time per output token through the disaggregated path
/// (prefill → kv-transfer → decode, each its own process) beside the same engine serving in this process, and the
/// KV transfer rate of the running kv-transfer on the shared-memory and socket planes beside a memory copy.
/// </summary>
internal static class BenchServingCommand
{
    private const int UsageError = 2;
    private const int Failure = 1;

    public static Command Create()
    {
        var model = new Option<string?>("--model")
        {
            Description = "Checkpoint folder, or random:FAMILY[:PRESET] (a random-weight checkpoint generated once into the cache); without it the cached demo checkpoint.",
        };
        var promptLength = new Option<int>("--prompt-len") { Description = "Prompt tokens per request.", DefaultValueFactory = _ => 512 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Output tokens per request.", DefaultValueFactory = _ => 32 };
        var requests = new Option<int>("--requests")
        {
            // The ratios are medians of per-round ratios; on a shared machine a handful of rounds leaves them to chance.
            Description = "Timed requests per path (run one at a time).",
            DefaultValueFactory = _ => 20,
        };
        var warmUp = new Option<int>("--warmup")
        {
            // The services and this process start in tier-0 JIT code and recompile their hot methods in the background
            // over the first requests; timed requests measure the steady state.
            Description = "Untimed requests per path before the timed ones.",
            DefaultValueFactory = _ => 8,
        };
        var kvMib = new Option<int[]>("--kv-size-mib")
        {
            // 8 MiB is a 512-token prompt's KV on the bench preset (8 layers × K,V × 512 tokens × 4 KV heads × 64 dims × 4 B);
            // the demo preset's is 1 MiB (4 layers, 32 dims). 256 MiB shows the rate once control calls no longer matter.
            Description = "Payload sizes of the KV transfer measurement (repeat or list them).",
            DefaultValueFactory = _ => [8, 256],
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("serving", "TTFT and TPOT: disaggregated path vs one process; KV transfer GB/s vs a memory copy.")
        {
            model, promptLength, maxTokens, requests, warmUp, kvMib,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(model), parse.GetValue(promptLength), parse.GetValue(maxTokens), parse.GetValue(requests), parse.GetValue(warmUp), parse.GetValue(kvMib) ?? [], cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string? modelDir, int promptLength, int maxTokens, int requests, int warmUps, int[] kvMib, CancellationToken cancellationToken)
    {
        if (promptLength < 1 || maxTokens < 2 || requests < 1 || warmUps < 0 || kvMib.Length == 0 || kvMib.Any(m => m < 1 || m > 4096))
        {
            Console.Error.WriteLine("error: --prompt-len, --requests and --kv-size-mib must be positive (sizes at most 4096), --warmup not negative and --max-tokens at least 2");
            return UsageError;
        }

        string dir;
        if (modelDir is not null && modelDir.StartsWith("random:", StringComparison.Ordinal))
        {
            var parts = modelDir.Split(':');
            if (parts.Length is < 2 or > 3 || !Model.ModelConfig.SupportedModelTypes.ContainsKey(parts[1])
                || !Model.ModelPresets.TryParsePreset(parts.Length == 3 ? parts[2] : "bench", out var preset))
            {
                Console.Error.WriteLine($"error: --model: \"{modelDir}\" is not random:FAMILY[:PRESET] with FAMILY one of {string.Join(", ", Model.ModelConfig.SupportedModelTypes.Keys)} and PRESET one of {string.Join(", ", Model.ModelPresets.PresetNames)}");
                return UsageError;
            }

            dir = DemoCheckpoint.EnsureRandom(parts[1], preset, Console.WriteLine, cancellationToken);
        }
        else
        {
            dir = modelDir ?? DemoCheckpoint.Ensure(Console.WriteLine, cancellationToken);
        }

        using var checkpoint = OpenOrNull(dir, out var problem);
        if (checkpoint is null)
        {
            Console.Error.WriteLine($"error: --model: {problem}");
            return UsageError;
        }

        if (promptLength + maxTokens > checkpoint.Config.MaxPositionEmbeddings)
        {
            Console.Error.WriteLine($"error: --prompt-len plus --max-tokens exceed the model's context of {checkpoint.Config.MaxPositionEmbeddings}");
            return UsageError;
        }

        var random = new Random(42);
        var prompts = Enumerable.Range(0, requests + warmUps)
            .Select(_ => Enumerable.Range(0, promptLength).Select(_ => random.Next(checkpoint.Config.VocabSize)).ToArray()).ToArray();
        var sampling = new SamplingParams { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = true };

        var binaries = ServiceBinaries.Discover();
        try
        {
            await binaries.EnsureBuiltAsync(Console.WriteLine, cancellationToken, ["kv-transfer", "prefill", "decode"]);
        }
        catch (Exception e) when (e is FileNotFoundException or InvalidOperationException)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return Failure;
        }

        await using var workers = new WorkerProcesses();
        try
        {
            await workers.StartAsync(binaries, dir, cancellationToken);
        }
        catch (ServiceStartException e)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return Failure;
        }

        var c = checkpoint.Config;
        Console.WriteLine($"Model {dir} ({c.ModelType}: {c.NumLayers} layers, hidden {c.HiddenSize}, {c.NumExperts} experts top-{c.NumExpertsPerToken}, {c.NumKvHeads} KV heads × {c.HeadDim}): {promptLength}-token prompts, {maxTokens} output tokens, {requests} requests per path (after {warmUps} warm-ups).");
        Console.WriteLine("Requests alternate between the paths, so a busy machine slows both alike; figures are medians.");
        await using var engine = await InferenceEngine.CreateAsync(new EngineOptions(), checkpoint.Config, checkpoint.Weights, cancellationToken: cancellationToken);
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        var local = new Timings();
        var remote = new Timings();
        var stages = new Stages();
        var decodeAlone = new Timings();
        for (var r = 0; r < prompts.Length; r++)
        {
            var decodeCpu = workers.DecodeCpu();
            var clientCpu = SelfCpu();
            var (aloneTtft, aloneTpot) = await DecodeAloneAsync(http, workers, r, prompts[r], sampling, r >= warmUps ? decodeAlone : null, cancellationToken);
            if (r >= warmUps)
            {
                decodeAlone.Add(aloneTtft, aloneTpot);
                decodeAlone.AddCpu(workers.DecodeCpu() - decodeCpu, SelfCpu() - clientCpu);
            }

            // The two compared paths swap order every round, so neither always runs right after the other.
            var keep = r >= warmUps;
            double localTtft, localTpot, remoteTtft, remoteTpot;
            if (r % 2 == 0)
            {
                (localTtft, localTpot) = await TimeInProcessAsync(r);
                (remoteTtft, remoteTpot) = await DisaggregatedAsync(http, workers, r, prompts[r], sampling, keep ? remote : null, keep ? stages : null, cancellationToken);
            }
            else
            {
                (remoteTtft, remoteTpot) = await DisaggregatedAsync(http, workers, r, prompts[r], sampling, keep ? remote : null, keep ? stages : null, cancellationToken);
                (localTtft, localTpot) = await TimeInProcessAsync(r);
            }

            if (keep)
            {
                local.Add(localTtft, localTpot);
                remote.Add(remoteTtft, remoteTpot);
            }
        }

        async Task<(double Ttft, double Tpot)> TimeInProcessAsync(int r)
        {
            var localCpu = SelfCpu();
            var timed = await InProcessAsync(engine, r, prompts[r], sampling, local, r >= warmUps, cancellationToken);
            if (r >= warmUps)
            {
                local.AddCpu(SelfCpu() - localCpu, 0);
            }

            return timed;
        }

        Console.WriteLine($"  one process      TTFT {Ms(local.Ttft)}  TPOT {Ms(local.Tpot)}  (steady inter-token {Ms(local.Steady)})");
        Console.WriteLine($"  disaggregated    TTFT {Ms(remote.Ttft)}  TPOT {Ms(remote.Tpot)}  (steady inter-token {Ms(remote.Steady)}, decode call to its first token {Ms(remote.DecodeFirst)})");
        Console.WriteLine($"  decode process   TTFT {Ms(decodeAlone.Ttft)}  TPOT {Ms(decodeAlone.Tpot)}  (steady inter-token {Ms(decodeAlone.Steady)}; prefilled there too: the worker process and its stream without the KV hop)");
        Console.WriteLine($"  CPU per request (prefill + {maxTokens} tokens, all threads; spin-waits inflate it on a busy machine): one process {Ms(local.Cpu)}, decode process {Ms(decodeAlone.Cpu)} + its client {Ms(decodeAlone.ClientCpu)}");
        Console.WriteLine("  prefill stages (median ms, from its Server-Timing header): " + stages.Describe());
        // Each round's disaggregated figure over the same round's one-process figure, then the median: a slow spell of
        // a shared machine slows both requests of a round alike and drops out of the ratio.
        var ttftRatios = Paired(remote.TtftRounds, local.TtftRounds);
        var tpotRatios = Paired(remote.TpotRounds, local.TpotRounds);
        var ttftRatio = Median(ttftRatios);
        var tpotRatio = Median(tpotRatios);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  ratio            TTFT {ttftRatio:F2} (target <= 1.2, {(ttftRatio <= 1.2 ? "met" : "missed")})  TPOT {tpotRatio:F2} (target <= 1.1, {(tpotRatio <= 1.1 ? "met" : "missed")})  (medians of per-round ratios; quartiles TTFT {Quartiles(ttftRatios)}, TPOT {Quartiles(tpotRatios)}; ratio of the medians TTFT {remote.Ttft / local.Ttft:F2}, TPOT {remote.Tpot / local.Tpot:F2})"));

        Console.WriteLine("KV transfer through the running kv-transfer (medians of 5 rounds after 3 warm-up rounds):");
        Console.WriteLine("  write = allocate (control), copy+hash into the plane's buffer (data), commit (socket: push over TCP; both: kv-transfer re-hashes what it holds);");
        Console.WriteLine("  read = renew (control; socket: pull over TCP, hashed as it arrives), copy+verify into the consumer's buffer (data), release (control).");
        Console.WriteLine("  transfer = allocate through the verified copy at the consumer (release excluded); at most ~50% of one copy without overlap, as it is a write plus a read.");
        foreach (var mib in kvMib)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $" {mib} MiB payloads:"));
            await KvRatesAsync(workers.KvTransfer, (long)mib << 20, cancellationToken);
        }
        return 0;
    }

    private static LoadedCheckpoint? OpenOrNull(string dir, out string? problem)
    {
        try
        {
            problem = null;
            return CheckpointLoader.Open(dir);
        }
        catch (Exception e) when (e is Model.ModelFormatException or IOException)
        {
            problem = $"\"{dir}\" is not a usable checkpoint folder: {e.Message}";
            return null;
        }
    }

    /// <summary>TTFT and TPOT (seconds) of one request served by the engine in this process.</summary>
    private static async Task<(double Ttft, double Tpot)> InProcessAsync(
        InferenceEngine engine, int r, int[] prompt, SamplingParams sampling, Timings timings, bool record, CancellationToken cancellationToken)
    {
        var clock = new TokenClock();
        var request = new GenerateRequest { RequestId = "local-" + r.ToString(CultureInfo.InvariantCulture), PromptTokens = prompt, Sampling = Map(sampling) };
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
    private static async Task<(double Ttft, double Tpot)> DisaggregatedAsync(
        HttpClient http, WorkerProcesses workers, int r, int[] prompt, SamplingParams sampling, Timings? timings, Stages? stages, CancellationToken cancellationToken)
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
    private static async Task<(double Ttft, double Tpot)> DecodeAloneAsync(
        HttpClient http, WorkerProcesses workers, int r, int[] prompt, SamplingParams sampling, Timings? timings, CancellationToken cancellationToken)
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

    /// <summary>Write and read rates on both planes, each beside a memory copy of the same size timed in the same round.</summary>
    private static async Task KvRatesAsync(Uri kvTransfer, long size, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = kvTransfer, Timeout = TimeSpan.FromMinutes(2) };
        var control = new KvTransferHttpControl(http);
        var layout = LayoutOf(size);
        using var source = new KvNativeBuffer(layout.PayloadBytes);
        using var destination = new KvNativeBuffer(layout.PayloadBytes);
        Fill(source);
        Fill(destination);
        WriteHeader(source, layout);
        foreach (var plane in new[] { KvDataPlane.SharedMemory, KvDataPlane.Socket })
        {
            using var client = new KvTransferClient(control, new KvTransferClientOptions { Requester = "bench-serving", UseSharedMemory = plane == KvDataPlane.SharedMemory });
            var copies = new List<double>();
            var writes = new List<double>();
            var reads = new List<double>();
            var phases = new Dictionary<string, List<double>>(StringComparer.Ordinal);
            void Phase(string name, double seconds, bool keep)
            {
                if (keep)
                {
                    (phases.TryGetValue(name, out var list) ? list : phases[name] = []).Add(seconds * 1000);
                }
            }

            // Warm-up rounds first: this process's hashing and copy loops start as tier-0 JIT code (several times slower).
            const int WarmUps = 3;
            for (var round = 0; round < WarmUps + 5; round++)
            {
                var keep = round >= WarmUps;
                copies.Add(Time(() => Copy(source, destination, layout.PayloadBytes)));
                var start = Stopwatch.GetTimestamp();
                string handle;
                await using (var writer = await client.AllocateAsync(KvBlockLayout.FromHeader(layout), null, cancellationToken))
                {
                    Phase("allocate", Stopwatch.GetElapsedTime(start).TotalSeconds, keep);
                    var data = Stopwatch.GetTimestamp();
                    writer.Write(source.Span(layout.PayloadBytes));
                    Phase("write-data", Stopwatch.GetElapsedTime(data).TotalSeconds, keep);
                    data = Stopwatch.GetTimestamp();
                    handle = (await writer.CommitAsync(cancellationToken)).Handle;
                    Phase("commit", Stopwatch.GetElapsedTime(data).TotalSeconds, keep);
                }

                var written = Stopwatch.GetElapsedTime(start).TotalSeconds;
                start = Stopwatch.GetTimestamp();
                await using (var reader = await client.OpenReadAsync(handle, cancellationToken, verify: false))
                {
                    Phase("open-read", Stopwatch.GetElapsedTime(start).TotalSeconds, keep);
                    var data = Stopwatch.GetTimestamp();
                    reader.CopyTo(destination.Address, destination.Length);
                    Phase("read-data", Stopwatch.GetElapsedTime(data).TotalSeconds, keep);
                    data = Stopwatch.GetTimestamp();
                    await reader.ReleaseAsync(cancellationToken);
                    Phase("release", Stopwatch.GetElapsedTime(data).TotalSeconds, keep);
                }

                var read = Stopwatch.GetElapsedTime(start).TotalSeconds;
                if (keep)
                {
                    writes.Add(written);
                    reads.Add(read);
                }
                else
                {
                    copies.Clear(); // warm-up rounds also fault in the mappings and fill the pool
                }
            }

            var phaseText = string.Join("  ", phases.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {Median(p.Value):F2}")));
            var gb = layout.PayloadBytes / 1e9;
            var copy = gb / Median(copies);
            var releases = phases["release"];
            var transfers = writes.Select((w, i) => w + reads[i] - (releases[i] / 1000)).ToList();
            var name = plane == KvDataPlane.SharedMemory ? "shared memory" : "socket";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {name,-14} transfer {gb / Median(transfers),6:F2} GB/s ({100 * gb / Median(transfers) / copy,3:F0}% of copy)  write {gb / Median(writes),6:F2} GB/s ({100 * gb / Median(writes) / copy,3:F0}%)  read {gb / Median(reads),6:F2} GB/s ({100 * gb / Median(reads) / copy,3:F0}%)  memory copy {copy:F2} GB/s"));
            Console.WriteLine("                 ms: " + phaseText);
            var (payloads, streamed) = await StreamedAsync(client, layout, source, destination, cancellationToken);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {name,-14} streamed {streamed,6:F2} GB/s ({100 * streamed / copy,3:F0}% of copy): {payloads} payloads, a producer writing the next while a consumer reads the last (as prefill and decode run), median of 3 runs"));
        }

        var (alone, each) = TwoCopiesAtOnce(source, destination, layout.PayloadBytes);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  two memory copies at once: {each:F2} GB/s each ({100 * each / alone:F0}% of one alone, {alone:F2} GB/s): a streamed transfer is a write and a read at once, so this is its ceiling here"));
    }

    /// <summary>
    /// The memory system's share for two copies running at once on two threads, beside one copy alone (GB/s, medians
    /// of 5 rounds): how far a machine's bandwidth lets a producer and a consumer overlap.
    /// </summary>
    private static (double Alone, double Each) TwoCopiesAtOnce(KvNativeBuffer source, KvNativeBuffer destination, long bytes)
    {
        using var otherSource = new KvNativeBuffer(bytes);
        using var otherDestination = new KvNativeBuffer(bytes);
        Fill(otherSource);
        Fill(otherDestination);
        var alone = new List<double>();
        var each = new List<double>();
        for (var round = 0; round < 6; round++)
        {
            var single = Time(() => Copy(source, destination, bytes));
            var pair = PairSeconds();
            if (round > 0)
            {
                alone.Add(bytes / 1e9 / single);
                each.Add(bytes / 1e9 / pair);
            }
        }

        return (Median(alone), Median(each));

        // Both threads wait at the start line, so neither copy runs alone while the other thread is still starting.
        double PairSeconds()
        {
            using var go = new ManualResetEventSlim();
            var threads = new[] { (source, destination), (otherSource, otherDestination) }
                .Select(pair => new Thread(() =>
                {
                    go.Wait();
                    Copy(pair.Item1, pair.Item2, bytes);
                }))
                .ToArray();
            foreach (var thread in threads)
            {
                thread.Start();
            }

            Thread.Sleep(20);
            var start = Stopwatch.GetTimestamp();
            go.Set();
            foreach (var thread in threads)
            {
                thread.Join();
            }

            return Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
    }

    /// <summary>
    /// Transfer rate with a producer and a consumer at work at once, as prefill and decode are: the producer allocates,
    /// writes and commits payload after payload, handing each handle over through a queue of one; the consumer opens,
    /// copies with verification and releases each. GB/s delivered to the consumer, allocate of the first through the
    /// release of the last; median of three runs.
    /// </summary>
    private static async Task<(int Payloads, double GbPerSecond)> StreamedAsync(
        KvTransferClient client, KvPayloadHeader layout, KvNativeBuffer source, KvNativeBuffer destination, CancellationToken cancellationToken)
    {
        // About 2 GB per run, at least 6 payloads so the pipeline reaches its steady state.
        var payloads = (int)Math.Clamp((2L << 30) / layout.PayloadBytes, 6, 64);
        var rates = new List<double>();
        for (var run = 0; run < 3; run++)
        {
            var handles = Channel.CreateBounded<string>(1);
            var start = Stopwatch.GetTimestamp();
            var producer = Task.Run(async () =>
            {
                try
                {
                    for (var i = 0; i < payloads; i++)
                    {
                        string handle;
                        await using (var writer = await client.AllocateAsync(KvBlockLayout.FromHeader(layout), null, cancellationToken))
                        {
                            writer.Write(source.Span(layout.PayloadBytes));
                            handle = (await writer.CommitAsync(cancellationToken)).Handle;
                        }

                        await handles.Writer.WriteAsync(handle, cancellationToken);
                    }
                }
                finally
                {
                    handles.Writer.TryComplete();
                }
            }, cancellationToken);
            var consumer = Task.Run(async () =>
            {
                await foreach (var handle in handles.Reader.ReadAllAsync(cancellationToken))
                {
                    await using var reader = await client.OpenReadAsync(handle, cancellationToken, verify: false);
                    reader.CopyTo(destination.Address, destination.Length);
                    await reader.ReleaseAsync(cancellationToken);
                }
            }, cancellationToken);
            await Task.WhenAll(producer, consumer);
            rates.Add(payloads * layout.PayloadBytes / 1e9 / Stopwatch.GetElapsedTime(start).TotalSeconds);
        }

        return (payloads, Median(rates));
    }

    /// <summary>
    /// The bench preset's float32 layout (8 layers, 4 KV heads × 64 dims, 16-token blocks of 256 KiB) for about
    /// <paramref name="size"/> bytes: 8 MiB is a 512-token prompt's KV plus the 64-byte header.
    /// </summary>
    private static KvPayloadHeader LayoutOf(long size)
    {
        const int BlockBytes = 2 * 8 * 16 * 4 * 64 * 4;
        var blocks = (int)Math.Max(1, size / BlockBytes);
        return new KvPayloadHeader(KvDtype.Float32, 8, 4, 64, 16, blocks * 16);
    }

    private static unsafe void Fill(KvNativeBuffer buffer)
    {
        var span = new Span<byte>((void*)buffer.Address, (int)Math.Min(buffer.Length, int.MaxValue));
        new Random(1).NextBytes(span);
    }

    /// <summary>kv-transfer checks the header at commit, so the payload starts with a real one.</summary>
    private static unsafe void WriteHeader(KvNativeBuffer buffer, KvPayloadHeader header) =>
        header.Write(new Span<byte>((void*)buffer.Address, KvPayloadHeader.Size));

    private static unsafe void Copy(KvNativeBuffer from, KvNativeBuffer to, long bytes) =>
        Buffer.MemoryCopy((void*)from.Address, (void*)to.Address, to.Length, bytes);

    private static unsafe ReadOnlySpan<byte> Span(this KvNativeBuffer buffer, long bytes) => new((void*)buffer.Address, checked((int)bytes));

    private static double Time(Action action)
    {
        var start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>The median; leaves <paramref name="values"/> in order (rounds are matched by index).</summary>
    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[sorted.Count / 2];
    }

    private static List<double> Paired(IReadOnlyList<double> numerators, IReadOnlyList<double> denominators) =>
        numerators.Select((n, i) => n / denominators[i]).ToList();

    private static string Quartiles(List<double> values)
    {
        var sorted = values.Order().ToList();
        return string.Create(CultureInfo.InvariantCulture, $"{sorted[sorted.Count / 4]:F2}–{sorted[3 * sorted.Count / 4]:F2}");
    }

    /// <summary>When one request's tokens arrived (seconds since it was sent): the first, the second, and the count.</summary>
    private sealed class TokenClock
    {
        private readonly long _start = Stopwatch.GetTimestamp();

        public int Count { get; private set; }

        public double First { get; private set; }

        public double Second { get; private set; }

        public void Token()
        {
            var now = Stopwatch.GetElapsedTime(_start).TotalSeconds;
            if (Count == 0)
            {
                First = now;
            }
            else if (Count == 1)
            {
                Second = now;
            }

            Count++;
        }

        /// <summary>
        /// TTFT and TPOT (from the first token to the last); adds the steady inter-token time (after the second token)
        /// to <paramref name="steady"/> when given and there were more than two tokens.
        /// </summary>
        public (double Ttft, double Tpot) Finish(Timings? steady)
        {
            var total = Stopwatch.GetElapsedTime(_start).TotalSeconds;
            if (steady is not null && Count > 2)
            {
                steady.AddSteady((total - Second) / (Count - 2));
            }

            return (First, (total - First) / (Count - 1));
        }
    }

    /// <summary>Per-request figures of one path, in round order; medians on read.</summary>
    private sealed class Timings
    {
        private readonly List<double> _ttft = [];
        private readonly List<double> _tpot = [];
        private readonly List<double> _steady = [];
        private readonly List<double> _decodeFirst = [];

        public double Ttft => Median(_ttft);

        public IReadOnlyList<double> TtftRounds => _ttft;

        public IReadOnlyList<double> TpotRounds => _tpot;

        public double Tpot => Median(_tpot);

        /// <summary>Per token after the second one: the decode loop alone, without the one-off costs before it.</summary>
        public double Steady => Median(_steady);

        /// <summary>From prefill's answer to decode's first streamed token: the call, the KV import and one step.</summary>
        public double DecodeFirst => Median(_decodeFirst);

        private readonly List<double> _cpu = [];
        private readonly List<double> _clientCpu = [];

        /// <summary>CPU seconds the serving process spent per request.</summary>
        public double Cpu => Median(_cpu);

        /// <summary>CPU seconds this process spent reading the stream per request.</summary>
        public double ClientCpu => Median(_clientCpu);

        public void AddCpu(double server, double client)
        {
            _cpu.Add(server);
            _clientCpu.Add(client);
        }

        public void AddSteady(double seconds) => _steady.Add(seconds);

        public void AddDecodeFirst(double seconds) => _decodeFirst.Add(seconds);

        public void Add(double ttft, double tpot)
        {
            _ttft.Add(ttft);
            _tpot.Add(tpot);
        }
    }

    /// <summary>Prefill's per-stage times (its Server-Timing header), medians per stage.</summary>
    private sealed class Stages
    {
        private readonly Dictionary<string, List<double>> _stages = new(StringComparer.Ordinal);

        public void Add(string serverTiming)
        {
            foreach (var part in serverTiming.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var fields = part.Split(';');
                var duration = fields.Skip(1).FirstOrDefault(f => f.StartsWith("dur=", StringComparison.Ordinal));
                if (duration is not null && double.TryParse(duration.AsSpan(4), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms))
                {
                    if (!_stages.TryGetValue(fields[0], out var list))
                    {
                        _stages[fields[0]] = list = [];
                    }

                    list.Add(ms);
                }
            }
        }

        public string Describe() => _stages.Count == 0
            ? "none reported"
            : string.Join("  ", _stages.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Key} {Median(s.Value):F1}")));
    }

    /// <summary>CPU seconds this process has used (user + system, all threads).</summary>
    private static double SelfCpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalSeconds;
    }

    private static string Ms(double seconds) => string.Create(CultureInfo.InvariantCulture, $"{seconds * 1000,8:F1} ms");

    private static Engine.Sampling.SamplingParams Map(SamplingParams s) => new()
    {
        Temperature = s.Temperature,
        MaxTokens = s.MaxTokens,
        IgnoreEos = s.IgnoreEos,
    };

    /// <summary>kv-transfer, prefill and decode as processes talking directly (no sidecar needed for the measurement).</summary>
    private sealed class WorkerProcesses : IAsyncDisposable
    {
        private readonly List<ServiceProcess> _processes = [];

        public Uri KvTransfer { get; private set; } = null!;

        public Uri Prefill { get; private set; } = null!;

        public Uri Decode { get; private set; } = null!;

        /// <summary>CPU seconds the decode process has used.</summary>
        public double DecodeCpu()
        {
            using var process = Process.GetProcessById(_processes[^1].Id);
            return process.TotalProcessorTime.TotalSeconds;
        }

        public async Task StartAsync(ServiceBinaries binaries, string model, CancellationToken cancellationToken)
        {
            var env = new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Warning" };
            KvTransfer = await StartAsync(binaries, "kv-transfer", env, ["--KvTransfer:CapacityBytes=1073741824"], cancellationToken);
            string[] worker = ["--Model:Path=" + model, "--Worker:KvTransferUrl=" + KvTransfer];
            Prefill = await StartAsync(binaries, "prefill", env, worker, cancellationToken);
            Decode = await StartAsync(binaries, "decode", env, worker, cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var process in _processes)
            {
                await process.DisposeAsync();
            }
        }

        private async Task<Uri> StartAsync(ServiceBinaries binaries, string service, Dictionary<string, string> env, string[] arguments, CancellationToken cancellationToken)
        {
            var dll = binaries.Find(service)!;
            var url = new Uri($"http://127.0.0.1:{ServiceProcess.FreePort().ToString(CultureInfo.InvariantCulture)}/");
            var process = ServiceProcess.Start(service, "dotnet", [dll, "--urls", url.ToString().TrimEnd('/'), .. arguments], Path.GetDirectoryName(dll)!, env);
            _processes.Add(process);
            using var http = new HttpClient();
            await process.WaitReadyAsync(http, new Uri(url, "health/ready"), TimeSpan.FromMinutes(3), cancellationToken);
            return url;
        }
    }
}
