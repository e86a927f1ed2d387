using StbImageSharp;
using StbImageWriteSharp;
using ReadComponents = StbImageSharp.ColorComponents;
using WriteComponents = StbImageWriteSharp.ColorComponents;

namespace IlgpuVae.Imaging;

/// <summary>
/// PNG in and out, the one place that calls the picture libraries: StbImageWriteSharp (a managed port of
/// stb_image_write) encodes 8-bit RGB or 8-bit greyscale, non-interlaced; StbImageSharp (the managed port of
/// stb_image the core already reads folders of pictures with) decodes. Both are managed code, nothing native.
/// </summary>
internal static class Png
{
    /// <summary>The eight-byte PNG file signature.</summary>
    public static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

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

    /// <summary>Reads a PNG file (see <see cref="Decode"/>).</summary>
    /// <param name="path">File to read.</param>
    /// <returns>The image as RGB (greyscale is expanded, alpha dropped).</returns>
    public static RgbImage Read(string path) => Decode(File.ReadAllBytes(path));

    /// <summary>
    /// Decodes a PNG of any colour type and bit depth stb_image reads (8- and 16-bit, interlaced or not). Chunk CRCs
    /// are not checked, as stb_image does not check them; damage that breaks the image data is still reported.
    /// </summary>
    /// <param name="data">The complete PNG file bytes.</param>
    /// <returns>The image as RGB (greyscale is expanded, alpha dropped).</returns>
    /// <exception cref="InvalidDataException">The data is not a PNG, or not a decodable one.</exception>
    public static RgbImage Decode(ReadOnlySpan<byte> data)
    {
        // stb_image also reads JPEG, BMP, GIF and more: only a PNG is accepted here.
        if (data.Length < Signature.Length || !data[..Signature.Length].SequenceEqual(Signature))
        {
            throw new InvalidDataException("Not a PNG file (bad signature).");
        }

        ImageResult decoded;
        try
        {
            decoded = ImageResult.FromMemory(data.ToArray(), ReadComponents.RedGreenBlue);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // stb reports a corrupt file with a bare Exception ("bad zlib header" and the like).
            throw new InvalidDataException($"Not a decodable PNG ({e.Message.ReplaceLineEndings(" ")}).", e);
        }

        return new RgbImage(decoded.Width, decoded.Height, decoded.Data);
    }

    private static byte[] EncodeCore(byte[] pixels, int width, int height, WriteComponents components)
    {
        using var png = new MemoryStream();
        new ImageWriter().WritePng(pixels, width, height, components, png);
        return png.ToArray();
    }
}
