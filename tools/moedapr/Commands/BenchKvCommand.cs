using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO.Hashing;
using System.Net;
using MoeDapr.Cli.Statistics;
using MoeDapr.Contracts.KvTransfer;
using MoeDapr.KvTransfer.DataPlane;
using MoeDapr.KvTransfer.DataPlane.Client;
using MoeDapr.KvTransfer.DataPlane.Server;

namespace MoeDapr.Cli.Commands;

/// <summary>
/// <c>moedapr bench kv</c>: KV transfer throughput on the shared-memory plane beside a plain memory copy of the
/// same size in the same run, and on the socket plane. Without <c>--url</c> it runs the data planes in-process
/// (a staging file mapped three times: kv-transfer, producer, consumer; the real socket server on loopback);
/// with <c>--url</c> it drives a running kv-transfer through the full client, control calls included.
/// </summary>
internal static class BenchKvCommand
{
    public static Command Create()
    {
        var size = new Option<int>("--size-mib") { Description = "Payload size in MiB.", DefaultValueFactory = _ => 256 };
        var iterations = new Option<int>("--iterations") { Description = "Timed rounds; each round runs the memory copy and every path once.", DefaultValueFactory = _ => 7 };
        var url = new Option<string?>("--url") { Description = "Control API of a running kv-transfer (app URL or the sidecar's .../v1.0/invoke/kv-transfer/method/)." };
        var hostId = new Option<string?>("--host-id") { Description = "Host id to present with --url (kv-transfer's KvTransfer:HostId enables shared memory)." };
        var command = new Command("kv", "KV transfer GB/s: shared memory vs a memory copy of the same size, and the socket plane.") { size, iterations, url, hostId };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var mib = parse.GetValue(size);
            var reps = parse.GetValue(iterations);
            if (mib is < 1 or > 16384)
            {
                await Console.Error.WriteLineAsync("--size-mib must be between 1 and 16384").ConfigureAwait(false);
                return 2;
            }

            if (reps is < 1 or > 1000)
            {
                await Console.Error.WriteLineAsync("--iterations must be between 1 and 1000").ConfigureAwait(false);
                return 2;
            }

            var target = parse.GetValue(url);
            if (target is not null && !Uri.TryCreate(target.EndsWith('/') ? target : target + "/", UriKind.Absolute, out _))
            {
                await Console.Error.WriteLineAsync($"--url '{target}' is not an absolute URL").ConfigureAwait(false);
                return 2;
            }

            var bench = new KvBench((long)mib << 20, reps);
            return target is null
                ? await bench.RunInProcessAsync(cancellationToken).ConfigureAwait(false)
                : await bench.RunAgainstServiceAsync(target, parse.GetValue(hostId) ?? Environment.MachineName, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>
    /// One run of the benchmark. Every buffer is touched before timing so page faults stay out of the figures,
    /// and the memory copy runs in the same round as each path, so a busy machine slows both alike. "Of copy"
    /// prints best path vs best copy, then the median over rounds of copy time / path time.
    /// </summary>
    private sealed class KvBench(long bytes, int iterations)
    {
        private readonly long _bytes = KvNativeBuffer.RoundUpToPage(bytes);

        public async Task<int> RunInProcessAsync(CancellationToken cancellationToken)
        {
            using var source = Filled(new KvNativeBuffer(_bytes));
            using var destination = Filled(new KvNativeBuffer(_bytes));
            Console.WriteLine($"payload {_bytes >> 20} MiB, {iterations} rounds, {Environment.ProcessorCount} cores (GB/s best / median, 1 GB = 1e9 bytes; % of copy best / median of rounds)");

            var directory = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
            var path = Path.Combine(directory, $"moedapr-kv-bench-{Environment.ProcessId}.arena");
            using var arena = KvSharedMemoryFile.Create(path, _bytes);
            using var producer = KvSharedMemoryFile.Open(path);
            using var consumer = KvSharedMemoryFile.Open(path);
            arena.Prefault();
            producer.Prefault();
            consumer.Prefault();
            var expected = KvChecksum.Compute(source.Address, _bytes);

            using var staging = Filled(new KvNativeBuffer(_bytes));
            await using var server = new KvSocketServer(new SingleSlotStore(staging), new IPEndPoint(IPAddress.Loopback, 0), 4, TimeSpan.FromSeconds(30));
            server.Start();
            var port = server.LocalEndPoint.Port;
            var handle = Guid.NewGuid();

            var shm = new SharedMemoryPath(source, destination, producer, arena, consumer, _bytes, expected);
            await MeasureAsync(
                _bytes,
                ("memory copy (Buffer.MemoryCopy)", Sync(() => Copy(source, destination))),
                ("shm producer export + hash", Sync(shm.Export)),
                ("shm commit verification (kv-transfer)", Sync(shm.Verify)),
                ("shm consumer import + verify", Sync(shm.Import)),
                ("shm transfer: export + commit check", Sync(() =>
                {
                    shm.Export();
                    shm.Verify();
                })),
                ("shm end to end: + consumer import", Sync(() =>
                {
                    shm.Export();
                    shm.Verify();
                    shm.Import();
                })),
                ("socket push (loopback TCP, hashed)", () => KvSocketClient.PushAsync("127.0.0.1", port, handle, source.Address, _bytes, expected, cancellationToken)),
                ("socket pull (loopback TCP, verified)", () => KvSocketClient.PullAsync("127.0.0.1", port, handle, destination.Address, _bytes, cancellationToken))).ConfigureAwait(false);
            return 0;
        }

        public async Task<int> RunAgainstServiceAsync(string url, string hostId, CancellationToken cancellationToken)
        {
            if (_bytes > int.MaxValue)
            {
                await Console.Error.WriteLineAsync("--url mode moves at most 2 GiB per payload").ConfigureAwait(false);
                return 2;
            }

            using var http = new HttpClient { BaseAddress = new Uri(url.EndsWith('/') ? url : url + "/"), Timeout = TimeSpan.FromMinutes(2) };
            using var source = Filled(new KvNativeBuffer(_bytes));
            using var destination = Filled(new KvNativeBuffer(_bytes));

            // A real payload: header plus 512 KiB blocks (fp16, 8 layers, 8 KV heads, head_dim 128, 16 tokens a block).
            var blocks = (int)Math.Max(1, (_bytes - KvPayloadHeader.Size) / (512 * 1024));
            var layout = new KvBlockLayout(KvDtype.Float16, 8, 8, 128, 16, blocks * 16);
            var payloadBytes = layout.ToHeader().PayloadBytes;
            WriteHeader(source, layout);
            Console.WriteLine($"payload {payloadBytes / 1e6:F1} MB through {url}, {iterations} rounds (GB/s best / median)");

            using var sameHost = new KvTransferClient(new KvTransferHttpControl(http), new KvTransferClientOptions { HostId = hostId, Requester = "moedapr-bench" });
            using var otherHost = new KvTransferClient(new KvTransferHttpControl(http), new KvTransferClientOptions { HostId = hostId, Requester = "moedapr-bench", UseSharedMemory = false });
            var planes = new List<string>();
            async Task RoundTripAsync(KvTransferClient client)
            {
                await using var writer = await client.AllocateAsync(layout, null, cancellationToken).ConfigureAwait(false);
                writer.Write(AsSpan(source)[..(int)payloadBytes]);
                await writer.CommitAsync(cancellationToken).ConfigureAwait(false);
                await using var reader = await client.OpenReadAsync(writer.Handle, cancellationToken, verify: false).ConfigureAwait(false);
                reader.CopyTo(destination.Address, destination.Length);
                await reader.ReleaseAsync(cancellationToken).ConfigureAwait(false);
                planes.Add($"{writer.Plane}/{reader.Plane}");
            }

            try
            {
                await MeasureAsync(
                    payloadBytes,
                    ("memory copy (Buffer.MemoryCopy)", Sync(() => Copy(source, destination))),
                    ("service, same host: write/commit/open/import", () => RoundTripAsync(sameHost)),
                    ("service, socket: push/commit/pull/import", () => RoundTripAsync(otherHost))).ConfigureAwait(false);
            }
            catch (KvTransferException e)
            {
                await Console.Error.WriteLineAsync($"transfer failed: {e.Message}").ConfigureAwait(false);
                return 1;
            }

            Console.WriteLine($"planes used (writer/reader): {string.Join(", ", planes.Distinct())}");
            return 0;
        }

        private static Func<Task> Sync(Action action) => () =>
        {
            action();
            return Task.CompletedTask;
        };

        private async Task MeasureAsync(long payloadBytes, params (string Name, Func<Task> Run)[] cases)
        {
            foreach (var (_, run) in cases)
            {
                await run().ConfigureAwait(false); // warm-up: JIT, first touch, connection setup
            }

            var seconds = new double[cases.Length, iterations];
            for (var i = 0; i < iterations; i++)
            {
                for (var c = 0; c < cases.Length; c++)
                {
                    var started = Stopwatch.GetTimestamp();
                    await cases[c].Run().ConfigureAwait(false);
                    seconds[c, i] = Stopwatch.GetElapsedTime(started).TotalSeconds;
                }
            }

            for (var c = 0; c < cases.Length; c++)
            {
                var times = Enumerable.Range(0, iterations).Select(i => seconds[c, i]).ToArray();
                var best = payloadBytes / times.Min() / 1e9;
                var median = payloadBytes / SampleStatistics.Median(times) / 1e9;
                var bestCopy = Enumerable.Range(0, iterations).Min(i => seconds[0, i]);
                var ratio = c == 0 ? string.Empty
                    : string.Create(CultureInfo.InvariantCulture, $"  {bestCopy / times.Min() * 100,5:F0}% / {SampleStatistics.Median(Enumerable.Range(0, iterations).Select(i => seconds[0, i] / seconds[c, i]).ToArray()) * 100,4:F0}% of copy");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{cases[c].Name,-46} {best,7:F2} / {median,7:F2}{ratio}"));
            }
        }

        private unsafe void Copy(KvNativeBuffer source, KvNativeBuffer destination) =>
            Buffer.MemoryCopy(source.Pointer, destination.Pointer, _bytes, _bytes);

        private static unsafe void WriteHeader(KvNativeBuffer buffer, KvBlockLayout layout) =>
            layout.ToHeader().Write(new Span<byte>(buffer.Pointer, KvPayloadHeader.Size));

        private static unsafe ReadOnlySpan<byte> AsSpan(KvNativeBuffer buffer) => new(buffer.Pointer, checked((int)buffer.Length));

        private static unsafe KvNativeBuffer Filled(KvNativeBuffer buffer)
        {
            var random = new Random(42);
            for (long offset = 0; offset < buffer.Length; offset += 1 << 20)
            {
                random.NextBytes(new Span<byte>(buffer.Pointer + offset, (int)Math.Min(1 << 20, buffer.Length - offset)));
            }

            return buffer;
        }
    }

    /// <summary>
    /// The shared-memory path in three steps, each through its own mapping of one staging file, as three processes
    /// would: the producer exports into it (hashing each chunk while in cache), kv-transfer re-hashes the staged
    /// bytes at commit, the consumer imports out of it verifying in the same pass.
    /// </summary>
    private sealed unsafe class SharedMemoryPath(
        KvNativeBuffer source, KvNativeBuffer destination, KvSharedMemoryFile producer, KvSharedMemoryFile kvTransfer, KvSharedMemoryFile consumer, long bytes, ulong expected)
    {
        public void Export() => Check(CopyAndHash(source.Pointer, producer.Pointer));

        public void Verify() => Check(KvChecksum.Compute((nint)kvTransfer.Pointer, bytes));

        public void Import() => Check(CopyAndHash(consumer.Pointer, destination.Pointer));

        private ulong CopyAndHash(byte* from, byte* to)
        {
            var hasher = new XxHash3();
            KvChecksum.CopyAndHash(from, to, bytes, hasher);
            return hasher.GetCurrentHashAsUInt64();
        }

        private void Check(ulong actual)
        {
            if (actual != expected)
            {
                throw new InvalidOperationException("checksum mismatch inside the benchmark");
            }
        }
    }

    /// <summary>A one-payload store for the in-process socket bench: every push lands in, and every pull reads, one buffer.</summary>
    private sealed class SingleSlotStore(KvNativeBuffer staging) : IKvSocketStore
    {
        private ulong _checksum;

        public KvSocketStatus BeginPush(Guid handle, long length, out KvStagingRange target)
        {
            target = new KvStagingRange(staging.Address, length);
            return length <= staging.Length ? KvSocketStatus.Ok : KvSocketStatus.LengthMismatch;
        }

        public KvSocketStatus EndPush(Guid handle, long received, ulong checksum, ulong declaredChecksum, TimeSpan elapsed)
        {
            _checksum = checksum;
            return received == staging.Length && checksum == declaredChecksum ? KvSocketStatus.Ok : KvSocketStatus.ChecksumMismatch;
        }

        public KvSocketStatus BeginPull(Guid handle, out KvStagingRange source, out ulong checksum)
        {
            source = new KvStagingRange(staging.Address, staging.Length);
            checksum = _checksum;
            return KvSocketStatus.Ok;
        }

        public void EndPull(Guid handle, long sent, TimeSpan elapsed)
        {
            // Nothing to release.
        }
    }
}
