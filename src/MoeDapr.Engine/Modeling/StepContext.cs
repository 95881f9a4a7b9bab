using TorchSharp;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Modeling;

/// <summary>
/// Device tensors derived once per step from a <see cref="ForwardBatch"/> and shared by every layer:
/// RoPE factors, where new keys/values go in the paged cache, how to gather each sequence's context,
/// and the attention mask. Created inside the step's dispose scope.
/// </summary>
internal sealed class StepContext
{
    public StepContext(ForwardBatch batch, int blockSize, int queryGroups, RotaryTables rope, Device device)
    {
        var b = batch.Sequences;
        var t = batch.Tokens.Length;
        var maxQ = batch.QueryLengths.Max();
        var maxKv = 0;
        for (var s = 0; s < b; s++)
        {
            maxKv = Math.Max(maxKv, batch.StartPositions[s] + batch.QueryLengths[s]);
        }

        var positions = new long[t];
        var writeBlock = new long[t];
        var writeOffset = new long[t];
        var queryGather = new long[b * maxQ];
        var outputGather = new long[t];
        var lastToken = new long[b];
        var readBlock = new long[b * maxKv];
        var readOffset = new long[b * maxKv];
        var queryLimit = new long[b * queryGroups * maxQ];
        var flat = 0;
        for (var s = 0; s < b; s++)
        {
            var start = batch.StartPositions[s];
            var n = batch.QueryLengths[s];
            var table = batch.BlockTables[s];
            for (var i = 0; i < n; i++)
            {
                var pos = start + i;
                positions[flat + i] = pos;
                writeBlock[flat + i] = table[pos / blockSize];
                writeOffset[flat + i] = pos % blockSize;
                outputGather[flat + i] = (s * maxQ) + i;
            }

            for (var i = 0; i < maxQ; i++)
            {
                // Padded query rows repeat the last real row so no mask row is empty (an empty row gives NaN).
                queryGather[(s * maxQ) + i] = flat + Math.Min(i, n - 1);
                var limit = start + Math.Min(i, n - 1);
                for (var g = 0; g < queryGroups; g++)
                {
                    queryLimit[(((s * queryGroups) + g) * maxQ) + i] = limit;
                }
            }

            var context = start + n;
            for (var p = 0; p < context; p++)
            {
                readBlock[(s * maxKv) + p] = table[p / blockSize];
                readOffset[(s * maxKv) + p] = p % blockSize;
            }

            lastToken[s] = flat + n - 1;
            flat += n;
        }

        Sequences = b;
        Tokens = t;
        MaxQuery = maxQ;
        MaxContext = maxKv;
        TokenIds = tensor(batch.Tokens.Select(x => (long)x).ToArray(), dtype: ScalarType.Int64, device: device);
        var positionTensor = tensor(positions, dtype: ScalarType.Int64, device: device);
        Cos = rope.Cos.index_select(0, positionTensor).unsqueeze(1); // [T, 1, head_dim]
        SinSigned = rope.SinSigned.index_select(0, positionTensor).unsqueeze(1); // [T, 1, head_dim]
        WriteBlock = tensor(writeBlock, dtype: ScalarType.Int64, device: device);
        WriteOffset = tensor(writeOffset, dtype: ScalarType.Int64, device: device);
        QueryGather = tensor(queryGather, dtype: ScalarType.Int64, device: device);
        OutputGather = tensor(outputGather, dtype: ScalarType.Int64, device: device);
        LastToken = tensor(lastToken, dtype: ScalarType.Int64, device: device);
        ReadBlock = tensor(readBlock, [b, maxKv], dtype: ScalarType.Int64, device: device);
        ReadOffset = tensor(readOffset, [b, maxKv], dtype: ScalarType.Int64, device: device);
        var limits = tensor(queryLimit, [b, 1, queryGroups * maxQ, 1], dtype: ScalarType.Int64, device: device);
        Mask = arange(maxKv, dtype: ScalarType.Int64, device: device).view(1, 1, 1, maxKv) <= limits; // [B, 1, g*maxQ, maxKv]
    }

    public int Sequences { get; }
    public int Tokens { get; }
    public int MaxQuery { get; }
    public int MaxContext { get; }

    /// <summary>[T] token ids.</summary>
    public Tensor TokenIds { get; }

    /// <summary>[T, 1, head_dim] cosines of each token's position.</summary>
    public Tensor Cos { get; }

    /// <summary>[T, 1, head_dim] sines with the first half negated (rotate-half folded into a roll).</summary>
    public Tensor SinSigned { get; }

    /// <summary>[T] block and in-block offset each new token's K/V is written to.</summary>
    public Tensor WriteBlock { get; }

    public Tensor WriteOffset { get; }

    /// <summary>[B * maxQ] row of the flat token tensor for each padded query slot.</summary>
    public Tensor QueryGather { get; }

    /// <summary>[T] padded query slot of each flat token.</summary>
    public Tensor OutputGather { get; }

    /// <summary>[B] flat index of each sequence's last new token (its logits give the next token).</summary>
    public Tensor LastToken { get; }

    /// <summary>[B, maxKv] block and offset of each context position (padding reads block 0, masked).</summary>
    public Tensor ReadBlock { get; }

    public Tensor ReadOffset { get; }

    /// <summary>[B, 1, g * maxQ, maxKv] true where a query may attend to a key.</summary>
    public Tensor Mask { get; }
}
