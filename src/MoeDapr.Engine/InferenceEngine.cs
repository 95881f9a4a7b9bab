using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using MoeDapr.Engine.Checkpoint;
using MoeDapr.Engine.Kv;
using MoeDapr.Engine.Modeling;
using MoeDapr.Engine.Sampling;
using MoeDapr.Engine.Scheduling;
using MoeDapr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeDapr.Engine;

/// <summary>
/// One model instance serving requests: a dedicated engine thread owns the model, the paged KV cache and
/// the scheduler (TorchSharp dispose scopes and no-grad are thread-local); callers post work through a
/// bounded queue and get tasks and token streams back.
/// </summary>
public sealed class InferenceEngine : IAsyncDisposable, IDisposable
{
    private const int Pending = 0;
    private const int Running = 1;
    private const int Skipped = 2;
    private static readonly TimeSpan CallerMemoryCopyBound = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan IdleWait = TimeSpan.FromMilliseconds(50);
    private readonly EngineOptions _options;
    private readonly Channel<Action<EngineCore>> _commands;
    private readonly ConcurrentQueue<string> _aborts = new();
    private readonly Thread _thread;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Random _seeds;
    private readonly int _maxSequenceLength;
    private EngineCore? _core;
    private volatile EngineStats _stats = new();
    private volatile IReadOnlyList<ExpertLoad> _expertLoads = [];
    private volatile Action<StepTiming>? _stepObserver;

    private InferenceEngine(EngineOptions options, ModelConfig config, Func<EngineCore> build, Random? seeds)
    {
        _options = options;
        Config = config;
        _maxSequenceLength = MaxSequenceLengthOf(options, config);
        _seeds = seeds ?? new Random();
        _commands = Channel.CreateBounded<Action<EngineCore>>(new BoundedChannelOptions(options.MaxQueuedRequests) { SingleReader = true });
        _thread = new Thread(() => Loop(build)) { IsBackground = true, Name = "moedapr-engine" };
        _thread.Start();
    }

    public ModelConfig Config { get; }

    public EngineOptions Options => _options;

    /// <summary>The engine's load, refreshed after every step.</summary>
    public EngineStats Stats => _stats;

    /// <summary>Per MoE layer token counters and placement, refreshed after every step.</summary>
    public IReadOnlyList<ExpertLoad> ExpertLoads => _expertLoads;

    /// <summary>
    /// Called on the engine thread after every model step with its routing and per-rank expert time (keep it short: it
    /// delays the next step). Null, the default, turns the clock reads off.
    /// </summary>
    public Action<StepTiming>? StepObserver
    {
        get => _stepObserver;
        set => _stepObserver = value;
    }

