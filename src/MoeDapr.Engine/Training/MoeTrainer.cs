using System.Diagnostics;
using MoeDapr.Engine.Checkpoint;
using MoeDapr.Model;
using MoeDapr.Model.Tokenization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Training;

/// <summary>
/// Trains a small MoE from scratch on the CPU: a byte-level BPE tokenizer learned from the corpus, then
/// <see cref="MoeTrainingModel"/> with AdamW (warm-up, cosine decay, gradient clipping) on cross-entropy plus the
/// router load-balancing loss, validated on a held-out split, and saved in the Hugging Face layout the engine loads.
/// </summary>
public static class MoeTrainer
{
    /// <summary>The config of the model <paramref name="options"/> trains: the preset's, with the sizes and vocabulary it overrides.</summary>
    public static ModelConfig ConfigFor(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = ModelPresets.Create(options.Family, options.Preset, CheckpointWriter.TorchDtypeName(options.Dtype));
        if (options.HiddenSize is { } hidden)
        {
            var headDim = Math.Min(config.HeadDim, hidden);
            var heads = Math.Max(1, hidden / headDim);
            // Keep the preset's query-to-KV head ratio where the head count allows it.
            var kvHeads = heads % (config.NumHeads / config.NumKvHeads) == 0 ? heads / (config.NumHeads / config.NumKvHeads) : heads;
            config = config with { HiddenSize = hidden, HeadDim = headDim, NumHeads = heads, NumKvHeads = kvHeads };
        }

        config = config with
        {
            NumLayers = options.Layers ?? config.NumLayers,
            NumExperts = options.Experts ?? config.NumExperts,
            NumExpertsPerToken = Math.Min(config.NumExpertsPerToken, options.Experts ?? config.NumExperts),
        };
        if (options.ExpertIntermediateSize is { } inter)
        {
            config = config with { MoeIntermediateSize = inter, DenseIntermediateSize = config.Family == ModelFamily.Mixtral ? inter : inter * 4 };
        }

        if (options.VocabSize is not { } vocab || vocab == config.VocabSize)
        {
            return config;
        }

        // Qwen's specials sit at the top of the vocabulary (see GeneratedTokenizer), so they move with its size.
        return config.Family == ModelFamily.Mixtral
            ? config with { VocabSize = vocab }
            : config with { VocabSize = vocab, BosTokenId = vocab - 3, EosTokenIds = [vocab - 3] };
    }

    /// <summary>
    /// Trains and writes the checkpoint to <paramref name="outputDir"/>; <paramref name="progress"/> hears every step and
    /// <paramref name="trained"/>, when given, sees the final module before it is saved (and disposed).
    /// </summary>
    public static TrainingResult Train(TrainingOptions options, string outputDir, Action<TrainingProgress>? progress = null,
        Action<MoeTrainingModel>? trained = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Threads > 0)
        {
            set_num_threads(options.Threads);
        }

        var clock = Stopwatch.StartNew();
        var config = ConfigFor(options);
        var tokenizerFiles = GeneratedTokenizer.Create(config, string.Join("\n", options.Documents), cancellationToken);
        var tokenizer = HuggingFaceTokenizer.Parse(tokenizerFiles.TokenizerJson);
        var dataset = new TokenDataset(Encode(config, tokenizer, options.Documents), options.ValidationFraction, options.SeqLen * 16);
        var validation = dataset.ValidationWindows(options.SeqLen, options.EvalWindows);
        if (validation.Count == 0)
        {
            throw new ArgumentException(
                $"TrainingOptions.Documents: the corpus is too small for one validation window of {options.SeqLen + 1} tokens ({dataset.ValidationTokens} held out)",
                nameof(options));
        }

        manual_seed(options.Seed);
        using var model = MoeTrainingModel.Create(config, options.Seed);
        var tensors = model.CheckpointTensors();
        var parameters = tensors.Values.Select(t => (Parameter)t).ToArray();
        // Norm scales take no weight decay: decaying them would pull every activation towards zero.
        using var optimizer = optim.AdamW(
            [
                new AdamW.ParamGroup(parameters.Where(p => p.dim() > 1), new AdamW.Options { weight_decay = options.WeightDecay }),
                new AdamW.ParamGroup(parameters.Where(p => p.dim() == 1), new AdamW.Options { weight_decay = 0 }),
            ],
            lr: options.LearningRate, beta1: 0.9, beta2: 0.95, eps: 1e-8);
        var schedule = new LearningRateSchedule(options.LearningRate, options.WarmupSteps);
        var random = new Random(unchecked((int)options.Seed));

        var initialPerplexity = Evaluate(model, validation);
        var trainStart = clock.Elapsed;
        var step = 0;
        long tokensSeen = 0;
        double loss = double.NaN, perplexity = initialPerplexity;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var progressFraction = Progress(options, step, clock.Elapsed - trainStart);
            if (progressFraction >= 1)
            {
                break;
            }

            var rate = schedule.RateAt(step, progressFraction);
            foreach (var group in optimizer.ParamGroups)
            {
                group.LearningRate = rate;
            }

            double balance;
            using (var scope = NewDisposeScope())
            {
                var (inputs, targets) = dataset.SampleTrain(random, options.Batch, options.SeqLen);
                var forward = model.Forward(tensor(inputs).view(options.Batch, options.SeqLen));
                var crossEntropy = nn.functional.cross_entropy(forward.Logits.view(-1, config.VocabSize), tensor(targets));
                var aux = LoadBalancingLoss.Compute(forward.RouterLogits, config.NumExperts, config.NumExpertsPerToken);
                var total = crossEntropy + (options.RouterAuxLossCoefficient * aux);
                optimizer.zero_grad();
                total.backward();
                nn.utils.clip_grad_norm_(parameters, options.GradientClip);
                optimizer.step();
                loss = crossEntropy.item<float>();
                balance = aux.item<float>() / config.NumExpertsPerToken;
            }

