using MoeDapr.Contracts.KvTransfer;
using MoeDapr.KvTransfer.DataPlane;

namespace MoeDapr.KvTransfer;

// The checks a payload passes at commit before it is ever served.
public sealed partial class KvBlockStore
{
    /// <summary>
    /// What is wrong with a payload at commit, as a metric label ("truncated", "checksum", "header") and a detail;
    /// both null when it may be served.
    /// </summary>
    private (string? Label, string? Detail) CheckPayload(Allocation allocation, long bytesWritten, ulong checksum)
    {
        if (bytesWritten != allocation.Size)
        {
            return ("truncated", $"{bytesWritten} bytes written, {allocation.Size} allocated");
        }

        if (allocation.PushedChecksum is { } pushed)
        {
            if (pushed != checksum)
            {
                return ("checksum", $"pushed bytes hash to {KvChecksum.ToHex(pushed)}, commit says {KvChecksum.ToHex(checksum)}");
            }
        }
        else if (_options.VerifySharedMemoryCommits)
        {
            var started = _time.GetTimestamp();
            var actual = KvChecksum.Compute(allocation.Address, allocation.Size);
            _metrics.Transferred("shm", "in", allocation.Size, _time.GetElapsedTime(started), "commit");
            if (actual != checksum)
            {
                return ("checksum", $"staged bytes hash to {KvChecksum.ToHex(actual)}, commit says {KvChecksum.ToHex(checksum)}");
            }
        }

        return allocation.Request.Layout is { } layout && CheckHeader(allocation, layout) is { } header ? ("header", header) : (null, null);
    }

    /// <summary>The reason a commit rejection sends, by its metric label.</summary>
    private static KvTransferErrorReason RejectionReason(string label) => label switch
    {
        "truncated" => KvTransferErrorReason.LengthMismatch,
        "checksum" => KvTransferErrorReason.ChecksumMismatch,
        _ => KvTransferErrorReason.HeaderMismatch,
    };

    private static string? CheckHeader(Allocation allocation, KvBlockLayout layout)
    {
        if (allocation.Size < KvPayloadHeader.Size)
        {
            return $"payload of {allocation.Size} bytes is shorter than its header";
        }

        try
        {
            unsafe
            {
                var header = KvPayloadHeader.Read(new ReadOnlySpan<byte>((byte*)allocation.Address, KvPayloadHeader.Size));
                return header == layout.ToHeader() ? null : $"payload header {header} does not match the allocated layout {layout}";
            }
        }
        catch (InvalidDataException e)
        {
            return e.Message;
        }
    }
}
