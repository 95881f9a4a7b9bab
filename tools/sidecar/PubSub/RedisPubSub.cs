using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using MoeDapr.Sidecar.Hosting;
using MoeDapr.Sidecar.Resources;
using StackExchange.Redis;

namespace MoeDapr.Sidecar.PubSub;

/// <summary>
/// pubsub.redis on Redis Streams, as components-contrib does it: XADD (MAXLEN ~ maxLenApprox) of field "data" = envelope;
/// one consumer group per subscriber (consumerID, default the app id) created from id 0; XREADGROUP COUNT queueDepth;
/// XACK on success; every redeliverInterval XPENDING + XCLAIM of entries idle longer than processingTimeout.
/// </summary>
public sealed partial class RedisPubSub : IPubSub
{
    private static readonly TimeSpan BlockTime = TimeSpan.FromSeconds(1);
    private readonly IConnectionMultiplexer _redis;
    private readonly ConfigurationOptions _blockingConfig;
    private readonly ILogger _logger;

    public RedisPubSub(ComponentSpec spec, IConnectionMultiplexer redis, ConfigurationOptions config, ILogger logger)
    {
        Name = spec.Name;
        _redis = redis;
        _logger = logger;
        ConsumerId = spec.Get("consumerID");
        ProcessingTimeout = spec.GetDuration("processingTimeout", TimeSpan.FromSeconds(15));
        RedeliverInterval = spec.GetDuration("redeliverInterval", TimeSpan.FromSeconds(60));
        QueueDepth = spec.GetInt("queueDepth", 100, 1);
        Concurrency = spec.GetInt("concurrency", 10, 1);
        MaxLenApprox = spec.GetInt("maxLenApprox", 0, 0);
        _blockingConfig = config.Clone();

        // The blocking connection waits up to BlockTime per read; its timeouts must be longer.
        _blockingConfig.SyncTimeout = _blockingConfig.AsyncTimeout = (int)(BlockTime.TotalMilliseconds * 5);
        _blockingConfig.ClientName = "moedapr-sidecar-reader";
    }

    public string Name { get; }

    public string Type => "pubsub.redis";

    /// <summary>The consumer group name from metadata; null means the subscribing app's id.</summary>
    public string? ConsumerId { get; }

    public TimeSpan ProcessingTimeout { get; }

    public TimeSpan RedeliverInterval { get; }

    public int QueueDepth { get; }

    public int Concurrency { get; }

    public int MaxLenApprox { get; }

    public async Task PublishAsync(string topic, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var db = _redis.GetDatabase();
        await db.StreamAddAsync(topic, "data", data.ToArray(), maxLength: MaxLenApprox > 0 ? MaxLenApprox : null, useApproximateMaxLength: MaxLenApprox > 0)
            .WaitAsync(cancellationToken);
    }

    public async Task<IAsyncDisposable> SubscribeAsync(string topic, string consumerGroup, BrokerHandler handler, CancellationToken cancellationToken)
    {
        var group = ConsumerId ?? consumerGroup;
        await EnsureGroupAsync(_redis.GetDatabase(), topic, group);
        var reader = await ConnectionMultiplexer.ConnectAsync(_blockingConfig).WaitAsync(cancellationToken);
        return new Consumer(this, reader, topic, group, handler);
    }

    private static async Task EnsureGroupAsync(IDatabase db, string topic, string group)
    {
        try
        {
            await db.StreamCreateConsumerGroupAsync(topic, group, "0", createStream: true);
        }
        catch (RedisServerException ex) when (ex.Message.Contains("BUSYGROUP", StringComparison.Ordinal))
        {
            // The group exists: another replica or an earlier run made it.
        }
    }

    [LoggerMessage(EventId = LogEvents.RedisReadFailed, Level = LogLevel.Warning, Message = "pubsub.redis {Component}: reading topic {Topic} failed; retrying")]
    private static partial void LogReadFailed(ILogger logger, Exception exception, string component, string topic);

    [LoggerMessage(EventId = LogEvents.RedisReclaimed, Level = LogLevel.Information, Message = "pubsub.redis {Component}: reclaimed {Count} pending message(s) of topic {Topic} idle over {Timeout}")]
    private static partial void LogReclaimed(ILogger logger, string component, int count, string topic, TimeSpan timeout);

    private sealed class Consumer : IAsyncDisposable
    {
        private readonly RedisPubSub _owner;
        private readonly ConnectionMultiplexer _reader;
        private readonly string _topic;
        private readonly string _group;
        private readonly BrokerHandler _handler;
        private readonly CancellationTokenSource _stop = new();
        private readonly SemaphoreSlim _slots;
        private readonly ConcurrentDictionary<string, byte> _inFlight = new(StringComparer.Ordinal);
        private readonly Task _readLoop;
        private readonly Task _reclaimLoop;

