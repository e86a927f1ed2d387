using System.Buffers.Binary;
using System.Text;

namespace IlgpuVae.Tests.Checkpoints;

/// <summary>A temporary directory deleted on dispose, plus helpers to craft safetensors bytes by hand.</summary>
internal sealed class SafeTensorsTestFiles : IDisposable
{
    public SafeTensorsTestFiles()
    {
        Directory = Path.Combine(Path.GetTempPath(), "ilgpuvae-safetensors-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    public string PathOf(string fileName) => Path.Combine(Directory, fileName);

    public string[] FileNames() =>
        System.IO.Directory.GetFileSystemEntries(Directory).Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal).ToArray();

    public string WriteBytes(string fileName, byte[] bytes)
    {
        string path = PathOf(fileName);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>An 8-byte little-endian length, the header (space-padded to 8 if asked), then the buffer.</summary>
    public static byte[] Build(string headerJson, byte[] buffer, bool pad = true)
    {
        byte[] header = Encoding.UTF8.GetBytes(headerJson);
        return Build(header, buffer, pad);
    }

    public static byte[] Build(byte[] header, byte[] buffer, bool pad = true)
    {
        int length = pad ? (header.Length + 7) / 8 * 8 : header.Length;
        var bytes = new byte[8 + length + buffer.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)length);
        header.CopyTo(bytes, 8);
        bytes.AsSpan(8 + header.Length, length - header.Length).Fill((byte)' ');
        buffer.CopyTo(bytes, 8 + length);
        return bytes;
    }

    /// <summary>Little-endian float32 bytes, built without relying on host byte order.</summary>
    public static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        }

        return bytes;
    }

    public static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
