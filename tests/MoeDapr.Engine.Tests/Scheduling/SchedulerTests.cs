using MoeDapr.Contracts;
using MoeDapr.Engine.Kv;
using MoeDapr.Engine.Sampling;
using MoeDapr.Engine.Scheduling;

namespace MoeDapr.Engine.Tests.Scheduling;

/// <summary>The scheduler on its own: plans and outputs by hand, no model and no libtorch.</summary>
public sealed class SchedulerTests
{
    private const int BlockSize = 4;

    [Fact]
    public void Schedule_PromptBeyondPrefillBudget_ComputesItInChunksAndSamplesAfterTheLast()
    {
        var harness = new Harness(blocks: 16, maxPrefillTokens: 8);
        var s = harness.Add("long", promptLength: 20);

        var chunks = new List<(int Start, int Count, bool Samples)>();
        while (s.Output.Count == 0)
        {
            var plan = harness.Scheduler.Schedule()!;
            var chunk = Assert.Single(plan.Chunks);
            chunks.Add((chunk.Start, chunk.Count, chunk.SamplesNext));
            harness.Apply(plan, token: 7);
        }

        Assert.Equal([(0, 8, false), (8, 8, false), (16, 4, true)], chunks);
        Assert.Equal(20, harness.Scheduler.PromptTokens);
        Assert.Equal([7], s.Output);
    }

    [Theory]
    // The running sequence's prompt was the last step, so under "alternate" its stream gets the next one.
    [InlineData(StepPolicies.Alternate, new[] { StepKind.Decode, StepKind.Prefill, StepKind.Decode, StepKind.Prefill })]
    [InlineData(StepPolicies.PrefillFirst, new[] { StepKind.Prefill, StepKind.Prefill, StepKind.Prefill, StepKind.Decode })]
    public void Schedule_PromptArrivesWhileOthersDecode_StepKindsFollowThePolicy(string policy, StepKind[] expected)
    {
        var harness = new Harness(blocks: 32, maxPrefillTokens: 4, policy);
        harness.Add("running", promptLength: 3);
        harness.Apply(harness.Scheduler.Schedule()!, token: 1); // its prompt, then it decodes
        harness.Add("new", promptLength: 12); // three prefill steps of 4

        var kinds = Enumerable.Range(0, 4).Select(_ =>
        {
            var plan = harness.Scheduler.Schedule()!;
            harness.Apply(plan, token: 1);
            return plan.Kind;
        }).ToArray();

        Assert.Equal(expected, kinds);
    }

    [Fact]
    public void Schedule_PoolRunsDry_PreemptsTheNewestSequenceWhichRecomputesLater()
    {
        // The older sequence's 5th token needs a second block; the pool's two blocks hold one prompt each.
        var harness = new Harness(blocks: 2, maxPrefillTokens: 16);
        var old = harness.Add("old", promptLength: 4);
        var young = harness.Add("young", promptLength: 2);
        harness.Apply(harness.Scheduler.Schedule()!, token: 1); // both prompts: the pool is full

        var plan = harness.Scheduler.Schedule()!;

        Assert.Equal(StepKind.Decode, plan.Kind);
        Assert.Same(old, Assert.Single(plan.Chunks).Sequence);
        Assert.Same(young, Assert.Single(plan.Preempted));
        Assert.Equal(0, young.Computed);
        Assert.Empty(young.Blocks);
        Assert.Equal(1, harness.Scheduler.Waiting);
    }

    [Fact]
    public void Apply_MaxTokensReached_FinishesWithLengthAndFreesBlocks()
    {
        var harness = new Harness(blocks: 8, maxPrefillTokens: 16);
        harness.Add("short", promptLength: 5, SamplingParams.Greedy(2));

        harness.Apply(harness.Scheduler.Schedule()!, token: 3);
        harness.Apply(harness.Scheduler.Schedule()!, token: 4);

        Assert.Equal([null, FinishReason.Length], harness.Outputs.Select(o => o.FinishReason));
        Assert.False(harness.Scheduler.HasWork);
        Assert.Equal(0, harness.Pool.Used);
    }

    [Fact]
    public void Apply_StopStringSpanningTokens_FinishesAtTheTokenThatCompletesIt()
    {
        var harness = new Harness(blocks: 8, maxPrefillTokens: 16, tokenizer: new LetterTokenizer());
        harness.Add("stop", promptLength: 2, SamplingParams.Greedy(10) with { StopStrings = ["cd"] });

        foreach (var token in new[] { 0, 2, 3, 4 }) // a, c, d, e
        {
            if (harness.Scheduler.Schedule() is { IsEmpty: false } plan)
            {
                harness.Apply(plan, token);
            }
        }

        Assert.Equal([0, 2, 3], harness.Outputs.Select(o => o.TokenId));
        Assert.Equal(FinishReason.Stop, harness.Outputs[^1].FinishReason);
        Assert.Equal("cd", harness.Outputs[^1].StopString);
    }

