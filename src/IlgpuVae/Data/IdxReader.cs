using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;

namespace IlgpuVae.Data;

/// <summary>The header of an IDX file, as <see cref="IdxReader.ReadHeader"/> read and checked it.</summary>
/// <param name="ElementType">The element type.</param>
/// <param name="Dimensions">The dimensions, all positive.</param>
/// <param name="Bytes">The header's bytes (magic and sizes).</param>
/// <param name="BodyLength">The bytes of data the dimensions say follow.</param>
internal sealed record IdxHeader(IdxElementType ElementType, int[] Dimensions, byte[] Bytes, int BodyLength);

/// <summary>
/// Reads IDX files (the format of the MNIST distribution), raw or gzip-compressed, and checks
/// them strictly: a file that is truncated, has trailing bytes, or has an unexpected header is
/// rejected with a <see cref="InvalidDataException"/> rather than silently misread.
/// </summary>
internal static class IdxReader
{
    /// <summary>Reads an IDX file of unsigned-byte images (3 dimensions: count, rows, cols).</summary>
    /// <param name="path">The file, raw or gzip-compressed.</param>
    /// <returns>The dimensions and pixels.</returns>
    /// <exception cref="InvalidDataException">The file is not a well-formed 3-dimensional unsigned-byte IDX file.</exception>
    public static IdxArray ReadImages(string path) => Read(path, expectedDimensions: 3, contentName: "pixels");

    /// <summary>Reads an IDX file of unsigned-byte labels (1 dimension: count).</summary>
    /// <param name="path">The file, raw or gzip-compressed.</param>
    /// <returns>The dimensions and labels.</returns>
    /// <exception cref="InvalidDataException">The file is not a well-formed 1-dimensional unsigned-byte IDX file.</exception>
    public static IdxArray ReadLabels(string path) => Read(path, expectedDimensions: 1, contentName: "labels");

    /// <summary>Reads an IDX file, raw or gzip-compressed (recognised by its content, not its name).</summary>
    /// <param name="path">The file to read.</param>
    /// <param name="expectedDimensions">How many dimensions the header must declare.</param>
    /// <param name="allowAnyElementType">
    /// Accept any IDX element type; otherwise only unsigned bytes (0x08) are accepted.
    /// </param>
    /// <param name="contentName">What the elements are, for error messages ("pixels", "labels").</param>
    /// <returns>The dimensions and the elements as raw bytes.</returns>
    /// <exception cref="InvalidDataException">
    /// The path is not a regular file, the header is malformed, the type or dimension count is not the expected one,
    /// a dimension is not positive, the data is shorter or longer than the dimensions say, or the gzip stream is
    /// corrupt, truncated or followed by bytes that are not gzip.
    /// </exception>
    public static IdxArray Read(string path, int expectedDimensions, bool allowAnyElementType = false, string contentName = "data")
    {
        using var source = Source.Open(path, expectedDimensions);
        IdxHeader header = source.ReadHeader(expectedDimensions, allowAnyElementType, contentName);
        return source.ReadBody(header, contentName);
    }

