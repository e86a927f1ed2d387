using StbImageWriteSharp;
using WriteComponents = StbImageWriteSharp.ColorComponents;

namespace IlgpuVae.Imaging;

/// <summary>
/// PNG out, the one place that calls the picture library: StbImageWriteSharp (a managed port of stb_image_write,
/// managed code, nothing native) encodes 8-bit RGB or 8-bit greyscale, non-interlaced.
/// </summary>
internal static class Png
{
    /// <summary>
    /// Writes <paramref name="image"/> as an 8-bit RGB PNG. The file is written to a temporary file in the
    /// same directory and then moved over <paramref name="path"/>, so readers never see a partial file.
    /// The directory is created if missing.
    /// </summary>
    /// <param name="path">Destination file path.</param>
    /// <param name="image">Image to write.</param>
    public static void Write(string path, RgbImage image) => WriteFile(path, Encode(image));

    /// <summary>Writes an 8-bit greyscale PNG atomically (see <see cref="Write(string, RgbImage)"/>).</summary>
    /// <param name="path">Destination file path.</param>
    /// <param name="width">Width in pixels, at least 1.</param>
    /// <param name="height">Height in pixels, at least 1.</param>
    /// <param name="gray">Row-major grey levels, exactly width * height bytes.</param>
    public static void WriteGray(string path, int width, int height, ReadOnlySpan<byte> gray) =>
        WriteFile(path, EncodeGray(width, height, gray));

    /// <summary>
    /// Writes already encoded PNG bytes to <paramref name="path"/> atomically (see <see cref="Write(string, RgbImage)"/>),
    /// so a path-based save is its in-memory encoding written to a file.
    /// </summary>
    /// <param name="path">Destination file path.</param>
    /// <param name="png">The complete PNG file bytes.</param>
    public static void WriteFile(string path, byte[] png)
    {
        ArgumentNullException.ThrowIfNull(png);
        Data.RegularFile.WriteAtomically(path, stream => stream.Write(png));
    }

    /// <summary>Encodes <paramref name="image"/> as an 8-bit RGB PNG in memory.</summary>
    /// <param name="image">Image to encode.</param>
    /// <returns>The complete PNG file bytes.</returns>
    public static byte[] Encode(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return EncodeCore(image.Pixels, image.Width, image.Height, WriteComponents.RedGreenBlue);
    }

    /// <summary>Encodes an 8-bit greyscale PNG in memory.</summary>
    /// <param name="width">Width in pixels, at least 1.</param>
    /// <param name="height">Height in pixels, at least 1.</param>
    /// <param name="gray">Row-major grey levels, exactly width * height bytes.</param>
    /// <returns>The complete PNG file bytes.</returns>
    public static byte[] EncodeGray(int width, int height, ReadOnlySpan<byte> gray)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if ((long)width * height != gray.Length)
        {
            throw new ArgumentException(
                $"Expected {(long)width * height} bytes for a {width}x{height} greyscale image, got {gray.Length}.",
                nameof(gray));
        }

        return EncodeCore(gray.ToArray(), width, height, WriteComponents.Grey);
    }

    private static byte[] EncodeCore(byte[] pixels, int width, int height, WriteComponents components)
    {
        using var png = new MemoryStream();
        new ImageWriter().WritePng(pixels, width, height, components, png);
        return png.ToArray();
    }
}