        public Consumer(RedisPubSub owner, ConnectionMultiplexer reader, string topic, string group, BrokerHandler handler)
        {
            _owner = owner;
            _reader = reader;
            _topic = topic;
            _group = group;
            _handler = handler;
            _slots = new SemaphoreSlim(owner.Concurrency);
            _readLoop = Task.Run(ReadLoopAsync);
            _reclaimLoop = Task.Run(ReclaimLoopAsync);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            try
            {
                await Task.WhenAll(_readLoop, _reclaimLoop).WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
            {
                // Stopping; unacknowledged messages stay pending in the group and are reclaimed later.
            }

            // Wait for running handlers (bounded) so their acks land before the connection closes.
            for (var i = 0; i < _owner.Concurrency; i++)
            {
                if (!await _slots.WaitAsync(TimeSpan.FromSeconds(5)))
                {
                    break;
                }
            }

            await _reader.CloseAsync();
            _reader.Dispose();
            _stop.Dispose();
        }

        private async Task ReadLoopAsync()
        {
            var stop = _stop.Token;
            var db = _reader.GetDatabase();
            var failures = 0;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    // Only ask for as many entries as there are free delivery slots (bounded in flight).
                    await _slots.WaitAsync(stop);
                    var free = 1;
                    while (free < _owner.QueueDepth && _slots.Wait(0))
                    {
                        free++;
                    }

                    RedisResult result;
                    try
                    {
                        result = await db.ExecuteAsync("XREADGROUP", "GROUP", _group, _group, "COUNT", free,
                            "BLOCK", (long)BlockTime.TotalMilliseconds, "STREAMS", _topic, ">");
                    }
                    catch
                    {
                        _slots.Release(free);
                        throw;
                    }

                    var entries = ParseEntries(result);
                    if (entries.Count < free)
                    {
                        _slots.Release(free - entries.Count);
                    }

                    foreach (var (id, data) in entries)
                    {
                        Dispatch(id, data);
                    }

                    failures = 0;
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    if (ex.Message.Contains("NOGROUP", StringComparison.Ordinal))
                    {
                        await EnsureGroupAsync(_owner._redis.GetDatabase(), _topic, _group);
                    }
                    else
                    {
                        LogReadFailed(_owner._logger, ex, _owner.Name, _topic);
                    }

                    failures++;
                    await DelayAsync(TimeSpan.FromMilliseconds(Math.Min(100 * failures, 2000)), stop);
                }
            }
        }

        private async Task ReclaimLoopAsync()
        {
            var stop = _stop.Token;
            var db = _owner._redis.GetDatabase();
            while (!stop.IsCancellationRequested)
            {
                if (!await DelayAsync(_owner.RedeliverInterval, stop))
                {
                    return;
                }

                try
                {
                    var pending = await db.StreamPendingMessagesAsync(_topic, _group, _owner.QueueDepth, RedisValue.Null);
                    var stale = pending
                        .Where(p => p.IdleTimeInMilliseconds >= (long)_owner.ProcessingTimeout.TotalMilliseconds && !_inFlight.ContainsKey(p.MessageId!))
                        .Select(p => p.MessageId)
                        .ToArray();
                    if (stale.Length == 0)
                    {
                        continue;
                    }

                    var claimed = await db.StreamClaimAsync(_topic, _group, _group, (long)_owner.ProcessingTimeout.TotalMilliseconds, stale);
                    LogReclaimed(_owner._logger, _owner.Name, claimed.Length, _topic, _owner.ProcessingTimeout);
                    foreach (var entry in claimed)
                    {
                        if (entry.IsNull)
                        {
                            continue;
                        }

                        await _slots.WaitAsync(stop);
                        var data = entry.Values.FirstOrDefault(v => v.Name == "data").Value;
                        Dispatch(entry.Id!, data.IsNull ? [] : (byte[])data!);
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    LogReadFailed(_owner._logger, ex, _owner.Name, _topic);
                }
            }
        }

        /// <summary>Runs the handler for an entry whose delivery slot is already taken.</summary>
        private void Dispatch(string id, byte[] data)
        {
            if (!_inFlight.TryAdd(id, 0))
            {
                _slots.Release();
                return;
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    var acked = await _handler(new BrokerMessage(_topic, id, data), _stop.Token);
                    if (acked)
                    {
                        await _owner._redis.GetDatabase().StreamAcknowledgeAsync(_topic, _group, id);
                    }
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException)
                {
                    // Not acknowledged: the entry stays pending and is reclaimed after processingTimeout.
                }
                finally
                {
                    _inFlight.TryRemove(id, out _);
                    _slots.Release();
                }
            });
        }

        private static List<(string Id, byte[] Data)> ParseEntries(RedisResult result)
        {
            var entries = new List<(string, byte[])>();
            if (result.IsNull || result.Resp2Type != ResultType.Array)
            {
                return entries;
            }

            // RESP2: [[stream, [[id, [field, value, ...]], ...]]]; RESP3: a map {stream: [[id, [...]], ...]} seen flat.
            var outer = (RedisResult[])result!;
            var streams = new List<RedisResult>();
            if (outer.Length > 0 && outer[0].Resp2Type == ResultType.Array)
            {
                streams.AddRange(outer.Select(s => ((RedisResult[])s!)[1]));
            }
            else
            {
                for (var i = 1; i < outer.Length; i += 2)
                {
                    streams.Add(outer[i]);
                }
            }

            foreach (var stream in streams)
            {
                foreach (var entry in (RedisResult[])stream!)
                {
                    var pair = (RedisResult[])entry!;
                    var id = pair[0].ToString();
                    byte[] data = [];
                    if (!pair[1].IsNull)
                    {
                        var fields = (RedisResult[])pair[1]!;
                        for (var i = 0; i + 1 < fields.Length; i += 2)
                        {
                            if (fields[i].ToString() == "data")
                            {
                                data = (byte[])fields[i + 1]!;
                            }
                        }
                    }

                    entries.Add((id, data));
                }
            }

            return entries;
        }

        private static async Task<bool> DelayAsync(TimeSpan delay, CancellationToken stop)
        {
            try
            {
                await Task.Delay(delay, stop);
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
    }
}