    /// <summary>
    /// Reads and checks only the header of an IDX file: everything <see cref="Read"/> can tell before the data, so
    /// files can be checked against each other (images against labels) before any body is decompressed. Besides the
    /// header itself: a raw file must hold exactly the bytes the dimensions say; a gzip file must be able to hold
    /// them (deflate expands at most 1032:1), and a single-member gzip file's trailer must state that size.
    /// </summary>
    /// <exception cref="InvalidDataException">As <see cref="Read"/>, for what the header and the file's size show.</exception>
    public static IdxHeader ReadHeader(string path, int expectedDimensions, bool allowAnyElementType = false, string contentName = "data")
    {
        using var source = Source.Open(path, expectedDimensions);
        return source.ReadHeader(expectedDimensions, allowAnyElementType, contentName);
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
        RequireRegular(path);
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

    /// <summary>Refuses what is not a regular file (a FIFO would block the read, a directory is no data file).</summary>
    /// <exception cref="InvalidDataException">The path is not a regular file.</exception>
    internal static void RequireRegular(string path)
    {
        if (RegularFile.Problem(path) is string problem)
            throw Error(path, problem);
    }

    /// <summary>An open IDX file: the file, and the stream of its content (the file itself or its decompression).</summary>
    private sealed class Source : IDisposable
    {
        private readonly string _path;
        private readonly FileStream _file;
        private readonly DiagnosedGzipStream? _gzip;

        private Source(string path, FileStream file, DiagnosedGzipStream? gzip)
        {
            _path = path;
            _file = file;
            _gzip = gzip;
        }

        private Stream Stream => _gzip ?? (Stream)_file;

        public static Source Open(string path, int expectedDimensions)
        {
            ArgumentNullException.ThrowIfNull(path);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(expectedDimensions);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(expectedDimensions, 255);
            // Before opening: a FIFO would block the open until a writer came, a device would stream forever.
            RequireRegular(path);
            var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);
            try
            {
                if (!IsGzip(file))
                    return new Source(path, file, null);
                if (file.Length < GzipChecks.MinLength)
                    throw Error(path, $"corrupt gzip data: truncated, {file.Length} bytes is shorter than any gzip stream");
                return new Source(path, file, new DiagnosedGzipStream(path, file));
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }

        public IdxHeader ReadHeader(int expectedDimensions, bool allowAnyElementType, string contentName)
        {
            string path = _path;
            Stream stream = Stream;
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

            byte[] headerBytes = new byte[4 + 4 * dimensionCount];
            magic.CopyTo(headerBytes);
            got = stream.ReadAtLeast(headerBytes.AsSpan(4), headerBytes.Length - 4, throwOnEndOfStream: false);
            if (got < headerBytes.Length - 4)
            {
                throw Error(path, $"truncated header: expected {headerBytes.Length - 4} bytes of dimension sizes, found {got}");
            }

            int[] dimensions = new int[dimensionCount];
            long total = elementSize;
            for (int i = 0; i < dimensionCount; i++)
            {
                // Sizes are big-endian; a size with the top bit set reads as negative and is rejected.
                dimensions[i] = BinaryPrimitives.ReadInt32BigEndian(headerBytes.AsSpan(4 + 4 * i));
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
            long claimed = headerBytes.Length + total;
            if (_gzip is null)
            {
                // For a raw file the size is known up front: report size errors before allocating
                // anything, so a corrupt header cannot make us allocate gigabytes.
                long found = _file.Length - headerBytes.Length;
                if (found != expected)
                {
                    throw SizeError(path, expected, found, contentName);
                }
            }
            else
            {
                // A gzip file's size is known only by decompressing it, which for a header that lies costs as much as
                // it claims: what the file's own size and trailer show is checked first.
                long most = GzipChecks.MaxUncompressed(_file.Length);
                if (claimed > most)
                {
                    throw Error(path, $"truncated: expected {expected} bytes of {contentName}, but a gzip file of {_file.Length} bytes holds at most {most} (deflate expands at most {GzipChecks.MaxRatio}:1)");
                }

                // The trailer states the last member's size; in a file of one member that is the whole content's.
                // Several members are legal (gzip a b > c), and then the trailer speaks only for the last one. A
                // trailer that says more than the header claims costs nothing to read on: decompressing stops at the
                // claim, and the end of the file is then checked exactly (trailing bytes, junk after the stream).
                var (_, size) = GzipChecks.Trailer(_file);
                if (size < claimed && !GzipChecks.MayHoldSeveralMembers(_file))
                {
                    throw Error(path, $"the IDX header claims {claimed} bytes ({FormatDimensions(dimensions, dimensionCount)} {contentName} and the header), the gzip trailer says {size} (truncated, damaged, or followed by bytes that are not gzip)");
                }
            }

            return new IdxHeader((IdxElementType)type, dimensions, headerBytes, expected);
        }

        public IdxArray ReadBody(IdxHeader header, string contentName)
        {
            string path = _path;
            int expected = header.BodyLength;
            byte[] data = ReadUpTo(Stream, expected, initialCapacity: _gzip is not null ? Math.Min(expected, 1 << 20) : expected, out int filled);
            if (filled < expected)
            {
                throw SizeError(path, expected, filled, contentName);
            }

            // Decompressed data past the end is counted only so far: a gzip stream can expand 1032 times.
            long trailing = CountRemaining(Stream, limit: 1L << 26);
            if (trailing > 0)
            {
                throw SizeError(path, expected, expected + trailing, contentName, atLeast: trailing >= 1L << 26);
            }

            if (_gzip is not null && GzipChecks.CheckEnd(_file, header.Bytes, data) is string problem)
            {
                throw Error(path, problem);
            }

            return new IdxArray(header.ElementType, header.Dimensions, data);
        }

        public void Dispose()
        {
            _gzip?.Dispose();
            _file.Dispose();
        }
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

    private static long CountRemaining(Stream stream, long limit)
    {
        byte[] scratch = new byte[1 << 16];
        long count = 0;
        int read;
        while (count < limit && (read = stream.Read(scratch, 0, scratch.Length)) > 0)
        {
            count += read;
        }

        return count;
    }

    private static InvalidDataException SizeError(string path, int expected, long found, string contentName, bool atLeast = false) =>
        found < expected
            ? Error(path, $"truncated: expected {expected} bytes of {contentName}, found {found}")
            : Error(path, $"trailing bytes: expected {expected} bytes of {contentName}, found {(atLeast ? "at least " : "")}{found} ({(atLeast ? "at least " : "")}{found - expected} extra)");

    private static string FormatDimensions(int[] dimensions, int count) =>
        string.Join('x', dimensions.Take(count).Select(d => d.ToString(CultureInfo.InvariantCulture)));

    private static InvalidDataException Error(string path, string problem) => new($"{path}: {problem}");

    /// <summary>
    /// A file's gzip decompression whose data errors say in one line, naming the file, what is wrong
    /// (<see cref="GzipChecks.Diagnose"/>): the reader's own structural errors pass through it unchanged.
    /// </summary>
    private sealed class DiagnosedGzipStream(string path, FileStream file) : Stream
    {
        private readonly GZipStream _gzip = new(file, CompressionMode.Decompress, leaveOpen: true);

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(Span<byte> buffer)
        {
            try
            {
                return _gzip.Read(buffer);
            }
            catch (InvalidDataException ex)
            {
                throw new InvalidDataException($"{path}: {GzipChecks.Diagnose(file)}", ex);
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                _gzip.Dispose();
            base.Dispose(disposing);
        }
    }

}