            step++;
            tokensSeen += (long)options.Batch * options.SeqLen;
            var last = Progress(options, step, clock.Elapsed - trainStart) >= 1;
            double? measured = null;
            if (step % options.EvalEvery == 0 || last)
            {
                measured = perplexity = Evaluate(model, validation);
            }

            var elapsed = clock.Elapsed - trainStart;
            progress?.Invoke(new TrainingProgress(step, options.Steps, loss, balance, measured, rate,
                tokensSeen / Math.Max(elapsed.TotalSeconds, 1e-9), tokensSeen, clock.Elapsed, Remaining(options, step, elapsed)));
        }

        trained?.Invoke(model);
        var files = Save(outputDir, config, tokenizerFiles, tensors, options.Dtype);
        return new TrainingResult(config, step, tokensSeen, dataset.TrainTokens, dataset.ValidationTokens, initialPerplexity, perplexity, loss,
            clock.Elapsed, files);
    }

    /// <summary>Token ids of the corpus: Qwen documents end with &lt;|endoftext|&gt;, Mixtral documents start with &lt;s&gt;.</summary>
    public static IReadOnlyList<int> Encode(ModelConfig config, HuggingFaceTokenizer tokenizer, IReadOnlyList<string> documents)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(documents);
        var endOfText = config.Family == ModelFamily.Mixtral ? (int?)null : tokenizer.TokenToId("<|endoftext|>");
        // Long documents are encoded in pieces on all cores; a piece ends after a newline that a non-space follows,
        // where no byte-level pre-tokenizer split can cross, so the ids equal those of encoding the document whole.
        // (SentencePiece-style normalisation prepends ▁ to every text it sees, so Mixtral documents stay whole.)
        var pieceChars = endOfText is null ? int.MaxValue : 1 << 16;
        var pieces = documents.SelectMany((text, doc) => LineAlignedPieces(text, pieceChars).Select((piece, i) => (doc, First: i == 0, piece))).ToArray();
        var encoded = new IReadOnlyList<int>[pieces.Length];
        Parallel.For(0, pieces.Length, i => encoded[i] = tokenizer.Encode(pieces[i].piece, addSpecialTokens: endOfText is null && pieces[i].First));
        var tokens = new List<int>();
        for (var i = 0; i < pieces.Length; i++)
        {
            tokens.AddRange(encoded[i]);
            var lastOfDocument = i + 1 == pieces.Length || pieces[i + 1].doc != pieces[i].doc;
            if (lastOfDocument && endOfText is { } id)
            {
                tokens.Add(id);
            }
        }

        return tokens;
    }

    private static IEnumerable<string> LineAlignedPieces(string text, int targetChars)
    {
        var start = 0;
        while (text.Length - start > targetChars)
        {
            var cut = -1;
            for (var i = start + targetChars; i < text.Length - 1 && cut < 0; i++)
            {
                if (text[i] == '\n' && !char.IsWhiteSpace(text[i + 1]))
                {
                    cut = i + 1;
                }
            }

            if (cut < 0)
            {
                break;
            }

            yield return text[start..cut];
            start = cut;
        }

        yield return text[start..];
    }

    /// <summary>exp(mean next-token cross-entropy) of <paramref name="model"/> over <paramref name="windows"/>.</summary>
    public static double Evaluate(MoeTrainingModel model, IReadOnlyList<(long[] Inputs, long[] Targets)> windows)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(windows);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        double sum = 0;
        long count = 0;
        foreach (var (inputs, targets) in windows)
        {
            var logits = model.Forward(tensor(inputs).view(1, -1)).Logits;
            sum += nn.functional.cross_entropy(logits.view(-1, model.Config.VocabSize), tensor(targets), reduction: nn.Reduction.Sum).item<float>();
            count += targets.Length;
        }

        return Math.Exp(sum / count);
    }

    private static IReadOnlyList<string> Save(string dir, ModelConfig config, TokenizerFiles tokenizer, IReadOnlyDictionary<string, Tensor> tensors, string dtype)
    {
        CheckpointWriter.WriteConfig(dir, config);
        CheckpointWriter.WriteGenerationConfig(dir, CheckpointWriter.DefaultGenerationConfig(config));
        CheckpointWriter.WriteTokenizer(dir, tokenizer);
        CheckpointWriter.WriteWeights(dir, config, tensors, dtype);
        return Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal).ToArray();
    }

    private static double Progress(TrainingOptions options, int step, TimeSpan elapsed)
    {
        var bySteps = options.Steps is { } steps ? (double)step / steps : 0;
        var byTime = options.Duration is { } duration ? elapsed / duration : 0;
        return options.Steps is null && options.Duration is null ? 1 : Math.Max(bySteps, byTime);
    }

    private static TimeSpan Remaining(TrainingOptions options, int step, TimeSpan elapsed)
    {
        var remaining = TimeSpan.MaxValue;
        if (options.Steps is { } steps)
        {
            remaining = elapsed / step * Math.Max(0, steps - step);
        }

        if (options.Duration is { } duration && duration - elapsed < remaining)
        {
            remaining = duration - elapsed;
        }

        return remaining < TimeSpan.Zero ? TimeSpan.Zero : remaining;
    }
}
