namespace MoeDapr.Tests.Shared;

/// <summary>Waits for a condition with a deadline, checking often at first and then every 100 ms (never a fixed sleep as synchronisation).</summary>
public static class Poll
{
    /// <summary>The default wait: generous, since the test machines are small and shared.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan LongestDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>Returns once <paramref name="condition"/> holds; throws <see cref="TimeoutException"/> naming <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        if (!await EventuallyAsync(condition, timeout))
        {
            throw new TimeoutException($"timed out after {timeout} waiting for {what}");
        }
    }

    /// <inheritdoc cref="UntilAsync(Func{Task{bool}}, TimeSpan, string)"/>
    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, what);

    /// <summary>Returns once <paramref name="condition"/> holds; throws naming <paramref name="what"/> after <see cref="Timeout"/>.</summary>
    public static Task UntilAsync(Func<bool> condition, string what) => UntilAsync(condition, Timeout, what);

    /// <inheritdoc cref="UntilAsync(Func{bool}, string)"/>
    public static Task UntilAsync(Func<Task<bool>> condition, string what) => UntilAsync(condition, Timeout, what);

    /// <summary>
    /// Whether <paramref name="condition"/> holds before <paramref name="within"/> (default <see cref="Timeout"/>) passes,
    /// checked once more at the deadline: for assertions whose message is built after the wait.
    /// </summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan? within = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + (within ?? Timeout);
        var delay = FirstDelay;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return await condition();
            }

            await Task.Delay(delay);
            delay = delay * 2 < LongestDelay ? delay * 2 : LongestDelay;
        }

        return true;
    }

    /// <inheritdoc cref="EventuallyAsync(Func{Task{bool}}, TimeSpan?)"/>
    public static Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan? within = null) =>
        EventuallyAsync(() => Task.FromResult(condition()), within);
}
