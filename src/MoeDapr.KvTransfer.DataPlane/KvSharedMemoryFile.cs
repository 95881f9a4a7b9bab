using System.IO.MemoryMappedFiles;

namespace MoeDapr.KvTransfer.DataPlane;

/// <summary>
/// One whole file under /dev/shm (or a temp-dir fallback) mapped read-write into this process.
/// kv-transfer creates it as its staging arena; producers and consumers map the same path and address
/// payloads by offset, so bytes are written once by the producer and read once by the consumer.
/// Keep a mapping for the life of the process: a fresh mapping pays one page fault per 4 KiB on first touch.
/// </summary>
public sealed unsafe class KvSharedMemoryFile : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly bool _deleteOnDispose;
    private byte* _pointer;

    private KvSharedMemoryFile(string path, MemoryMappedFile file, long length, bool deleteOnDispose)
    {
        Path = path;
        Length = length;
        _file = file;
        _deleteOnDispose = deleteOnDispose;
        _view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite);
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref _pointer);
        _pointer += _view.PointerOffset;
    }

    public string Path { get; }

    public long Length { get; }

    /// <summary>Start of the mapping; valid until <see cref="Dispose"/>.</summary>
    public byte* Pointer => _pointer != null ? _pointer : throw new ObjectDisposedException(nameof(KvSharedMemoryFile));

    /// <summary>
    /// Creates a new file of <paramref name="length"/> bytes and maps it. The space is reserved with
    /// posix_fallocate, so a full tmpfs fails here with an IOException instead of a SIGBUS on a later write.
    /// </summary>
    public static KvSharedMemoryFile Create(string path, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.ReadWrite | FileShare.Delete,
            PreallocationSize = length,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var stream = new FileStream(path, options);
        try
        {
            stream.SetLength(length);
            var file = MemoryMappedFile.CreateFromFile(stream, null, length, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
            return new KvSharedMemoryFile(path, file, length, deleteOnDispose: true);
        }
        catch
        {
            stream.Dispose();
            File.Delete(path);
            throw;
        }
    }

    /// <summary>Maps an existing file whole (the other side of <see cref="Create"/>).</summary>
    public static KvSharedMemoryFile Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            var length = stream.Length;
            if (length == 0)
            {
                throw new IOException($"shared-memory file {path} is empty");
            }

            var file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
            return new KvSharedMemoryFile(path, file, length, deleteOnDispose: false);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Touches every page once so this process's page tables map the whole file now rather than one fault per
    /// 4 KiB inside the first transfers (the role MAP_POPULATE plays in C). Reads only: the bytes are unchanged.
    /// </summary>
    public long Prefault()
    {
        long sum = 0;
        var pointer = Pointer;
        for (long offset = 0; offset < Length; offset += KvNativeBuffer.PageSize)
        {
            sum += Volatile.Read(ref pointer[offset]);
        }

        return sum;
    }

    /// <summary>Pointer to <paramref name="length"/> bytes at <paramref name="offset"/>, bounds-checked.</summary>
    public byte* At(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset > Length - length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"range [{offset}, +{length}) lies outside the {Length}-byte shared-memory file {Path}");
        }

        return Pointer + offset;
    }

    /// <summary><see cref="At"/> as an address, for code that must not be in an unsafe context (async methods).</summary>
    public nint AddressOf(long offset, long length) => (nint)At(offset, length);

    public void Dispose()
    {
        if (_pointer == null)
        {
            return;
        }

        _pointer = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
        if (_deleteOnDispose)
        {
            try
            {
                File.Delete(Path);
            }
            catch (IOException)
            {
                // Already gone (an operator cleaned up); nothing holds the bytes any more.
            }
        }
    }
}
