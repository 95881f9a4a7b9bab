using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using MoeDapr.Cli.Statistics;
using MoeDapr.Contracts.KvTransfer;
using MoeDapr.KvTransfer.DataPlane;
using MoeDapr.KvTransfer.DataPlane.Client;

namespace MoeDapr.Cli.Bench;

/// <summary>
/// The KV part of <c>bench serving</c>: write, read and streamed transfer rates through the running kv-transfer on the
/// shared-memory and socket planes, each beside a memory copy of the same size.
/// </summary>
internal static class KvRateBench
{
    /// <summary>Prints the rates for each payload size in <paramref name="sizesMib"/>, after a legend of the phases.</summary>
    public static async Task ReportAsync(Uri kvTransfer, IReadOnlyList<int> sizesMib, CancellationToken cancellationToken)
    {
        Console.WriteLine("KV transfer through the running kv-transfer (medians of 5 rounds after 3 warm-up rounds):");
        Console.WriteLine("  write = allocate (control), copy+hash into the plane's buffer (data), commit (socket: push over TCP; both: kv-transfer re-hashes what it holds);");
        Console.WriteLine("  read = renew (control; socket: pull over TCP, hashed as it arrives), copy+verify into the consumer's buffer (data), release (control).");
        Console.WriteLine("  transfer = allocate through the verified copy at the consumer (release excluded); at most ~50% of one copy without overlap, as it is a write plus a read.");
        foreach (var mib in sizesMib)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $" {mib} MiB payloads:"));
            await PlanesAsync(kvTransfer, (long)mib << 20, cancellationToken);
        }
    }

    /// <summary>Write and read rates on both planes, each beside a memory copy of the same size timed in the same round.</summary>
    private static async Task PlanesAsync(Uri kvTransfer, long size, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = kvTransfer, Timeout = TimeSpan.FromMinutes(2) };
        var control = new KvTransferHttpControl(http);
        var layout = LayoutOf(size);
        using var source = new KvNativeBuffer(layout.PayloadBytes);
        using var destination = new KvNativeBuffer(layout.PayloadBytes);
        Fill(source);
        Fill(destination);
        WriteHeader(source, layout);
        foreach (var plane in new[] { KvDataPlane.SharedMemory, KvDataPlane.Socket })
        {
            using var client = new KvTransferClient(control, new KvTransferClientOptions { Requester = "bench-serving", UseSharedMemory = plane == KvDataPlane.SharedMemory });
            var copies = new List<double>();
            var writes = new List<double>();
            var reads = new List<double>();
            var phases = new Dictionary<string, List<double>>(StringComparer.Ordinal);
            void Phase(string name, double seconds, bool keep)
            {
                if (keep)
                {
                    (phases.TryGetValue(name, out var list) ? list : phases[name] = []).Add(seconds * 1000);
                }
            }

            // Warm-up rounds first: this process's hashing and copy loops start as tier-0 JIT code (several times slower).
            const int WarmUps = 3;
            for (var round = 0; round < WarmUps + 5; round++)
            {
                var keep = round >= WarmUps;
                copies.Add(Time(() => Copy(source, destination, layout.PayloadBytes)));
                var start = Stopwatch.GetTimestamp();
                string handle;
                await using (var writer = await client.AllocateAsync(KvBlockLayout.FromHeader(layout), null, cancellationToken))
                {
                    Phase("allocate", Stopwatch.GetElapsedTime(start).TotalSeconds, keep);
                    var data = Stopwatch.GetTimestamp();
                    writer.Write(source.Span(layout.PayloadBytes));
                    Phase("write-data", Stopwatch.GetElapsedTime(data).TotalSeconds, keep);
                    data = Stopwatch.GetTimestamp();
                    handle = (await writer.CommitAsync(cancellationToken)).Handle;
                    Phase("commit", Stopwatch.GetElapsedTime(data).TotalSeconds, keep);
                }

                var written = Stopwatch.GetElapsedTime(start).TotalSeconds;
                start = Stopwatch.GetTimestamp();
                await using (var reader = await client.OpenReadAsync(handle, cancellationToken, verify: false))
                {
                    Phase("open-read", Stopwatch.GetElapsedTime(start).TotalSeconds, keep);
                    var data = Stopwatch.GetTimestamp();
                    reader.CopyTo(destination.Address, destination.Length);
                    Phase("read-data", Stopwatch.GetElapsedTime(data).TotalSeconds, keep);
                    data = Stopwatch.GetTimestamp();
                    await reader.ReleaseAsync(cancellationToken);
                    Phase("release", Stopwatch.GetElapsedTime(data).TotalSeconds, keep);
                }

                var read = Stopwatch.GetElapsedTime(start).TotalSeconds;
                if (keep)
                {
                    writes.Add(written);
                    reads.Add(read);
                }
                else
                {
                    copies.Clear(); // warm-up rounds also fault in the mappings and fill the pool
                }
            }

            var phaseText = string.Join("  ", phases.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {SampleStatistics.Median(p.Value):F2}")));
            var gb = layout.PayloadBytes / 1e9;
            var copy = gb / SampleStatistics.Median(copies);
            var releases = phases["release"];
            var transfers = writes.Select((w, i) => w + reads[i] - (releases[i] / 1000)).ToList();
            var name = plane == KvDataPlane.SharedMemory ? "shared memory" : "socket";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {name,-14} transfer {gb / SampleStatistics.Median(transfers),6:F2} GB/s ({100 * gb / SampleStatistics.Median(transfers) / copy,3:F0}% of copy)  write {gb / SampleStatistics.Median(writes),6:F2} GB/s ({100 * gb / SampleStatistics.Median(writes) / copy,3:F0}%)  read {gb / SampleStatistics.Median(reads),6:F2} GB/s ({100 * gb / SampleStatistics.Median(reads) / copy,3:F0}%)  memory copy {copy:F2} GB/s"));
            Console.WriteLine("                 ms: " + phaseText);
            var (payloads, streamed) = await StreamedAsync(client, layout, source, destination, cancellationToken);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {name,-14} streamed {streamed,6:F2} GB/s ({100 * streamed / copy,3:F0}% of copy): {payloads} payloads, a producer writing the next while a consumer reads the last (as prefill and decode run), median of 3 runs"));
        }

        var (alone, each) = TwoCopiesAtOnce(source, destination, layout.PayloadBytes);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  two memory copies at once: {each:F2} GB/s each ({100 * each / alone:F0}% of one alone, {alone:F2} GB/s): a streamed transfer is a write and a read at once, so this is its ceiling here"));
    }

    /// <summary>
    /// The memory system's share for two copies running at once on two threads, beside one copy alone (GB/s, medians
    /// of 5 rounds): how far a machine's bandwidth lets a producer and a consumer overlap.
    /// </summary>
    private static (double Alone, double Each) TwoCopiesAtOnce(KvNativeBuffer source, KvNativeBuffer destination, long bytes)
    {
        using var otherSource = new KvNativeBuffer(bytes);
        using var otherDestination = new KvNativeBuffer(bytes);
        Fill(otherSource);
        Fill(otherDestination);
        var alone = new List<double>();
        var each = new List<double>();
        for (var round = 0; round < 6; round++)
        {
            var single = Time(() => Copy(source, destination, bytes));
            var pair = PairSeconds();
            if (round > 0)
            {
                alone.Add(bytes / 1e9 / single);
                each.Add(bytes / 1e9 / pair);
            }
        }

        return (SampleStatistics.Median(alone), SampleStatistics.Median(each));

        // Both threads wait at the start line, so neither copy runs alone while the other thread is still starting.
        double PairSeconds()
        {
            using var go = new ManualResetEventSlim();
            var threads = new[] { (source, destination), (otherSource, otherDestination) }
                .Select(pair => new Thread(() =>
                {
                    go.Wait();
                    Copy(pair.Item1, pair.Item2, bytes);
                }))
                .ToArray();
            foreach (var thread in threads)
            {
                thread.Start();
            }

            Thread.Sleep(20);
            var start = Stopwatch.GetTimestamp();
            go.Set();
            foreach (var thread in threads)
            {
                thread.Join();
            }

            return Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
    }

    /// <summary>
    /// Transfer rate with a producer and a consumer at work at once, as prefill and decode are: the producer allocates,
    /// writes and commits payload after payload, handing each handle over through a queue of one; the consumer opens,
    /// copies with verification and releases each. GB/s delivered to the consumer, allocate of the first through the
    /// release of the last; median of three runs.
    /// </summary>
    private static async Task<(int Payloads, double GbPerSecond)> StreamedAsync(
        KvTransferClient client, KvPayloadHeader layout, KvNativeBuffer source, KvNativeBuffer destination, CancellationToken cancellationToken)
    {
        // About 2 GB per run, at least 6 payloads so the pipeline reaches its steady state.
        var payloads = (int)Math.Clamp((2L << 30) / layout.PayloadBytes, 6, 64);
        var rates = new List<double>();
        for (var run = 0; run < 3; run++)
        {
            var handles = Channel.CreateBounded<string>(1);
            var start = Stopwatch.GetTimestamp();
            var producer = Task.Run(async () =>
            {
                try
                {
                    for (var i = 0; i < payloads; i++)
                    {
                        string handle;
                        await using (var writer = await client.AllocateAsync(KvBlockLayout.FromHeader(layout), null, cancellationToken))
                        {
                            writer.Write(source.Span(layout.PayloadBytes));
                            handle = (await writer.CommitAsync(cancellationToken)).Handle;
                        }

                        await handles.Writer.WriteAsync(handle, cancellationToken);
                    }
                }
                finally
                {
                    handles.Writer.TryComplete();
                }
            }, cancellationToken);
            var consumer = Task.Run(async () =>
            {
                await foreach (var handle in handles.Reader.ReadAllAsync(cancellationToken))
                {
                    await using var reader = await client.OpenReadAsync(handle, cancellationToken, verify: false);
                    reader.CopyTo(destination.Address, destination.Length);
                    await reader.ReleaseAsync(cancellationToken);
                }
            }, cancellationToken);
            await Task.WhenAll(producer, consumer);
            rates.Add(payloads * layout.PayloadBytes / 1e9 / Stopwatch.GetElapsedTime(start).TotalSeconds);
        }

        return (payloads, SampleStatistics.Median(rates));
    }

    /// <summary>
    /// The bench preset's float32 layout (8 layers, 4 KV heads × 64 dims, 16-token blocks of 256 KiB) for about
    /// <paramref name="size"/> bytes: 8 MiB is a 512-token prompt's KV plus the 64-byte header.
    /// </summary>
    private static KvPayloadHeader LayoutOf(long size)
    {
        const int BlockBytes = 2 * 8 * 16 * 4 * 64 * 4;
        var blocks = (int)Math.Max(1, size / BlockBytes);
        return new KvPayloadHeader(KvDtype.Float32, 8, 4, 64, 16, blocks * 16);
    }

    private static unsafe void Fill(KvNativeBuffer buffer)
    {
        var span = new Span<byte>((void*)buffer.Address, (int)Math.Min(buffer.Length, int.MaxValue));
        new Random(1).NextBytes(span);
    }

    /// <summary>kv-transfer checks the header at commit, so the payload starts with a real one.</summary>
    private static unsafe void WriteHeader(KvNativeBuffer buffer, KvPayloadHeader header) =>
        header.Write(new Span<byte>((void*)buffer.Address, KvPayloadHeader.Size));

    private static unsafe void Copy(KvNativeBuffer from, KvNativeBuffer to, long bytes) =>
        Buffer.MemoryCopy((void*)from.Address, (void*)to.Address, to.Length, bytes);

    private static unsafe ReadOnlySpan<byte> Span(this KvNativeBuffer buffer, long bytes) => new((void*)buffer.Address, checked((int)bytes));

    private static double Time(Action action)
    {
        var start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}
