using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using MoeDapr.Contracts;
using MoeDapr.Engine.Checkpoint;
using MoeDapr.Engine.Scheduling;
using MoeDapr.Model;

namespace MoeDapr.Engine;

/// <summary>
/// One model instance serving requests: a dedicated engine thread owns the model, the paged KV cache and
/// the scheduler (TorchSharp dispose scopes and no-grad are thread-local); callers post work through a
/// bounded queue and get tasks and token streams back.
/// </summary>
public sealed partial class InferenceEngine : IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan IdleWait = TimeSpan.FromMilliseconds(50);
    private readonly EngineOptions _options;
    private readonly EngineMailbox _mailbox;
    private readonly ConcurrentQueue<string> _aborts = new();
    private readonly Thread _thread;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Random _seeds;
    private readonly PromptRules _rules;
    private EngineCore? _core;
    private volatile EngineStats _stats = new();
    private volatile IReadOnlyList<ExpertLoad> _expertLoads = [];
    private volatile Action<StepTiming>? _stepObserver;

    private InferenceEngine(EngineOptions options, ModelConfig config, Func<EngineCore> build, Random? seeds)
    {
        _options = options;
        Config = config;
        _rules = PromptRules.For(config, options.MaxSequenceLength);
        _seeds = seeds ?? new Random();
        _mailbox = new EngineMailbox(options.MaxQueuedRequests);
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
        var engine = new InferenceEngine(options, config, () => EngineBuilder.Build(options, config, weights, tokenizer, time ?? TimeProvider.System), seeds);
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
        var seeds = batch.Select(r => SeedOf(r.Sampling)).ToArray();
        _mailbox.Post(core =>
        {
            for (var i = 0; i < batch.Count; i++)
            {
                var r = batch[i];
                var sequence = Sequence.ForPrompt(r.RequestId, r.PromptTokens, r.Sampling, seeds[i], sinks[i], prefillOnly: true);
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
            results[i] = new PrefillResult(batch[i].RequestId, first, unchecked((long)seeds[i]), kv, cached);
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

        var seed = SeedOf(request.Sampling);
        var sink = new StreamSink(request.Sampling.MaxTokens + 1);
        _mailbox.Post(core =>
        {
            var sequence = Sequence.ForPrompt(request.RequestId, request.PromptTokens, request.Sampling, seed, sink);
            try
            {
                if (request.FirstToken is { } first)
                {
                    // Output 0 is given, not sampled: without KV the prefill covers it too and samples output 1,
                    // as a preempted sequence is recomputed.
                    sequence.Tokens.Add(first);
                    sequence.Output.Add(first);
                }

                if (request.Kv is { } kv)
                {
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
    public Task<EngineKvHandle> ImportKvAsync(IntPtr source, long length, IReadOnlyList<int> promptTokens, CancellationToken cancellationToken = default) =>
        _mailbox.InvokeOnCallerMemory(core => core.ImportKv(source, length, promptTokens), cancellationToken);

    /// <summary>Writes a handle's KV (64-byte header, then blocks) to native memory; returns bytes written.</summary>
    /// <remarks>As <see cref="ImportKvAsync"/>: <paramref name="destination"/> is never written after this call returns.</remarks>
    public Task<long> ExportKvAsync(EngineKvHandle handle, IntPtr destination, long length, CancellationToken cancellationToken = default) =>
        _mailbox.InvokeOnCallerMemory(core => core.ExportKv(handle, destination, length), cancellationToken);

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
    public Task<long> ExportSizeAsync(EngineKvHandle handle, CancellationToken cancellationToken = default) =>
        _mailbox.Invoke(core => core.ExportSize(handle), cancellationToken);

    /// <summary>Frees the blocks under a handle (after export, or when the request is dropped).</summary>
    public Task<bool> ReleaseAsync(EngineKvHandle handle, CancellationToken cancellationToken = default) =>
        _mailbox.Invoke(core => core.Release(handle), cancellationToken);

    /// <summary>
    /// Replaces MoE layer <paramref name="layer"/>'s placement between steps (see <c>ExpertShards.ApplyPlacement</c>);
    /// returns how long the engine thread spent on it: the serving pause.
    /// </summary>
    public Task<TimeSpan> ApplyPlacementAsync(int layer, int[] phy2Log, CancellationToken cancellationToken = default) =>
        _mailbox.Invoke(core =>
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
        return _mailbox.Invoke(core => core.Logits(tokens), cancellationToken);
    }

    /// <summary>Aborts a request by id (no-op when it already finished).</summary>
    public void AbortRequest(string requestId) => _aborts.Enqueue(requestId);

    /// <summary>Applies the prompt rules (<see cref="PromptRules"/>) and the sampling ranges; throws naming the first broken one.</summary>
    private void ValidatePrompt(IReadOnlyList<int> tokens, SamplingParams sampling)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(sampling);
        if ((_rules.Check(tokens, sampling.MaxTokens) ?? sampling.Validate(Config.VocabSize)) is { } problem)
        {
            throw new ArgumentException(problem, problem[..problem.IndexOf(':', StringComparison.Ordinal)]);
        }
    }

    /// <summary>The request's seed as the draws use it (the wire's signed seed, bit for bit), or a fresh one.</summary>
    private ulong SeedOf(SamplingParams sampling) => sampling.Seed is { } seed ? unchecked((ulong)seed) : NextSeed();

    private ulong NextSeed()
    {
        lock (_seeds)
        {
            return (ulong)_seeds.NextInt64();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        _stopping.Cancel();
        _mailbox.Close();
        await Task.Run(() => _thread.Join(TimeSpan.FromSeconds(30))).ConfigureAwait(false);
        _stopping.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
