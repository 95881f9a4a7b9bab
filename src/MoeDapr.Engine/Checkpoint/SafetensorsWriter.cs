using TorchSharp;

namespace MoeDapr.Engine.Checkpoint;

/// <summary>Writes safetensors files in the layout the Hugging Face <c>safetensors</c> library reads and writes.</summary>
public static class SafetensorsWriter
{
    /// <summary>The metadata transformers expects on PyTorch checkpoints.</summary>
    public static IReadOnlyDictionary<string, string> PyTorchMetadata { get; } = new Dictionary<string, string> { ["format"] = "pt" };

    /// <summary>Writes <paramref name="entries"/> in order to <paramref name="path"/> (through a temporary file, then renamed).</summary>
    public static void Write(string path, IReadOnlyList<SafetensorsWriteEntry> entries, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var headerEntries = new List<SafetensorsEntry>(entries.Count);
        long offset = 0;
        foreach (var entry in entries)
        {
            if (!names.Add(entry.Name))
            {
                throw new ArgumentException($"tensor {entry.Name} is written twice", nameof(entries));
            }

            var length = entry.ByteLength;
            headerEntries.Add(new SafetensorsEntry(entry.Name, entry.Dtype, entry.Shape, offset, offset + length));
            offset += length;
        }

        var header = SafetensorsHeader.Encode(headerEntries, metadata ?? PyTorchMetadata);
        var temporary = path + ".tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            {
                stream.Write(SafetensorsHeader.LengthPrefix(header.Length));
                stream.Write(header);
                for (var i = 0; i < entries.Count; i++)
                {
                    var before = stream.Position;
                    entries[i].WriteData(stream);
                    var written = stream.Position - before;
                    if (written != headerEntries[i].ByteLength)
                    {
                        throw new InvalidOperationException(
                            $"tensor {entries[i].Name} wrote {written} bytes, but {entries[i].Dtype} [{string.Join(", ", entries[i].Shape)}] needs {headerEntries[i].ByteLength}");
                    }
                }
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