    /// <summary>Builds the model on the engine thread; completes when it is ready to serve (or throws what loading threw).</summary>
    public static async Task<InferenceEngine> CreateAsync(
        EngineOptions options, ModelConfig config, IWeightSource weights, ITextTokenizer? tokenizer = null,
        TimeProvider? time = null, Random? seeds = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        options.Validate();
        var engine = new InferenceEngine(options, config, () => BuildCore(options, config, weights, tokenizer, time ?? TimeProvider.System), seeds);
        try
        {
            await engine._started.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await engine.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return engine;
    }

    private static EngineCore BuildCore(EngineOptions options, ModelConfig config, IWeightSource weights, ITextTokenizer? tokenizer, TimeProvider time)
    {
        if (options.Threads > 0)
        {
            torch.set_num_threads(options.Threads);
        }

        var device = options.ResolveDevice();
        var dtype = options.ResolveDtype(device);
        var ranks = options.ExpertParallelDevices.Count > 0
            ? options.ExpertParallelDevices.Select(d => torch.device(d)).ToArray()
            : Enumerable.Repeat(device, options.ExpertParallelSize).ToArray();
        var slots = config.NumExperts + options.RedundantExperts;
        if (slots % ranks.Length != 0)
        {
            throw new ArgumentException(
                $"EngineOptions.ExpertParallelSize: the {config.NumExperts} experts plus {options.RedundantExperts} redundant slots must split evenly over {ranks.Length} ranks",
                nameof(EngineOptions.ExpertParallelSize));
        }

        var maxLength = MaxSequenceLengthOf(options, config);
        var model = new MoeTransformer(config, weights, new ModelPlacement
        {
            Device = device,
            Dtype = dtype,
            RankDevices = ranks,
            ExpertSlots = slots,
            MaxPositions = maxLength,
            KernelThreads = torch.get_num_threads(),
        });
        var blocks = options.NumBlocks > 0 ? options.NumBlocks : PagedKvCache.BlocksForBytes(config, options.BlockSize, dtype, options.KvCacheBytes);
        var cache = new PagedKvCache(config, blocks, options.BlockSize, dtype, device);
        return new EngineCore(model, cache, options, tokenizer, time);
    }

    private static int MaxSequenceLengthOf(EngineOptions options, ModelConfig config) =>
        options.MaxSequenceLength > 0 ? Math.Min(options.MaxSequenceLength, config.MaxPositionEmbeddings) : config.MaxPositionEmbeddings;

    /// <summary>
    /// Prefills a batch of prompts and samples each one's first token; the prompts' KV stays under the
    /// returned handles until <see cref="Release"/> or the lease (EngineOptions.KvHandleLease) ends.
    /// </summary>
    public async Task<IReadOnlyList<PrefillResult>> PrefillAsync(IReadOnlyList<PrefillRequest> batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var sinks = batch.Select(r =>
        {
            ValidatePrompt(r.PromptTokens, r.Sampling);
            return new PrefillSink(r.RequestId);
        }).ToArray();
        var seeds = batch.Select(r => r.Sampling.Seed ?? NextSeed()).ToArray();
        Post(core =>
        {
            for (var i = 0; i < batch.Count; i++)
            {
                var r = batch[i];
                var sequence = new Sequence
                {
                    RequestId = r.RequestId,
                    Tokens = [.. r.PromptTokens],
                    PromptLength = r.PromptTokens.Count,
                    Sampling = r.Sampling,
                    Seed = seeds[i],
                    Sink = sinks[i],
                    PrefillOnly = true,
                };
                try
                {
                    core.Add(sequence);
                }
                catch (ArgumentException e)
                {
                    sinks[i].OnFailed(sequence, e);
                }
            }
        });
        await using var registration = cancellationToken.Register(() =>
        {
            foreach (var r in batch)
            {
                AbortRequest(r.RequestId);
            }
        });
        var results = new PrefillResult[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var (first, kv, cached) = await sinks[i].Result.WaitAsync(cancellationToken).ConfigureAwait(false);
            results[i] = new PrefillResult(batch[i].RequestId, first, seeds[i], kv, cached);
        }

        return results;
    }

    /// <summary>
    /// Generates tokens for one request (see <see cref="GenerateRequest"/>); the last output carries the finish
    /// reason. Cancelling aborts the sequence and frees its blocks and batch slot at once.
    /// </summary>
    public async IAsyncEnumerable<TokenOutput> GenerateAsync(GenerateRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ValidatePrompt(request.PromptTokens, request.Sampling);
        if (request.Kv is not null && request.FirstToken is null)
        {
            throw new ArgumentException("a request with KV needs the FirstToken the prefill returned", nameof(request));
        }

        var seed = request.Sampling.Seed ?? NextSeed();
        var sink = new StreamSink(request.Sampling.MaxTokens + 1);
        Post(core =>
        {
            var sequence = new Sequence
            {
                RequestId = request.RequestId,
                Tokens = [.. request.PromptTokens],
                PromptLength = request.PromptTokens.Count,
                Sampling = request.Sampling,
                Seed = seed,
                Sink = sink,
            };
            try
            {
                if (request.Kv is { } kv)
                {
                    sequence.Tokens.Add(request.FirstToken!.Value);
                    sequence.Output.Add(request.FirstToken!.Value);
                    core.AddWithKv(sequence, kv);
                }
                else
                {
                    core.Add(sequence);
                }
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                sink.OnFailed(sequence, e);
            }
        });
        await using var registration = cancellationToken.Register(() => AbortRequest(request.RequestId));
        var reader = sink.Reader;
        var finished = false;
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out var output))
                {
                    finished = output.FinishReason is not null;
                    yield return output;
                    if (finished)
                    {
                        yield break;
                    }
                }
            }
        }
        finally
        {
            // A consumer that stops early (breaks out, or fails writing a token to its own caller) must not leave the
            // sequence generating to its max tokens with its blocks and batch slot held.
            if (!finished)
            {
                AbortRequest(request.RequestId);
            }
        }
    }

    /// <summary>Copies a KV payload (from another engine's export) into this engine's cache; the memory may be reused once this completes.</summary>
    /// <remarks>
    /// Cancelling it before the engine thread reaches it skips the copy; once the copy has begun, the call waits for it
    /// to end before it reports the cancellation, so the caller may free <paramref name="source"/> as soon as it returns.
    /// </remarks>
    public Task<KvHandle> ImportKvAsync(IntPtr source, long length, IReadOnlyList<int> promptTokens, CancellationToken cancellationToken = default) =>
        InvokeOnCallerMemory(core => core.ImportKv(source, length, promptTokens), cancellationToken);

    /// <summary>Writes a handle's KV (64-byte header, then blocks) to native memory; returns bytes written.</summary>
    /// <remarks>As <see cref="ImportKvAsync"/>: <paramref name="destination"/> is never written after this call returns.</remarks>
    public Task<long> ExportKvAsync(KvHandle handle, IntPtr destination, long length, CancellationToken cancellationToken = default) =>
        InvokeOnCallerMemory(core => core.ExportKv(handle, destination, length), cancellationToken);

    /// <summary>
    /// The header (layout, dtype and payload size) of the export of a <paramref name="tokens"/>-token sequence, known
    /// before the prefill runs and without a trip to the engine thread.
    /// </summary>
    public Contracts.KvTransfer.KvPayloadHeader ExportHeader(int tokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokens);
        return (_core ?? throw new InvalidOperationException("the engine has not started")).KvHeaderFor(tokens);
    }

    /// <summary>Bytes an export of <paramref name="handle"/> takes.</summary>
    public Task<long> ExportSizeAsync(KvHandle handle, CancellationToken cancellationToken = default) =>
        Invoke(core => core.ExportSize(handle), cancellationToken);

    /// <summary>Frees the blocks under a handle (after export, or when the request is dropped).</summary>
    public Task<bool> ReleaseAsync(KvHandle handle, CancellationToken cancellationToken = default) =>
        Invoke(core => core.Release(handle), cancellationToken);

    /// <summary>
    /// Replaces MoE layer <paramref name="layer"/>'s placement between steps (see <c>ExpertShards.ApplyPlacement</c>);
    /// returns how long the engine thread spent on it: the serving pause.
    /// </summary>
    public Task<TimeSpan> ApplyPlacementAsync(int layer, int[] phy2Log, CancellationToken cancellationToken = default) =>
        Invoke(core =>
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var experts = core.Model.Experts(layer) ?? throw new ArgumentException($"layer {layer} is not an MoE layer", nameof(layer));
            experts.ApplyPlacement(phy2Log);
            return System.Diagnostics.Stopwatch.GetElapsedTime(started);
        }, cancellationToken);

    /// <summary>Next-token logits after <paramref name="tokens"/>, computed without touching the prefix cache's contents.</summary>
    public Task<float[]> LogitsAsync(IReadOnlyList<int> tokens, CancellationToken cancellationToken = default)
    {
        ValidatePrompt(tokens, SamplingParams.Greedy(1));
        return Invoke(core => core.Logits(tokens), cancellationToken);
    }

    /// <summary>Aborts a request by id (no-op when it already finished).</summary>
    public void AbortRequest(string requestId) => _aborts.Enqueue(requestId);

    private void ValidatePrompt(IReadOnlyList<int> tokens, SamplingParams sampling)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(sampling);
        if (tokens.Count == 0)
        {
            throw new ArgumentException("prompt: must hold at least one token", nameof(tokens));
        }

        if (tokens.Count >= _maxSequenceLength)
        {
            throw new ArgumentException($"prompt: {tokens.Count} tokens; this engine takes at most {_maxSequenceLength - 1} (EngineOptions.MaxSequenceLength)", nameof(tokens));
        }

        var bad = tokens.FirstOrDefault(t => t < 0 || t >= Config.VocabSize, 0);
        if (bad < 0 || bad >= Config.VocabSize)
        {
            throw new ArgumentException($"prompt: token id {bad} is outside the vocabulary [0, {Config.VocabSize})", nameof(tokens));
        }

        sampling.Validate(Config.VocabSize);
    }

    private ulong NextSeed()
    {
        lock (_seeds)
        {
            return (ulong)_seeds.NextInt64();
        }
    }

    private Task<T> Invoke<T>(Func<EngineCore, T> work, CancellationToken cancellationToken)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(core =>
        {
            try
            {
                completion.TrySetResult(work(core));
            }
            catch (Exception e)
            {
                completion.TrySetException(e);
            }
        });
        return completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Like <see cref="Invoke{T}"/> for work that reads or writes memory the caller owns (a staging buffer, a shared-memory
    /// mapping): a cancelled call must not return while the engine thread may still touch that memory, or the caller
    /// would free it under the copy. Pending work is marked skipped; work already running is waited for (it is one copy).
    /// </summary>
    private async Task<T> InvokeOnCallerMemory<T>(Func<EngineCore, T> work, CancellationToken cancellationToken)
    {
        var state = new StrongBox<int>(Pending);
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(core =>
        {
            if (Interlocked.CompareExchange(ref state.Value, Running, Pending) != Pending)
            {
                completion.TrySetCanceled(cancellationToken);
                return;
            }

            try
            {
                completion.TrySetResult(work(core));
            }
            catch (Exception e)
            {
                completion.TrySetException(e);
            }
        });

        try
        {
            return await completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (Interlocked.CompareExchange(ref state.Value, Skipped, Pending) != Pending)
            {
                // The copy has started: let it finish before the caller can release the memory. A copy of even a
                // large payload takes well under a second; the bound only guards against a wedged engine thread.
                await ((Task)completion.Task).WaitAsync(CallerMemoryCopyBound, CancellationToken.None)
                    .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            throw;
        }
    }

    private void Post(Action<EngineCore> command)
    {
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        if (!_commands.Writer.TryWrite(command))
        {
            throw new EngineOverloadedException($"the engine queue is full ({_options.MaxQueuedRequests} requests; EngineOptions.MaxQueuedRequests)");
        }
    }

    private void Loop(Func<EngineCore> build)
    {
        try
        {
            _core = build();
        }
        catch (Exception e)
        {
            _started.TrySetException(e);
            return;
        }

        _started.TrySetResult();
        var core = _core;
        var reader = _commands.Reader;
        Task<bool>? idle = null;
        while (!_stopping.IsCancellationRequested)
        {
            while (_aborts.TryDequeue(out var id))
            {
                core.Abort(id);
            }

            while (reader.TryRead(out var command))
            {
                Execute(command, core);
            }

            while (_aborts.TryDequeue(out var id))
            {
                core.Abort(id);
            }

            core.ExpireHandles();
            if (core.HasWork)
            {
                var observer = _stepObserver;
                core.Model.Timings.Enabled = observer is not null;
                try
                {
                    // Stats must show a newly admitted sequence as running before its first token reaches anyone.
                    if (core.Admit())
                    {
                        PublishStats(core);
                    }

                    core.Step();
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // A defect outside a forward pass (those fail only their batch): fail what runs, keep serving.
                    core.FailAll(e);
                }

                PublishStats(core);
                if (observer is not null && core.Model.Timings.Take() is { } timing)
                {
                    observer(timing);
                }
            }
            else
            {
                PublishStats(core);

                // One pending wait is kept across idle rounds (a new one each 50 ms would pile up waiters on the channel
                // until the next command); the timeout lets handles expire while nothing arrives.
                idle ??= reader.WaitToReadAsync(_stopping.Token).AsTask();
                try
                {
                    if (idle.Wait(IdleWait))
                    {
                        idle = null;
                    }
                }
                catch (AggregateException)
                {
                    idle = null; // stopping
                }
            }
        }

        core.AbortAll();
        while (reader.TryRead(out var command))
        {
            Execute(command, core);
        }

        core.AbortAll();
        core.Dispose();
        core.Model.Dispose();
        core.Cache.Dispose();
    }

    /// <summary>Runs a posted command; commands report their own errors to their callers, so one failing cannot stop the engine thread.</summary>
    private static void Execute(Action<EngineCore> command, EngineCore core)
    {
        try
        {
            command(core);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            System.Diagnostics.Trace.TraceError($"engine command failed: {e}");
        }
    }

    private void PublishStats(EngineCore core)
    {
        _stats = core.Stats();
        var loads = new List<ExpertLoad>();
        for (var l = 0; l < Config.NumLayers; l++)
        {
            if (core.Model.Experts(l) is { } experts)
            {
                loads.Add(new ExpertLoad(l, experts.ExpertTokens, experts.RankTokens, experts.Phy2Log));
            }
        }

        _expertLoads = loads;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        _stopping.Cancel();
        _commands.Writer.TryComplete();
        await Task.Run(() => _thread.Join(TimeSpan.FromSeconds(30))).ConfigureAwait(false);
        _stopping.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private sealed class PrefillSink(string requestId) : ISequenceSink
    {
        private readonly TaskCompletionSource<(TokenOutput, KvHandle?, int)> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<(TokenOutput First, KvHandle? Kv, int CachedTokens)> Result => _result.Task;

        public void OnToken(Sequence sequence, TokenOutput output) => _result.TrySetResult((output, null, 0)); // only an abort arrives here

        public void OnPrefilled(Sequence sequence, TokenOutput first, KvHandle? kv) => _result.TrySetResult((first, kv, sequence.CachedTokens));

        public void OnFailed(Sequence sequence, Exception error) =>
            _result.TrySetException(new InvalidOperationException($"prefill of request {requestId} failed: {error.Message}", error));
    }

    private sealed class StreamSink(int capacity) : ISequenceSink
    {
        private readonly Channel<TokenOutput> _channel = Channel.CreateBounded<TokenOutput>(new BoundedChannelOptions(capacity + 1) { SingleWriter = true, SingleReader = true });

        public ChannelReader<TokenOutput> Reader => _channel.Reader;

        public void OnToken(Sequence sequence, TokenOutput output)
        {
            _channel.Writer.TryWrite(output);
            if (output.FinishReason is not null)
            {
                _channel.Writer.TryComplete();
            }
        }

        public void OnPrefilled(Sequence sequence, TokenOutput first, KvHandle? kv) => OnToken(sequence, first);

        public void OnFailed(Sequence sequence, Exception error) => _channel.Writer.TryComplete(error);
    }
}
