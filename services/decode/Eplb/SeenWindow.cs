namespace MoeDapr.Decode.Eplb;

/// <summary>The last window sequence seen from one replica instance.</summary>
public sealed record SeenWindow(long Sequence, long EndUnixMs);
