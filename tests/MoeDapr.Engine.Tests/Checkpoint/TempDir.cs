using System.Buffers.Binary;
using System.Text;

namespace MoeDapr.Engine.Tests.Checkpoint;

/// <summary>A fresh folder under the system temp folder, deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "moedapr-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A mapped file may still be open on another thread's finalizer; the OS temp cleaner gets it.
        }
    }
}

/// <summary>Builds safetensors bytes by hand (independently of the writer under test).</summary>
internal static class RawSafetensors
{
    /// <summary>8-byte little-endian length, the header text as given (padded to 8 with spaces), then <paramref name="data"/>.</summary>
    public static byte[] Build(string headerJson, byte[] data, bool pad = true)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        var padded = pad ? (header.Length + 7) / 8 * 8 : header.Length;
        var bytes = new byte[8 + padded + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)padded);
        header.CopyTo(bytes, 8);
        bytes.AsSpan(8 + header.Length, padded - header.Length).Fill((byte)' ');
        data.CopyTo(bytes, 8 + padded);
        return bytes;
    }

    public static byte[] F32(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        }

        return bytes;
    }

    public static byte[] F16(params float[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(i * 2), (Half)values[i]);
        }

        return bytes;
    }

    /// <summary>bfloat16 is the top 16 bits of a float32; the values given must be exactly representable.</summary>
    public static byte[] BF16(params float[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (var i = 0; i < values.Length; i++)
        {
            var bits = BitConverter.SingleToUInt32Bits(values[i]);
            if ((bits & 0xFFFF) != 0)
            {
                throw new ArgumentException($"{values[i]} is not exactly representable in bfloat16");
            }

            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), (ushort)(bits >> 16));
        }

        return bytes;
    }
}
