using MoeDapr.Contracts.KvTransfer;
using MoeDapr.KvTransfer.DataPlane;

namespace MoeDapr.KvTransfer;

// One allocation's bookkeeping, read and changed under the store's lock.
public sealed partial class KvBlockStore
{
    private sealed class Allocation(Guid id, long offset, long reserved, KvAllocateRequest request)
    {
        public Guid Id { get; } = id;

        public string Handle { get; } = KvHandle.Format(id);

        public long Offset { get; } = offset;

        public long Reserved { get; } = reserved;

        public long Size => Request.SizeBytes;

        public KvAllocateRequest Request { get; } = request;

        public IReadOnlyList<string> Hashes => Request.PrefixBlockHashes ?? [];

        public KvAllocationState State { get; set; } = KvAllocationState.Allocated;

        public ulong Checksum { get; set; }

        public ulong? PushedChecksum { get; set; }

        public DateTimeOffset ExpiresAt { get; set; }

        /// <summary>Transfers or commit checks currently touching the bytes.</summary>
        public int Pins { get; set; }

        /// <summary>A push or commit is in flight; a second one is refused.</summary>
        public bool Busy { get; set; }

        /// <summary>Released or expired; the range is freed once <see cref="Pins"/> reaches zero.</summary>
        public bool Removed { get; set; }

        /// <summary>Start of the staged bytes in this process.</summary>
        public nint Address { get; init; }
    }
}
