using System.Buffers.Binary;
using System.IO.Compression;

namespace IlgpuVae.Data;

/// <summary>
/// Writes unsigned-byte IDX files (the MNIST format), for example to export generated digits in
/// a form that MNIST tooling reads. A path ending in <c>.gz</c> is written gzip-compressed.
/// Files are written atomically: a reader never sees a half-written file, and a failed write
/// leaves any previous file in place.
/// </summary>
internal static class IdxWriter
{
    /// <summary>Writes images as a 3-dimensional IDX file (count, rows, cols).</summary>
    /// <param name="path">The file to write; compressed if it ends in <c>.gz</c>.</param>
    /// <param name="data">The pixels, row-major, <c>count * rows * cols</c> bytes.</param>
    /// <param name="count">How many images.</param>
    /// <param name="rows">Rows per image.</param>
    /// <param name="cols">Columns per image.</param>
    /// <exception cref="ArgumentException">The data length does not match the dimensions.</exception>
    public static void WriteImages(string path, byte[] data, int count, int rows, int cols) =>
        Write(path, [count, rows, cols], data);

    /// <summary>Writes labels as a 1-dimensional IDX file.</summary>
    /// <param name="path">The file to write; compressed if it ends in <c>.gz</c>.</param>
    /// <param name="labels">The labels, one byte each.</param>
    public static void WriteLabels(string path, byte[] labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        Write(path, [labels.Length], labels);
    }

    /// <summary>Writes an unsigned-byte IDX file of any shape.</summary>
    /// <param name="path">The file to write; compressed if it ends in <c>.gz</c>.</param>
    /// <param name="dimensions">The size of each dimension, outermost first; each must be positive.</param>
    /// <param name="data">The elements, row-major; the length must be the product of the dimensions.</param>
    /// <exception cref="ArgumentException">A dimension is not positive, or the data length does not match.</exception>
    public static void Write(string path, ReadOnlySpan<int> dimensions, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (dimensions.Length is 0 or > 255)
        {
            throw new ArgumentException($"an IDX file has 1 to 255 dimensions, got {dimensions.Length}", nameof(dimensions));
        }

        long total = 1;
        foreach (int size in dimensions)
        {
            if (size <= 0)
            {
                throw new ArgumentException($"dimensions must be positive, got {size}", nameof(dimensions));
            }

            total *= size;
            if (total > Array.MaxLength)
            {
                throw new ArgumentException("dimensions describe more data than an array can hold", nameof(dimensions));
            }
        }

        if (data.Length != total)
        {
            throw new ArgumentException($"data has {data.Length} bytes, dimensions need {total}", nameof(data));
        }

        byte[] header = new byte[4 + 4 * dimensions.Length];
        header[2] = (byte)IdxElementType.UnsignedByte;
        header[3] = (byte)dimensions.Length;
        for (int i = 0; i < dimensions.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), dimensions[i]);
        }

        using AtomicFile file = AtomicFile.Create(path);
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
        {
            using var gzip = new GZipStream(file.Stream, CompressionLevel.Optimal, leaveOpen: true);
            gzip.Write(header);
            gzip.Write(data);
        }
        else
        {
            file.Stream.Write(header);
            file.Stream.Write(data);
        }

        file.Commit();
    }
}
