using System.Collections.Concurrent;
using System.Threading.Channels;
using MoeDapr.Sidecar.Resources;

namespace MoeDapr.Sidecar.PubSub;

/// <summary>
/// pubsub.in-memory, shared by the sidecars of one process: every consumer group of a topic receives each message
/// once (members of a group compete); nothing is kept for groups that do not exist yet.
/// </summary>
public sealed class InMemoryPubSub : IPubSub
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, Group>> _topics = new(StringComparer.Ordinal);
    private readonly int _queueDepth;
    private readonly int _concurrency;

    public InMemoryPubSub(ComponentSpec spec)
    {
        Name = spec.Name;
        _queueDepth = spec.GetInt("queueDepth", 10_000, 1);
        _concurrency = spec.GetInt("concurrency", 10, 1);
    }

    public string Name { get; }

    public string Type => "pubsub.in-memory";

    public async Task PublishAsync(string topic, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (!_topics.TryGetValue(topic, out var groups))
        {
            return;
        }

        var message = new BrokerMessage(topic, Guid.NewGuid().ToString("N"), data);
        foreach (var group in groups.Values)
        {
            // Bounded queue: a publisher waits (up to its request's deadline) while a slow group catches up.
            await group.Queue.Writer.WriteAsync(message, cancellationToken);
        }
    }

    public Task<IAsyncDisposable> SubscribeAsync(string topic, string consumerGroup, BrokerHandler handler, CancellationToken cancellationToken)
    {
        var groups = _topics.GetOrAdd(topic, _ => new(StringComparer.Ordinal));
        Group group;
        lock (groups)
        {
            group = groups.GetOrAdd(consumerGroup, _ => new Group(Channel.CreateBounded<BrokerMessage>(
                new BoundedChannelOptions(_queueDepth) { FullMode = BoundedChannelFullMode.Wait })));
            group.Members++;
        }

        var consumer = new Consumer(group, handler, _concurrency, () =>
        {
            // A group nobody reads any more must not fill up and stall publishers.
            lock (groups)
            {
                if (--group.Members == 0)
                {
                    groups.TryRemove(new KeyValuePair<string, Group>(consumerGroup, group));
                }
            }
        });
        return Task.FromResult<IAsyncDisposable>(consumer);
    }

    private sealed class Group(Channel<BrokerMessage> queue)
    {
        public Channel<BrokerMessage> Queue { get; } = queue;

        public int Members { get; set; }
    }

    private sealed class Consumer : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private readonly Action _leave;

        public Consumer(Group group, BrokerHandler handler, int concurrency, Action leave)
        {
            _leave = leave;
            _loop = Task.Run(() => RunAsync(group, handler, concurrency, _stop.Token));
        }

        public async ValueTask DisposeAsync()
        {
            _leave();
            await _stop.CancelAsync();
            try
            {
                await _loop.WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (OperationCanceledException)
            {
                // Stopping.
            }
            catch (TimeoutException)
            {
                // A handler ignored cancellation; the process is going away anyway.
            }

            _stop.Dispose();
        }

        private static async Task RunAsync(Group group, BrokerHandler handler, int concurrency, CancellationToken stop)
        {
            using var slots = new SemaphoreSlim(concurrency);
            var running = new List<Task>();
            try
            {
                while (await group.Queue.Reader.WaitToReadAsync(stop))
                {
                    await slots.WaitAsync(stop);
                    if (!group.Queue.Reader.TryRead(out var message))
                    {
                        slots.Release();
                        continue;
                    }

                    running.RemoveAll(t => t.IsCompleted);
                    running.Add(Task.Run(async () =>
                    {
                        try
                        {
                            // In memory there is nothing to redeliver from: a false answer means the message is gone.
                            await handler(message, stop);
                        }
                        finally
                        {
                            slots.Release();
                        }
                    }, CancellationToken.None));
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Stopping.
            }

            await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }
}
