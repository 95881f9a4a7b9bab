using MoeDapr.Cli.Statistics;

namespace MoeDapr.Cli.Bench;

/// <summary>Per-request figures of one path, in round order; medians on read.</summary>
internal sealed class PathTimings
{
    private readonly List<double> _ttft = [];
    private readonly List<double> _tpot = [];
    private readonly List<double> _steady = [];
    private readonly List<double> _decodeFirst = [];

    public double Ttft => SampleStatistics.Median(_ttft);

    public IReadOnlyList<double> TtftRounds => _ttft;

    public IReadOnlyList<double> TpotRounds => _tpot;

    public double Tpot => SampleStatistics.Median(_tpot);

    /// <summary>Per token after the second one: the decode loop alone, without the one-off costs before it.</summary>
    public double Steady => SampleStatistics.Median(_steady);

    /// <summary>From prefill's answer to decode's first streamed token: the call, the KV import and one step.</summary>
    public double DecodeFirst => SampleStatistics.Median(_decodeFirst);

    private readonly List<double> _cpu = [];
    private readonly List<double> _clientCpu = [];

    /// <summary>CPU seconds the serving process spent per request.</summary>
    public double Cpu => SampleStatistics.Median(_cpu);

    /// <summary>CPU seconds this process spent reading the stream per request.</summary>
    public double ClientCpu => SampleStatistics.Median(_clientCpu);

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
