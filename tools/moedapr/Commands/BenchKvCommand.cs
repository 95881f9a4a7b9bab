using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO.Hashing;
using System.Net;
using MoeDapr.Contracts.KvTransfer;

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
        var iterations = new Option<int>("--iterations") { Description = "Timed repetitions per measurement (best and median are printed).", DefaultValueFactory = _ => 5 };
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

    /// <summary>One run of the benchmark; every buffer is touched before timing so page faults stay out of the figures.</summary>
    private sealed class KvBench(long bytes, int iterations)
    {
        private readonly long _bytes = KvNativeBuffer.RoundUpToPage(bytes);

        public async Task<int> RunInProcessAsync(CancellationToken cancellationToken)
        {
            using var source = Filled(new KvNativeBuffer(_bytes));
            using var destination = Filled(new KvNativeBuffer(_bytes));
            Console.WriteLine($"payload {_bytes >> 20} MiB, {iterations} iterations, {Environment.ProcessorCount} cores (best / median GB/s, 1 GB = 1e9 bytes)");
            var copy = Copy(source, destination);
            Print("memory copy (Buffer.MemoryCopy)", copy, null);
            RunSharedMemory(source, destination, copy);
            await RunSocketInProcessAsync(source, destination, copy, cancellationToken).ConfigureAwait(false);
            return 0;
        }

        private unsafe Timing Copy(KvNativeBuffer source, KvNativeBuffer destination) =>
            Measure(() => Buffer.MemoryCopy(source.Pointer, destination.Pointer, _bytes, _bytes));

        private unsafe void RunSharedMemory(KvNativeBuffer source, KvNativeBuffer destination, Timing copy)
        {
            var directory = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
            var path = Path.Combine(directory, $"moedapr-kv-bench-{Environment.ProcessId}.arena");
            using var arena = KvSharedMemoryFile.Create(path, _bytes);
            using var producer = KvSharedMemoryFile.Open(path);
            using var consumer = KvSharedMemoryFile.Open(path);
            var exported = producer.Pointer;
            var staged = arena.Pointer;
            var imported = consumer.Pointer;
            Filled(exported, _bytes);
            Filled(imported, _bytes);
            var expected = KvChecksum.Compute(source.Address, _bytes);

            // Producer: export into the mapping, hashing each chunk while it is in cache.
            var export = Measure(() => Check(ExportAndHash(source.Pointer, exported), expected));

            // kv-transfer: re-hash the staged bytes at commit (its own mapping).
            var verify = Measure(() => Check(KvChecksum.Compute((nint)staged, _bytes), expected));

            // Consumer: import out of the mapping, verifying in the same pass.
            var import = Measure(() => Check(ExportAndHash(imported, destination.Pointer), expected));

            // The path one step after the other, as prefill → kv-transfer → decode run it.
            var transfer = Measure(() =>
            {
                Check(ExportAndHash(source.Pointer, exported), expected);
                Check(KvChecksum.Compute((nint)staged, _bytes), expected);
            });
            var endToEnd = Measure(() =>
            {
                Check(ExportAndHash(source.Pointer, exported), expected);
                Check(KvChecksum.Compute((nint)staged, _bytes), expected);
                Check(ExportAndHash(imported, destination.Pointer), expected);
            });
            Print("shm producer export + hash", export, copy);
            Print("shm commit verification (kv-transfer)", verify, copy);
            Print("shm consumer import + verify", import, copy);
            Print("shm transfer: export + commit check", transfer, copy);
            Print("shm end to end: + consumer import", endToEnd, copy);
        }

        private async Task RunSocketInProcessAsync(KvNativeBuffer source, KvNativeBuffer destination, Timing copy, CancellationToken cancellationToken)
        {
            using var staging = Filled(new KvNativeBuffer(_bytes));
            var store = new SingleSlotStore(staging);
            await using var server = new KvSocketServer(store, new IPEndPoint(IPAddress.Loopback, 0), 4, TimeSpan.FromSeconds(30));
            server.Start();
            var port = server.LocalEndPoint.Port;
            var checksum = KvChecksum.Compute(source.Address, _bytes);
            var handle = Guid.NewGuid();

            var push = await MeasureAsync(() => KvSocketClient.PushAsync("127.0.0.1", port, handle, source.Address, _bytes, checksum, cancellationToken)).ConfigureAwait(false);
            var pull = await MeasureAsync(() => KvSocketClient.PullAsync("127.0.0.1", port, handle, destination.Address, _bytes, cancellationToken)).ConfigureAwait(false);
            Print("socket push (loopback TCP, hashed)", push, copy);
            Print("socket pull (loopback TCP, verified)", pull, copy);
        }

        public async Task<int> RunAgainstServiceAsync(string url, string hostId, CancellationToken cancellationToken)
        {
            using var http = new HttpClient { BaseAddress = new Uri(url.EndsWith('/') ? url : url + "/"), Timeout = TimeSpan.FromMinutes(2) };
            using var source = Filled(new KvNativeBuffer(_bytes));
            using var destination = Filled(new KvNativeBuffer(_bytes));
            if (_bytes > int.MaxValue)
            {
                await Console.Error.WriteLineAsync("--url mode moves at most 2 GiB per payload").ConfigureAwait(false);
                return 2;
            }

            // A real payload: header plus 512 KiB blocks (fp16, 8 layers, 8 KV heads, head_dim 128, 16 tokens a block).
            var blocks = (int)Math.Max(1, (_bytes - KvPayloadHeader.Size) / (512 * 1024));
            var layout = new KvBlockLayout(KvDtype.Float16, 8, 8, 128, 16, blocks * 16);
            var payloadBytes = layout.ToHeader().PayloadBytes;
            WriteHeader(source, layout);
            Console.WriteLine($"payload {payloadBytes / 1e6:F1} MB through {url}, {iterations} iterations (best / median GB/s)");
            var copy = Copy(source, destination);
            Print("memory copy (Buffer.MemoryCopy)", copy, null);
            foreach (var sharedMemory in new[] { true, false })
            {
                using var client = new KvTransferClient(new KvTransferHttpControl(http), new KvTransferClientOptions { HostId = hostId, Requester = "moedapr-bench", UseSharedMemory = sharedMemory });
                var plane = KvDataPlane.Socket;
                try
                {
                    var timing = await MeasureAsync(async () =>
                    {
                        await using var writer = await client.AllocateAsync(layout, null, cancellationToken).ConfigureAwait(false);
                        plane = writer.Plane;
                        writer.Write(AsSpan(source)[..(int)payloadBytes]);
                        await writer.CommitAsync(cancellationToken).ConfigureAwait(false);
                        await using var reader = await client.OpenReadAsync(writer.Handle, cancellationToken, verify: false).ConfigureAwait(false);
                        reader.CopyTo(destination.Address, destination.Length);
                        await reader.ReleaseAsync(cancellationToken).ConfigureAwait(false);
                    }, payloadBytes).ConfigureAwait(false);
                    Print($"service {plane} end to end (control calls included)", timing, copy);
                }
                catch (KvTransferException e)
                {
                    await Console.Error.WriteLineAsync($"{(sharedMemory ? "shared-memory" : "socket")} run failed: {e.Message}").ConfigureAwait(false);
                    return 1;
                }
            }

            return 0;
        }

        private static unsafe void WriteHeader(KvNativeBuffer buffer, KvBlockLayout layout) =>
            layout.ToHeader().Write(new Span<byte>(buffer.Pointer, KvPayloadHeader.Size));

        private static unsafe ReadOnlySpan<byte> AsSpan(KvNativeBuffer buffer) => new(buffer.Pointer, checked((int)buffer.Length));

        private unsafe ulong ExportAndHash(byte* from, byte* to)
        {
            var hasher = new XxHash3();
            KvChecksum.CopyAndHash(from, to, _bytes, hasher);
            return hasher.GetCurrentHashAsUInt64();
        }

        private static void Check(ulong actual, ulong expected)
        {
            if (actual != expected)
            {
                throw new InvalidOperationException("checksum mismatch inside the benchmark");
            }
        }

        private Timing Measure(Action action)
        {
            action(); // warm-up: first touch, JIT
            var seconds = new double[iterations];
            for (var i = 0; i < iterations; i++)
            {
                var started = Stopwatch.GetTimestamp();
                action();
                seconds[i] = Stopwatch.GetElapsedTime(started).TotalSeconds;
            }

            return new Timing(_bytes, seconds);
        }

        private async Task<Timing> MeasureAsync(Func<Task> action, long? bytes = null)
        {
            await action().ConfigureAwait(false);
            var seconds = new double[iterations];
            for (var i = 0; i < iterations; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await action().ConfigureAwait(false);
                seconds[i] = Stopwatch.GetElapsedTime(started).TotalSeconds;
            }

            return new Timing(bytes ?? _bytes, seconds);
        }

        private static void Print(string name, Timing timing, Timing? baseline)
        {
            var ratio = baseline is null ? string.Empty
                : string.Create(CultureInfo.InvariantCulture, $"  {timing.BestGBps / baseline.BestGBps * 100,5:F0}% of copy");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-42} {timing.BestGBps,7:F2} / {timing.MedianGBps,7:F2} GB/s{ratio}"));
        }

        private static unsafe KvNativeBuffer Filled(KvNativeBuffer buffer)
        {
            Filled(buffer.Pointer, buffer.Length);
            return buffer;
        }

        private static unsafe void Filled(byte* pointer, long length)
        {
            var random = new Random(42);
            for (long offset = 0; offset < length; offset += 1 << 20)
            {
                random.NextBytes(new Span<byte>(pointer + offset, (int)Math.Min(1 << 20, length - offset)));
            }
        }
    }

    /// <summary>Times of one measurement.</summary>
    private sealed class Timing(long bytes, double[] seconds)
    {
        public double BestGBps => bytes / seconds.Min() / 1e9;

        public double MedianGBps => bytes / seconds.Order().ElementAt(seconds.Length / 2) / 1e9;
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
