using System.Diagnostics;
using StackExchange.Redis;

namespace MoeDapr.Sidecar.Tests.Infrastructure;

/// <summary>A real redis-server on a free loopback port, without persistence, killed on dispose.</summary>
public sealed class RedisServer : IAsyncLifetime
{
    private Process? _process;

    public int Port { get; private set; }

    public string Host => $"127.0.0.1:{Port}";

    public ConnectionMultiplexer? Connection { get; private set; }

    public async Task InitializeAsync()
    {
        Port = FreePort.Next();
        var info = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await Poll.UntilAsync(async () =>
        {
            try
            {
                Connection ??= await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions { EndPoints = { Host }, ConnectTimeout = 1000, AbortOnConnectFail = true });
                await Connection.GetDatabase().PingAsync();
                return true;
            }
            catch (RedisConnectionException)
            {
                Connection = null;
                return false;
            }
        }, TimeSpan.FromSeconds(15), "redis-server to answer PING");
    }

    public async Task DisposeAsync()
    {
        if (Connection is not null)
        {
            await Connection.CloseAsync();
            Connection.Dispose();
        }

        if (_process is not null)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (InvalidOperationException)
            {
                // Already exited.
            }

            _process.Dispose();
        }
    }
}
