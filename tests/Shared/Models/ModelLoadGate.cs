using System.Diagnostics;

namespace MoeDapr.Tests.Shared;

/// <summary>
/// Replaces a checkpoint's config.json by a named pipe with the same content: a loader that opens it waits until
/// <see cref="ReleaseAsync"/> writes the content, as it would on slow storage. So a test sees a service that is still
/// loading its model for as long as it needs, without racing the load.
/// </summary>
public sealed class ModelLoadGate : IAsyncDisposable
{
    private static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(60);
    private readonly string _path;
    private readonly string _heldCopy;
    private int _released;

    private ModelLoadGate(string path, string heldCopy)
    {
        _path = path;
        _heldCopy = heldCopy;
    }

    /// <summary>Moves <paramref name="path"/> aside and puts a named pipe in its place.</summary>
    public static ModelLoadGate Close(string path)
    {
        var heldCopy = path + ".held";
        File.Move(path, heldCopy);
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })
            ?? throw new InvalidOperationException("mkfifo did not start");
        mkfifo.WaitForExit();
        if (mkfifo.ExitCode != 0)
        {
            File.Move(heldCopy, path);
            throw new InvalidOperationException($"mkfifo {path} failed with {mkfifo.ExitCode}");
        }

        return new ModelLoadGate(path, heldCopy);
    }

    /// <summary>
    /// Waits for the loader to open the pipe, hands it the file's content, then puts the regular file back. Opening a
    /// pipe for writing blocks until its reader arrives, so this returns only once the load has been let through.
    /// </summary>
    public async Task ReleaseAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) == 1)
        {
            return;
        }

        var content = await File.ReadAllBytesAsync(_heldCopy);
        await Task.Run(() =>
        {
            using var pipe = new FileStream(_path, FileMode.Open, FileAccess.Write);
            pipe.Write(content);
        }).WaitAsync(ReleaseTimeout);
        File.Move(_heldCopy, _path, overwrite: true);
    }

    public async ValueTask DisposeAsync() => await ReleaseAsync();
}