    [Fact]
    public void Apply_StopStringInsideOneCharacterOfTwoTokens_MatchesOnlyOnceTheCharacterIsWhole()
    {
        // Tokens 40 and 41 are the two UTF-8 bytes of "é": 40 alone decodes to U+FFFD, which must not match "\uFFFD".
        var harness = new Harness(blocks: 8, maxPrefillTokens: 16, tokenizer: new LetterTokenizer());
        harness.Add("accent", promptLength: 2, SamplingParams.Greedy(10) with { StopStrings = ["\uFFFD", "aé"] });

        foreach (var token in new[] { 0, 40, 41, 1 })
        {
            if (harness.Scheduler.Schedule() is { IsEmpty: false } plan)
            {
                harness.Apply(plan, token);
            }
        }

        Assert.Equal([0, 40, 41], harness.Outputs.Select(o => o.TokenId));
        Assert.Equal("aé", harness.Outputs[^1].StopString);
    }

    [Fact]
    public void Apply_PrefillOnlySequence_HoldsItsPromptKvUnderAHandle()
    {
        var harness = new Harness(blocks: 8, maxPrefillTokens: 16);
        harness.Add("prefill", promptLength: 9, SamplingParams.Greedy(4), prefillOnly: true);

        harness.Apply(harness.Scheduler.Schedule()!, token: 5);

        var handle = Assert.IsType<EngineKvHandle>(harness.Handle);
        Assert.Equal(9, handle.Tokens);
        Assert.Equal(1, harness.Handles.Count);
        Assert.Equal(3, harness.Handles.Get(handle).Blocks.Count);
        Assert.False(harness.Scheduler.HasWork);
    }

    [Fact]
    public void Create_UnknownPolicyName_NamesTheKnownOnes()
    {
        var error = Assert.Throws<ArgumentException>(() => StepPolicies.Create("fastest"));

        Assert.Contains(StepPolicies.Alternate, error.Message, StringComparison.Ordinal);
        Assert.Equal(StepPolicies.PrefillFirst, StepPolicies.Create(StepPolicies.PrefillFirst).Name);
    }

    /// <summary>A scheduler over a pool, with a sink that records what it emits.</summary>
    private sealed class Harness : ISequenceSink
    {
        public Harness(int blocks, int maxPrefillTokens, string policy = StepPolicies.Alternate, MoeDapr.Model.ITextTokenizer? tokenizer = null)
        {
            Pool = new BlockPool(blocks);
            Handles = new KvHandleTable(Pool, TimeProvider.System, TimeSpan.FromMinutes(1));
            Scheduler = new Scheduler(
                Pool, BlockSize, new SchedulerLimits(8, maxPrefillTokens, 256), StepPolicies.Create(policy),
                new StopChecker([95], tokenizer, 256), Handles, TimeProvider.System);
        }

        public BlockPool Pool { get; }

        public KvHandleTable Handles { get; }

        public Scheduler Scheduler { get; }

        public List<TokenOutput> Outputs { get; } = [];

        public EngineKvHandle? Handle { get; private set; }

        public Sequence Add(string id, int promptLength, SamplingParams? sampling = null, bool prefillOnly = false)
        {
            var sequence = new Sequence
            {
                RequestId = id,
                Tokens = [.. Enumerable.Range(10 + id.Length, promptLength)],
                PromptLength = promptLength,
                Sampling = sampling ?? SamplingParams.Greedy(100),
                Seed = 1,
                Sink = this,
                PrefillOnly = prefillOnly,
            };
            Scheduler.Add(sequence);
            return sequence;
        }

        /// <summary>Applies <paramref name="plan"/> as if the model had sampled <paramref name="token"/> wherever it samples.</summary>
        public void Apply(StepPlan plan, int token) =>
            Scheduler.Apply(plan, new StepOutputs(plan.Chunks.Select(c => c.SamplesNext ? new SampledToken(token, -0.5f, []) : null).ToArray()));

        public void OnToken(Sequence sequence, TokenOutput output) => Outputs.Add(output);

        public void OnPrefilled(Sequence sequence, TokenOutput first, EngineKvHandle? kv)
        {
            Outputs.Add(first);
            Handle = kv;
        }

        public void OnFailed(Sequence sequence, Exception error) => throw new InvalidOperationException("unexpected failure", error);
    }

    /// <summary>Token i &lt; 26 is the letter 'a' + i; 40 then 41 are the two UTF-8 bytes of "é".</summary>
    private sealed class LetterTokenizer : MoeDapr.Model.ITextTokenizer
    {
        public int VocabSize => 96;
        public int? BosTokenId => null;
        public IReadOnlyList<int> EosTokenIds => [];
        public IReadOnlyList<int> Encode(string text, bool addSpecialTokens = true) => throw new NotSupportedException();

        public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
        {
            var bytes = ids.SelectMany(i => i switch
            {
                40 => new byte[] { 0xC3 },
                41 => [0xA9],
                < 26 => [(byte)('a' + i)],
                _ => [(byte)'?'],
            }).ToArray();
            return System.Text.Encoding.UTF8.GetString(bytes);
        }
    }
}
