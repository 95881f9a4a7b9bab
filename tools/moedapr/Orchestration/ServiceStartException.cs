using System.Net.Sockets;

namespace MoeDapr.Cli.Orchestration;

/// <summary>A child service that did not come up; carries its last log lines.</summary>
public sealed class ServiceStartException(string service, string reason, string logTail)
    : Exception($"{service} {reason}.{Environment.NewLine}Last lines of its log:{Environment.NewLine}{logTail}")
{
    public string Service { get; } = service;

    public string LogTail { get; } = logTail;
}
