namespace MoeDapr.KvTransfer.Staging;

/// <summary>
/// First-fit allocator of page-aligned ranges in a fixed arena, with coalescing on free. Not thread-safe:
/// the block store calls it under its lock. Sizes are rounded up to whole pages, so every payload starts on
/// a page boundary (what mmap offsets, O_DIRECT and pinned-memory registration want).
/// </summary>
public sealed class RangeAllocator
{
    private readonly SortedList<long, long> _free = []; // offset → length
    private readonly long _pageSize;

    public RangeAllocator(long capacity, long pageSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, pageSize);
        _pageSize = pageSize;
        Capacity = capacity / pageSize * pageSize;
        _free.Add(0, Capacity);
    }

    public long Capacity { get; }

    public long BytesInUse { get; private set; }

    public long RoundUp(long bytes) => (bytes + _pageSize - 1) / _pageSize * _pageSize;

    /// <summary>Finds room for <paramref name="bytes"/> (rounded up to pages); false when no free range is big enough.</summary>
    public bool TryAllocate(long bytes, out long offset, out long reserved)
    {
        reserved = RoundUp(Math.Max(bytes, 1));
        for (var i = 0; i < _free.Count; i++)
        {
            var length = _free.Values[i];
            if (length < reserved)
            {
                continue;
            }

            offset = _free.Keys[i];
            _free.RemoveAt(i);
            if (length > reserved)
            {
                _free.Add(offset + reserved, length - reserved);
            }

            BytesInUse += reserved;
            return true;
        }

        offset = -1;
        return false;
    }

    /// <summary>Returns a range from <see cref="TryAllocate"/> and merges it with free neighbours.</summary>
    public void Free(long offset, long reserved)
    {
        var start = offset;
        var length = reserved;
        var index = LowerBound(offset);
        if (index > 0)
        {
            var before = _free.Keys[index - 1];
            if (before + _free.Values[index - 1] == offset)
            {
                start = before;
                length += _free.Values[index - 1];
                _free.RemoveAt(index - 1);
                index--;
            }
        }

        if (index < _free.Count && _free.Keys[index] == offset + reserved)
        {
            length += _free.Values[index];
            _free.RemoveAt(index);
        }

        _free.Add(start, length);
        BytesInUse -= reserved;
    }

    /// <summary>Largest single range that could be allocated now.</summary>
    public long LargestFree => _free.Count == 0 ? 0 : _free.Values.Max();

    private int LowerBound(long offset)
    {
        int lo = 0, hi = _free.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (_free.Keys[mid] < offset)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
