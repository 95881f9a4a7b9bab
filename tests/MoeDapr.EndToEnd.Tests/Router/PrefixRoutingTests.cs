using MoeDapr.EndToEnd.Tests.Overload;

namespace MoeDapr.EndToEnd.Tests.Router;

/// <summary>
/// Prefix-aware prefill choice on real processes: two prefill replicas, and prompts that repeat one long prefix go to the
/// replica that computed it, where its KV blocks are found in the prefix cache.
/// </summary>
[Collection(RouterStackCollection.Name)]
public sealed class PrefixRoutingTests(RouterStackFixture stack)
{
    private const int Requests = 6;

    private const string OverlapMetric = "moedapr_router_prefill_routed_overlap_blocks_total";

    private const string CachedTokensMetric = "moedapr_prefix_cached_prompt_tokens_total";

    private const int BlockSize = 16; // the engine's default block size, which the stack runs with

    private const string Prefix =
        "The river town kept a ledger of every boat that passed the old stone bridge, and the keeper of the ledger " +
        "wrote down the name of each captain, the cargo in the hold, the weather on the water, the price of salt and " +
        "grain at the market, and the news the sailors brought from the cities down the coast, so that after many " +
        "years the ledger held the whole history of the valley in a plain and patient hand that anyone could read";

    [Fact]
    public async Task Completions_RepeatedLongPrefix_AllGoToThePrefillReplicaHoldingIt()
    {
        string[] replicas = [AppIds.Prefill, AppIds.Replica(AppIds.Prefill, 2)];
        var before = await CountersAsync(replicas);
        var routedBefore = await stack.RouterMetricAsync(OverlapMetric);
        var cachedBefore = await stack.RouterMetricAsync(CachedTokensMetric);

        for (var i = 0; i < Requests; i++)
        {
            // One after the other: each repeat finds the prefix already computed by the first.
            using var request = stack.Completion($"{Prefix}. Question {i}: who kept the ledger?", maxTokens: 2);
            using var response = await stack.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var after = await CountersAsync(replicas);
        var queries = replicas.Select((_, r) => after[r].Queries - before[r].Queries).ToArray();
        var hits = replicas.Select((_, r) => after[r].Hits - before[r].Hits).ToArray();
        var chosen = queries[0] > 0 ? 0 : 1;

        // Every request was prefilled on one replica; the other never looked a block up.
        Assert.True(queries[1 - chosen] == 0, $"prefix lookups per replica: {string.Join(", ", queries)} (hits {string.Join(", ", hits)})");

        // The first computed the prefix; each repeat reused its blocks (many per request, not one or two).
        var blocksPerRepeat = hits[chosen] / (Requests - 1);
        Assert.True(blocksPerRepeat >= 8, $"{hits[chosen]} cached blocks over {Requests - 1} repeats on {replicas[chosen]}");
        var routed = await stack.RouterMetricAsync(OverlapMetric) - routedBefore;
        Assert.True(routed >= hits[chosen], $"the router expected {routed} cached blocks where the replica found {hits[chosen]}");

        // The prefill results say how much of each prompt came from the cache, and the router counts it.
        var cachedTokens = await stack.RouterMetricAsync(CachedTokensMetric) - cachedBefore;
        Assert.Equal(hits[chosen] * BlockSize, cachedTokens);
    }

    private async Task<(double Hits, double Queries)[]> CountersAsync(string[] replicas)
    {
        var result = new (double Hits, double Queries)[replicas.Length];
        for (var r = 0; r < replicas.Length; r++)
        {
            var app = stack.App(replicas[r]);
            result[r] = (await stack.MetricAsync(app, "moedapr_prefix_cache_hits_total"), await stack.MetricAsync(app, "moedapr_prefix_cache_queries_total"));
        }

        return result;
    }
}
