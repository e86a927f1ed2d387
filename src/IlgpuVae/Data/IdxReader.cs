using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;

namespace IlgpuVae.Data;

/// <summary>
/// Reads IDX files (the format of the MNIST distribution), raw or gzip-compressed, and checks
/// them strictly: a file that is truncated, has trailing bytes, or has an unexpected header is
/// rejected with a <see cref="DataFormatException"/> rather than silently misread.
/// </summary>
internal static class IdxReader
{
    /// <summary>Reads an IDX file of unsigned-byte images (3 dimensions: count, rows, cols).</summary>
    /// <param name="path">The file, raw or gzip-compressed.</param>
    /// <returns>The dimensions and pixels.</returns>
    /// <exception cref="DataFormatException">The file is not a well-formed 3-dimensional unsigned-byte IDX file.</exception>
    public static IdxArray ReadImages(string path) => Read(path, expectedDimensions: 3, contentName: "pixels");

    /// <summary>Reads an IDX file of unsigned-byte labels (1 dimension: count).</summary>
    /// <param name="path">The file, raw or gzip-compressed.</param>
    /// <returns>The dimensions and labels.</returns>
    /// <exception cref="DataFormatException">The file is not a well-formed 1-dimensional unsigned-byte IDX file.</exception>
    public static IdxArray ReadLabels(string path) => Read(path, expectedDimensions: 1, contentName: "labels");

    /// <summary>Reads an IDX file, raw or gzip-compressed (recognised by its content, not its name).</summary>
    /// <param name="path">The file to read.</param>
    /// <param name="expectedDimensions">How many dimensions the header must declare.</param>
    /// <param name="allowAnyElementType">
    /// Accept any IDX element type; otherwise only unsigned bytes (0x08) are accepted.
    /// </param>
    /// <param name="contentName">What the elements are, for error messages ("pixels", "labels").</param>
    /// <returns>The dimensions and the elements as raw bytes.</returns>
    /// <exception cref="DataFormatException">
    /// The header is malformed, the type or dimension count is not the expected one, a dimension
    /// is not positive, or the data is shorter or longer than the dimensions say.
    /// </exception>
    public static IdxArray Read(string path, int expectedDimensions, bool allowAnyElementType = false, string contentName = "data")
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(expectedDimensions);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(expectedDimensions, 255);

