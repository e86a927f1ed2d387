using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace IlgpuVae.Data;

/// <summary>
/// One array of a NumPy .npy file: its shape, its element type and its elements' bytes in C order, little-endian.
/// What the array means (images, labels, vectors) is the caller's business.
/// </summary>
/// <param name="Shape">The dimensions, outermost first.</param>
/// <param name="Type">The element type, NumPy's spelling without the byte order: "u1", "i1", "i4", "i8" or "f4".</param>
/// <param name="Data">The elements' bytes, C order, little-endian.</param>
internal sealed record NpyArray(int[] Shape, string Type, byte[] Data)
{
    /// <summary>The number of elements, the product of <see cref="Shape"/>.</summary>
    public long Count => Shape.Aggregate(1L, (product, dimension) => product * dimension);

    /// <summary>The elements as float32; only for "f4".</summary>
    public float[] Floats()
    {
        if (Type != "f4")
            throw new InvalidOperationException($"the elements are {Type}, not f4");
        var values = new float[Count];
        for (int i = 0; i < values.Length; i++)
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(Data.AsSpan(4 * i, 4));
        return values;
    }

    /// <summary>The elements as integers; for the integer types.</summary>
    public long[] Integers()
    {
        var values = new long[Count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = Type switch
            {
                "u1" => Data[i],
                "i1" => (sbyte)Data[i],
                "i4" => BinaryPrimitives.ReadInt32LittleEndian(Data.AsSpan(4 * i, 4)),
                "i8" => BinaryPrimitives.ReadInt64LittleEndian(Data.AsSpan(8 * i, 8)),
                _ => throw new InvalidOperationException($"the elements are {Type}, not integers"),
            };
        }
        return values;
    }
}

