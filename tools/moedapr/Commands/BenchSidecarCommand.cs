using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using MoeDapr.Cli.Statistics;
using MoeDapr.Sidecar.Hosting;

namespace MoeDapr.Cli.Commands;

/// <summary>`moedapr bench sidecar`: latency the local sidecar adds to an invocation, and pub/sub latency and throughput.</summary>
internal static class BenchSidecarCommand
{
    public static Command Create()
    {
        var requests = new Option<int>("--requests") { Description = "Invocations measured per path (after warm-up).", DefaultValueFactory = _ => 3000 };
        var messages = new Option<int>("--messages") { Description = "Messages for the throughput run per component.", DefaultValueFactory = _ => 3000 };
        var redis = new Option<string?>("--redis") { Description = "Redis host:port; default: start redis-server on a free port." };
        var noRedis = new Option<bool>("--no-redis") { Description = "Skip the Redis pub/sub run." };
        var sidecar = new Command("sidecar", "Added latency of invocation through the sidecar vs a direct loopback call (p50/p99); publish-to-delivery latency and messages/s with in-memory and Redis pub/sub.");
        sidecar.Options.Add(requests);
        sidecar.Options.Add(messages);
        sidecar.Options.Add(redis);
        sidecar.Options.Add(noRedis);
        sidecar.SetAction(async (parse, cancellationToken) =>
        {
            var n = parse.GetValue(requests);
            var m = parse.GetValue(messages);
            if (n < 10 || m < 10)
            {
                await Console.Error.WriteLineAsync("error: --requests and --messages must be at least 10.");
                return 2;
            }

            return await RunAsync(n, m, parse.GetValue(redis), parse.GetValue(noRedis), cancellationToken);
        });

        return sidecar;
    }