        using FileStream file = new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);
        bool gzip = IsGzip(file);
        using Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : file;
        try
        {
            return Read(stream, path, gzip ? null : file.Length, expectedDimensions, allowAnyElementType, contentName);
        }
        catch (InvalidDataException ex) when (gzip)
        {
            throw new DataFormatException($"{path}: corrupt gzip data: {OneLine(ex.Message)}", ex);
        }
    }

    /// <summary>Whether the stream starts with the gzip magic bytes 1f 8b; the position is restored.</summary>
    internal static bool IsGzip(Stream seekable)
    {
        long start = seekable.Position;
        Span<byte> magic = stackalloc byte[2];
        int read = seekable.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        seekable.Position = start;
        return read == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
    }

    /// <summary>
    /// Opens a file for reading its uncompressed content, decompressing it if it is gzip.
    /// Used to hash files the same way whether they are stored raw or compressed.
    /// </summary>
    internal static Stream OpenDecompressed(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);
        try
        {
            return IsGzip(file) ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: false) : file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Size in bytes of one element of the given type, or 0 for an unknown type code.</summary>
    internal static int ElementSize(byte type) => type switch
    {
        (byte)IdxElementType.UnsignedByte or (byte)IdxElementType.SignedByte => 1,
        (byte)IdxElementType.Short => 2,
        (byte)IdxElementType.Int or (byte)IdxElementType.Float => 4,
        (byte)IdxElementType.Double => 8,
        _ => 0,
    };

    private static IdxArray Read(Stream stream, string path, long? rawLength, int expectedDimensions, bool allowAnyElementType, string contentName)
    {
        Span<byte> magic = stackalloc byte[4];
        int got = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (got < 4)
        {
            throw Error(path, got == 0 ? "empty file, expected an IDX header" : $"truncated: {got} bytes, too short for an IDX header");
        }

        if (magic[0] != 0 || magic[1] != 0)
        {
            throw Error(path, $"bad magic: file starts with 0x{magic[0]:X2} 0x{magic[1]:X2}, an IDX file starts with 0x00 0x00");
        }

        byte type = magic[2];
        int elementSize = ElementSize(type);
        if (elementSize == 0)
        {
            throw Error(path, $"bad magic: unknown IDX element type 0x{type:X2}");
        }

        if (type != (byte)IdxElementType.UnsignedByte && !allowAnyElementType)
        {
            throw Error(path, $"wrong element type 0x{type:X2} ({(IdxElementType)type}), expected 0x08 (unsigned byte)");
        }

        int dimensionCount = magic[3];
        if (dimensionCount != expectedDimensions)
        {
            throw Error(path, $"wrong number of dimensions: header says {dimensionCount}, expected {expectedDimensions}");
        }

        byte[] sizeBytes = new byte[4 * dimensionCount];
        got = stream.ReadAtLeast(sizeBytes, sizeBytes.Length, throwOnEndOfStream: false);
        if (got < sizeBytes.Length)
        {
            throw Error(path, $"truncated header: expected {sizeBytes.Length} bytes of dimension sizes, found {got}");
        }

        int[] dimensions = new int[dimensionCount];
        long total = elementSize;
        for (int i = 0; i < dimensionCount; i++)
        {
            // Sizes are big-endian; a size with the top bit set reads as negative and is rejected.
            dimensions[i] = BinaryPrimitives.ReadInt32BigEndian(sizeBytes.AsSpan(4 * i));
            if (dimensions[i] <= 0)
            {
                throw Error(path, $"dimension {i} is {dimensions[i]}, dimensions must be positive");
            }

            // Checked against the array limit at every step, so the product cannot overflow a long.
            total *= dimensions[i];
            if (total > Array.MaxLength)
            {
                throw Error(path, $"dimensions {FormatDimensions(dimensions, i + 1)} need more than {Array.MaxLength} bytes, too large to load");
            }
        }

        int expected = (int)total;
        long headerLength = 4 + sizeBytes.Length;
        if (rawLength is long length)
        {
            // For a raw file the size is known up front: report size errors before allocating
            // anything, so a corrupt header cannot make us allocate gigabytes.
            long found = length - headerLength;
            if (found != expected)
            {
                throw SizeError(path, expected, found, contentName);
            }
        }

        byte[] data = ReadUpTo(stream, expected, initialCapacity: rawLength is null ? Math.Min(expected, 1 << 20) : expected, out int filled);
        if (filled < expected)
        {
            throw SizeError(path, expected, filled, contentName);
        }

        long trailing = CountRemaining(stream);
        if (trailing > 0)
        {
            throw SizeError(path, expected, expected + trailing, contentName);
        }

        return new IdxArray((IdxElementType)type, dimensions, data);
    }

    /// <summary>
    /// Reads up to <paramref name="count"/> bytes, growing the buffer as data arrives: a gzip
    /// stream's size is unknown until it ends, and a header that claims far more data than the
    /// file holds should cost only as much memory as the data that is actually there.
    /// </summary>
    private static byte[] ReadUpTo(Stream stream, int count, int initialCapacity, out int filled)
    {
        byte[] buffer = new byte[initialCapacity];
        filled = 0;
        while (filled < count)
        {
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, (int)Math.Min(count, 2L * buffer.Length));
            }

            int read = stream.Read(buffer, filled, buffer.Length - filled);
            if (read == 0)
            {
                break;
            }

            filled += read;
        }

        return buffer;
    }

    private static long CountRemaining(Stream stream)
    {
        byte[] scratch = new byte[1 << 16];
        long count = 0;
        int read;
        while ((read = stream.Read(scratch, 0, scratch.Length)) > 0)
        {
            count += read;
        }

        return count;
    }

    private static DataFormatException SizeError(string path, int expected, long found, string contentName) =>
        found < expected
            ? Error(path, $"truncated: expected {expected} bytes of {contentName}, found {found}")
            : Error(path, $"trailing bytes: expected {expected} bytes of {contentName}, found {found} ({found - expected} extra)");

    private static string FormatDimensions(int[] dimensions, int count) =>
        string.Join('x', dimensions.Take(count).Select(d => d.ToString(CultureInfo.InvariantCulture)));

    private static DataFormatException Error(string path, string problem) => new($"{path}: {problem}");

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}
