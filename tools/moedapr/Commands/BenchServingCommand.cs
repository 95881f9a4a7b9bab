using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using MoeDapr.Cli.Orchestration;
using MoeDapr.Contracts;
using MoeDapr.Contracts.KvTransfer;
using MoeDapr.Engine;
using MoeDapr.Engine.Checkpoint;

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
        var model = new Option<string?>("--model") { Description = "Checkpoint folder; without it the cached demo checkpoint." };
        var promptLength = new Option<int>("--prompt-len") { Description = "Prompt tokens per request.", DefaultValueFactory = _ => 512 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Output tokens per request.", DefaultValueFactory = _ => 32 };
        var requests = new Option<int>("--requests") { Description = "Timed requests per path (run one at a time).", DefaultValueFactory = _ => 5 };
        var kvMib = new Option<int>("--kv-size-mib") { Description = "Payload size of the KV transfer measurement.", DefaultValueFactory = _ => 64 };
        var command = new Command("serving", "TTFT and TPOT: disaggregated path vs one process; KV transfer GB/s vs a memory copy.")
        {
            model, promptLength, maxTokens, requests, kvMib,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(model), parse.GetValue(promptLength), parse.GetValue(maxTokens), parse.GetValue(requests), parse.GetValue(kvMib), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string? modelDir, int promptLength, int maxTokens, int requests, int kvMib, CancellationToken cancellationToken)
    {
        if (promptLength < 1 || maxTokens < 2 || requests < 1 || kvMib < 1)
        {
            Console.Error.WriteLine("error: --prompt-len, --requests and --kv-size-mib must be positive and --max-tokens at least 2");
            return UsageError;
        }

        var dir = modelDir ?? DemoCheckpoint.Ensure(Console.WriteLine, cancellationToken);
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
        var prompts = Enumerable.Range(0, requests + 1)
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

        Console.WriteLine($"Model {dir}: {promptLength}-token prompts, {maxTokens} output tokens, {requests} requests per path (after one warm-up).");
        Console.WriteLine("Requests alternate between the paths, so a busy machine slows both alike; figures are medians.");
        await using var engine = await InferenceEngine.CreateAsync(new EngineOptions(), checkpoint.Config, checkpoint.Weights, cancellationToken: cancellationToken);
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        var local = new Timings();
        var remote = new Timings();
        for (var r = 0; r < prompts.Length; r++)
        {
            var (localTtft, localTpot) = await InProcessAsync(engine, r, prompts[r], sampling, cancellationToken);
            var (remoteTtft, remoteTpot) = await DisaggregatedAsync(http, workers, r, prompts[r], sampling, cancellationToken);
            if (r > 0)
            {
                local.Add(localTtft, localTpot);
                remote.Add(remoteTtft, remoteTpot);
            }
        }

        Console.WriteLine($"  one process      TTFT {Ms(local.Ttft)}  TPOT {Ms(local.Tpot)}");
        Console.WriteLine($"  disaggregated    TTFT {Ms(remote.Ttft)}  TPOT {Ms(remote.Tpot)}");
        var ttftRatio = remote.Ttft / local.Ttft;
        var tpotRatio = remote.Tpot / local.Tpot;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  ratio            TTFT {ttftRatio:F2} (target <= 1.2, {(ttftRatio <= 1.2 ? "met" : "missed")})  TPOT {tpotRatio:F2} (target <= 1.1, {(tpotRatio <= 1.1 ? "met" : "missed")})"));

        Console.WriteLine($"KV transfer through the running kv-transfer, {kvMib} MiB payloads (write = allocate, copy+hash, commit; read = renew, copy+verify, release):");
        await KvRatesAsync(workers.KvTransfer, (long)kvMib << 20, cancellationToken);
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
    private static async Task<(double Ttft, double Tpot)> InProcessAsync(InferenceEngine engine, int r, int[] prompt, SamplingParams sampling, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        double first = 0;
        var count = 0;
        var request = new GenerateRequest { RequestId = "local-" + r.ToString(CultureInfo.InvariantCulture), PromptTokens = prompt, Sampling = Map(sampling) };
        await foreach (var output in engine.GenerateAsync(request, cancellationToken))
        {
            if (output.TokenId >= 0 && count++ == 0)
            {
                first = Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
        }

        var total = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return (first, (total - first) / (count - 1));
    }

    /// <summary>
    /// TTFT and TPOT (seconds) of one request through the workers: TTFT ends when prefill answers with the first token
    /// (what the router relays at once); TPOT spans from there to the last token decode streams, KV import included.
    /// </summary>
    private static async Task<(double Ttft, double Tpot)> DisaggregatedAsync(
        HttpClient http, WorkerProcesses workers, int r, int[] prompt, SamplingParams sampling, CancellationToken cancellationToken)
    {
        var id = "bench-" + r.ToString(CultureInfo.InvariantCulture);
        var start = Stopwatch.GetTimestamp();
        using var prefillAnswer = await http.PostAsJsonAsync(new Uri(workers.Prefill, WorkerMethods.PrefillBatch), new PrefillBatchRequest
        {
            BatchId = id,
            Sequences = [new PrefillSequence { RequestId = id, PromptTokenIds = prompt, Sampling = sampling }],
        }, ContractJson.Options, cancellationToken);
        prefillAnswer.EnsureSuccessStatusCode();
        var result = (await prefillAnswer.Content.ReadFromJsonAsync<PrefillBatchResponse>(ContractJson.Options, cancellationToken))!.Results[0];
        var first = Stopwatch.GetElapsedTime(start).TotalSeconds;
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
        var count = 1;
        await foreach (var e in DecodeStream.ReadAllAsync(body, cancellationToken))
        {
            if (e.Kind == DecodeEventKind.Token)
            {
                count++;
            }
            else if (e.Kind == DecodeEventKind.Error)
            {
                throw new InvalidOperationException($"decode failed: {e.Error?.Code}: {e.Error?.Message}");
            }
        }

        var total = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return (first, (total - first) / (count - 1));
    }

    /// <summary>Write and read rates on both planes, each beside a memory copy of the same size timed in the same round.</summary>
    private static async Task KvRatesAsync(Uri kvTransfer, long size, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = kvTransfer, Timeout = TimeSpan.FromMinutes(2) };
        var control = new KvTransferHttpControl(http);
        using var source = new KvNativeBuffer(size);
        using var destination = new KvNativeBuffer(size);
        Fill(source);
        Fill(destination);
        var layout = LayoutOf(size);
        WriteHeader(source, layout);
        foreach (var plane in new[] { KvDataPlane.SharedMemory, KvDataPlane.Socket })
        {
            using var client = new KvTransferClient(control, new KvTransferClientOptions { Requester = "bench-serving", UseSharedMemory = plane == KvDataPlane.SharedMemory });
            var copies = new List<double>();
            var writes = new List<double>();
            var reads = new List<double>();
            for (var round = 0; round < 4; round++)
            {
                copies.Add(Time(() => Copy(source, destination, layout.PayloadBytes)));
                var start = Stopwatch.GetTimestamp();
                string handle;
                await using (var writer = await client.AllocateAsync(KvBlockLayout.FromHeader(layout), null, cancellationToken))
                {
                    writer.Write(source.Span(layout.PayloadBytes));
                    handle = (await writer.CommitAsync(cancellationToken)).Handle;
                }

                var written = Stopwatch.GetElapsedTime(start).TotalSeconds;
                start = Stopwatch.GetTimestamp();
                await using (var reader = await client.OpenReadAsync(handle, cancellationToken, verify: false))
                {
                    reader.CopyTo(destination.Address, destination.Length);
                    await reader.ReleaseAsync(cancellationToken);
                }

                var read = Stopwatch.GetElapsedTime(start).TotalSeconds;
                if (round > 0)
                {
                    writes.Add(written);
                    reads.Add(read);
                }
                else
                {
                    copies.Clear(); // the first round warms the mappings and the pool
                }
            }

            var gb = layout.PayloadBytes / 1e9;
            var copy = gb / Median(copies);
            var name = plane == KvDataPlane.SharedMemory ? "shared memory" : "socket";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {name,-14} write {gb / Median(writes),6:F2} GB/s ({100 * gb / Median(writes) / copy,3:F0}% of copy)  read {gb / Median(reads),6:F2} GB/s ({100 * gb / Median(reads) / copy,3:F0}% of copy)  memory copy {copy:F2} GB/s"));
        }
    }

    /// <summary>A float32 layout whose payload is about <paramref name="size"/> bytes.</summary>
    private static KvPayloadHeader LayoutOf(long size)
    {
        // One block = 2 (K,V) × 8 layers × 16 tokens × 8 heads × 128 dims × 4 bytes = 1 MiB.
        var blocks = (int)Math.Max(1, (size - KvPayloadHeader.Size) / (1L << 20));
        return new KvPayloadHeader(KvDtype.Float32, 8, 8, 128, 16, blocks * 16);
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

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count == 0 ? double.NaN : values[values.Count / 2];
    }

    /// <summary>Per-request figures of one path; medians on read.</summary>
    private sealed class Timings
    {
        private readonly List<double> _ttft = [];
        private readonly List<double> _tpot = [];

        public double Ttft => Median(_ttft);

        public double Tpot => Median(_tpot);

        public void Add(double ttft, double tpot)
        {
            _ttft.Add(ttft);
            _tpot.Add(tpot);
        }
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