    private static async Task<int> RunAsync(int requests, int messages, string? redisHost, bool skipRedis, CancellationToken cancellationToken)
    {
        Process? redisServer = null;
        var folder = Path.Combine(Path.GetTempPath(), "moedapr-bench-sidecar-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var deliveries = new ConcurrentDictionary<string, TaskCompletionSource<long>>();
            var delivered = 0L;
            var topic = "bench-" + Guid.NewGuid().ToString("N")[..8];
            await using var app = await StartAppAsync(topic, deliveries, () => Interlocked.Increment(ref delivered));
            var appPort = new Uri(app.Urls.First()).Port;

            Console.WriteLine($"moedapr bench sidecar: {requests} invocations per path, {messages} messages per pub/sub component, {Environment.ProcessorCount} cores");
            await using (var memory = await StartSidecarAsync("memory", null, folder, appPort, cancellationToken))
            {
                await BenchInvokeAsync(appPort, memory, requests, cancellationToken);
                await BenchPubSubAsync("in-memory", memory, topic, deliveries, () => Interlocked.Read(ref delivered), messages, cancellationToken);
            }

            if (!skipRedis)
            {
                if (redisHost is null)
                {
                    (redisServer, redisHost) = await StartRedisAsync(cancellationToken);
                }

                Interlocked.Exchange(ref delivered, 0);
                await using var redis = await StartSidecarAsync("redis", redisHost, folder, appPort, cancellationToken);
                await BenchPubSubAsync($"redis ({redisHost})", redis, topic, deliveries, () => Interlocked.Read(ref delivered), messages, cancellationToken);
            }

            return 0;
        }
        catch (Exception ex) when (ex is SidecarConfigurationException or MoeDapr.Sidecar.Resources.SidecarResourceException or TimeoutException)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return 1;
        }
        finally
        {
            if (redisServer is not null)
            {
                redisServer.Kill(entireProcessTree: true);
                await redisServer.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
                redisServer.Dispose();
            }

            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task BenchInvokeAsync(int appPort, SidecarHost sidecar, int requests, CancellationToken cancellationToken)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) });
        var direct = new Uri($"http://127.0.0.1:{appPort}/ping");
        var through = new Uri($"{sidecar.HttpEndpoint}/v1.0/invoke/bench/method/ping");

        // Interleave the two paths so both see the same machine load.
        var directTimes = new List<double>(requests);
        var sidecarTimes = new List<double>(requests);
        for (var i = 0; i < requests + 500; i++)
        {
            var d = await TimeGetAsync(client, direct, cancellationToken);
            var s = await TimeGetAsync(client, through, cancellationToken);
            if (i >= 500)
            {
                directTimes.Add(d);
                sidecarTimes.Add(s);
            }
        }

        var (d50, d99) = (SampleStatistics.PercentileOf(directTimes, 50), SampleStatistics.PercentileOf(directTimes, 99));
        var (s50, s99) = (SampleStatistics.PercentileOf(sidecarTimes, 50), SampleStatistics.PercentileOf(sidecarTimes, 99));
        Console.WriteLine();
        Console.WriteLine("service invocation (GET, 4-byte answer, one connection, sequential)");
        Console.WriteLine($"  direct loopback      p50 {d50,8:F3} ms   p99 {d99,8:F3} ms");
        Console.WriteLine($"  through the sidecar  p50 {s50,8:F3} ms   p99 {s99,8:F3} ms");
        Console.WriteLine($"  added by the sidecar p50 {s50 - d50,8:F3} ms   p99 {s99 - d99,8:F3} ms   (aim: p50 < 0.5 ms)");
    }

    private static async Task<double> TimeGetAsync(HttpClient client, Uri uri, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        using var response = await client.GetAsync(uri, cancellationToken);
        await response.Content.ReadAsByteArrayAsync(cancellationToken);
        response.EnsureSuccessStatusCode();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static async Task BenchPubSubAsync(
        string name, SidecarHost sidecar, string topic, ConcurrentDictionary<string, TaskCompletionSource<long>> deliveries,
        Func<long> deliveredCount, int messages, CancellationToken cancellationToken)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 64 });
        var publishUri = new Uri($"{sidecar.HttpEndpoint}/v1.0/publish/pubsub/{topic}");

        // Latency: one message in flight at a time, publish call start to the app's handler.
        var latencies = new List<double>();
        var rounds = Math.Min(messages, 1000);
        for (var i = 0; i < rounds + 100; i++)
        {
            var id = "lat-" + i.ToString(CultureInfo.InvariantCulture) + "-" + name;
            var arrived = deliveries.GetOrAdd(id, _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously));
            var start = Stopwatch.GetTimestamp();
            await PublishAsync(client, publishUri, id, cancellationToken);
            var end = await arrived.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            deliveries.TryRemove(id, out _);
            if (i >= 100)
            {
                latencies.Add(Stopwatch.GetElapsedTime(start, end).TotalMilliseconds);
            }
        }

        // Throughput: 32 concurrent publishers, until the app has all messages.
        var before = deliveredCount();
        var clock = Stopwatch.StartNew();
        var next = -1;
        var publishers = Enumerable.Range(0, 32).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < messages)
            {
                await PublishAsync(client, publishUri, "tp", cancellationToken);
            }
        });
        await Task.WhenAll(publishers);
        var published = clock.Elapsed;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (deliveredCount() - before < messages)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{name}: only {deliveredCount() - before} of {messages} messages arrived within 120 s.");
            }

            await Task.Delay(1, cancellationToken);
        }

        var total = clock.Elapsed;
        Console.WriteLine();
        Console.WriteLine($"pub/sub {name} (HTTP publish -> CloudEvent -> app POST)");
        Console.WriteLine($"  publish-to-delivery  p50 {SampleStatistics.PercentileOf(latencies, 50),8:F3} ms   p99 {SampleStatistics.PercentileOf(latencies, 99),8:F3} ms   ({latencies.Count} sequential)");
        Console.WriteLine($"  throughput           {messages / total.TotalSeconds,8:F0} msg/s delivered ({messages} msgs, 32 publishers; publishing took {published.TotalMilliseconds:F0} ms)");
    }

    private static async Task PublishAsync(HttpClient client, Uri uri, string id, CancellationToken cancellationToken)
    {
        using var content = new StringContent($"{{\"id\":\"{id}\"}}", Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(uri, content, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    private static async Task<WebApplication> StartAppAsync(string topic, ConcurrentDictionary<string, TaskCompletionSource<long>> deliveries, Action onDelivery)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapGet("/ping", () => "pong");
        app.MapGet("/dapr/subscribe", () => Results.Text($"[{{\"pubsubname\":\"pubsub\",\"topic\":\"{topic}\",\"route\":\"/deliver\"}}]", "application/json"));
        app.MapPost("/deliver", async (HttpContext context) =>
        {
            var now = Stopwatch.GetTimestamp();
            using var envelope = await JsonDocument.ParseAsync(context.Request.Body);
            var id = envelope.RootElement.GetProperty("data").GetProperty("id").GetString() ?? "";
            if (deliveries.TryGetValue(id, out var arrived))
            {
                arrived.TrySetResult(now);
            }

            onDelivery();
            return Results.Ok();
        });
        await app.StartAsync();
        return app;
    }

    private static async Task<SidecarHost> StartSidecarAsync(string kind, string? redisHost, string folder, int appPort, CancellationToken cancellationToken)
    {
        var resources = Path.Combine(folder, kind);
        Directory.CreateDirectory(resources);
        var type = kind == "redis" ? "pubsub.redis" : "pubsub.in-memory";
        var metadata = kind == "redis" ? $"\n    - name: redisHost\n      value: \"{redisHost}\"" : " []";
        await File.WriteAllTextAsync(Path.Combine(resources, "pubsub.yaml"),
            $"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pubsub\nspec:\n  type: {type}\n  version: v1\n  metadata:{metadata}\n", cancellationToken);
        var options = new SidecarOptions { AppId = "bench", AppPort = appPort, HttpPort = 0, GrpcPort = 0 };
        options.ResourcesPaths.Add(resources);
        // One environment per run, so in-memory topics of one run never reach the other; it ends with the process.
        var environment = new SidecarEnvironment(registryPath: null);
        var host = await SidecarHost.StartAsync(options, environment, cancellationToken);
        await host.WaitReadyAsync(TimeSpan.FromSeconds(30));
        return host;
    }

    private static async Task<(Process, string)> StartRedisAsync(CancellationToken cancellationToken)
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var info = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var arg in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
        {
            info.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new SidecarConfigurationException($"--redis not given and redis-server could not be started: {ex.Message}");
        }

        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            try
            {
                using var socket = new TcpClient();
                await socket.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
                return (process, $"127.0.0.1:{port}");
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(20, cancellationToken);
            }
        }
    }
}