/// <summary>
/// Reads and writes NumPy's .npy format (versions 1 to 3): the magic "\x93NUMPY", a version, a header length, and a
/// Python dict literal giving 'descr', 'fortran_order' and 'shape', then the raw elements. Only little-endian (or
/// byte-sized) u1, i1, i4, i8 and f4 arrays in C order are read; anything else is refused with a one-line message.
/// </summary>
internal static class Npy
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    private static readonly Dictionary<string, int> ItemSizes = new() { ["u1"] = 1, ["i1"] = 1, ["i4"] = 4, ["i8"] = 8, ["f4"] = 4 };

    /// <summary>Reads a .npy file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The array.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">It is not a .npy file this reader takes; the message names the file and the fault.</exception>
    public static NpyArray Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} not found", path);
        if (RegularFile.Problem(path) is string problem)
            throw new InvalidDataException($"{path}: {problem}");
        using var stream = File.OpenRead(path);
        Span<byte> start = stackalloc byte[8];
        if (stream.ReadAtLeast(start, 8, throwOnEndOfStream: false) < 8 || !start[..6].SequenceEqual(Magic))
            throw new InvalidDataException($"{path}: not a .npy file (no \\x93NUMPY magic)");
        int major = start[6];
        if (major is < 1 or > 3)
            throw new InvalidDataException($"{path}: .npy version {major}.{start[7]}; this reader takes versions 1 to 3");
        Span<byte> lengthBytes = stackalloc byte[4];
        int lengthSize = major == 1 ? 2 : 4;
        if (stream.ReadAtLeast(lengthBytes[..lengthSize], lengthSize, throwOnEndOfStream: false) < lengthSize)
            throw new InvalidDataException($"{path}: truncated .npy header");
        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(lengthBytes) : BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
        if (headerLength > 1 << 20 || headerLength > stream.Length)
            throw new InvalidDataException($"{path}: .npy header of {headerLength} bytes is longer than the file");
        var headerBytes = new byte[headerLength];
        if (stream.ReadAtLeast(headerBytes, headerBytes.Length, throwOnEndOfStream: false) < headerBytes.Length)
            throw new InvalidDataException($"{path}: truncated .npy header");
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        var (shape, type) = ParseHeader(header, path);
        long count, bytes;
        try
        {
            count = shape.Aggregate(1L, (product, dimension) => checked(product * dimension));
            bytes = checked(count * ItemSizes[type]);
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"{path}: shape ({string.Join(", ", shape)}) holds more elements than any file can");
        }
        long body = stream.Length - stream.Position;
        if (body != bytes)
            throw new InvalidDataException($"{path}: shape ({string.Join(", ", shape)}) of {type} needs {bytes} bytes of data, the file has {body}");
        if (bytes > Array.MaxLength)
            throw new InvalidDataException($"{path}: {bytes} bytes of data do not fit in one array");
        var data = new byte[bytes];
        stream.ReadExactly(data);
        return new NpyArray(shape, type, data);
    }

    /// <summary>Writes a float32 array as a version-1 .npy file, atomically.</summary>
    /// <param name="path">The file.</param>
    /// <param name="shape">The dimensions; their product is <paramref name="values"/>' length.</param>
    /// <param name="values">The elements, C order.</param>
    public static void WriteFloats(string path, ReadOnlySpan<int> shape, ReadOnlySpan<float> values)
    {
        long count = 1;
        foreach (int dimension in shape)
            count = dimension < 0 || count > int.MaxValue ? -1 : count * dimension;
        if (count != values.Length)
            throw new ArgumentException($"shape ({string.Join(", ", shape.ToArray())}) holds {count} values, not {values.Length}", nameof(values));
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape.ToArray());
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({dims}), }}";
        // Magic (6) + version (2) + length (2) + dict + '\n', padded with spaces to a multiple of 64.
        int total = (10 + dict.Length + 1 + 63) / 64 * 64;
        string padded = dict.PadRight(total - 10 - 1) + "\n";
        var header = new byte[total];
        Magic.CopyTo(header);
        header[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), (ushort)padded.Length);
        Encoding.ASCII.GetBytes(padded, header.AsSpan(10));
        // Straight from the values, a block at a time: no second copy of an array that may be most of memory.
        AtomicFile.Write(path, values, (stream, values) =>
        {
            stream.Write(header);
            // In slices: one span of bytes holds at most 2 GiB.
            const int Slice = 1 << 20;
            if (BitConverter.IsLittleEndian)
            {
                for (int start = 0; start < values.Length; start += Slice)
                    stream.Write(MemoryMarshal.AsBytes(values.Slice(start, Math.Min(Slice, values.Length - start))));
                return;
            }
            Span<byte> block = stackalloc byte[4096];
            for (int start = 0; start < values.Length; start += block.Length / 4)
            {
                int n = Math.Min(block.Length / 4, values.Length - start);
                for (int i = 0; i < n; i++)
                    BinaryPrimitives.WriteSingleLittleEndian(block[(4 * i)..], values[start + i]);
                stream.Write(block[..(4 * n)]);
            }
        });
    }

    private static (int[] Shape, string Type) ParseHeader(string header, string path)
    {
        string descr = Field(header, "descr", @"'([^']*)'", path);
        string order = Field(header, "fortran_order", "(True|False)", path);
        string shapeText = Field(header, "shape", @"\(([^)]*)\)", path);
        if (order == "True")
            throw new InvalidDataException($"{path}: fortran_order is True; save the array in C order (numpy.ascontiguousarray)");
        // '<' little-endian, '|' not applicable (one byte), '=' native (little-endian on every machine this runs on).
        string type = descr.Length == 3 && descr[0] is '<' or '|' or '=' ? descr[1..] : descr;
        if (!ItemSizes.ContainsKey(type))
            throw new InvalidDataException($"{path}: element type '{descr}'; this reader takes little-endian uint8, int8, int32, int64 and float32");
        var parts = shapeText.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var shape = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
                throw new InvalidDataException($"{path}: shape ({shapeText}) is not a tuple of sizes up to {int.MaxValue}");
        return (shape, type);
    }

    private static string Field(string header, string key, string value, string path)
    {
        var match = Regex.Match(header, $@"'{key}'\s*:\s*{value}");
        return match.Success ? match.Groups[1].Value : throw new InvalidDataException($"{path}: the .npy header lacks '{key}'");
    }
}
