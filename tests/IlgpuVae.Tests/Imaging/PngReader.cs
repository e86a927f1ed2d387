using IlgpuVae.Imaging;
using StbImageSharp;
using Xunit;

namespace IlgpuVae.Tests.Imaging;

/// <summary>
/// Reads back the PNGs the library writes, for tests only: StbImageSharp (the core's picture reader) decodes them, after
/// a check that they are PNGs (stb_image also reads JPEG, BMP and more).
/// </summary>
internal static class PngReader
{
    /// <summary>The eight-byte PNG file signature.</summary>
    public static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Decodes PNG bytes as RGB (greyscale is expanded, alpha dropped).</summary>
    public static RgbImage Decode(byte[] png)
    {
        Assert.True(png.AsSpan().StartsWith(Signature), "not a PNG (bad signature)");
        ImageResult decoded = ImageResult.FromMemory(png, ColorComponents.RedGreenBlue);
        return new RgbImage(decoded.Width, decoded.Height, decoded.Data);
    }

    /// <summary>Reads a PNG file (see <see cref="Decode"/>).</summary>
    public static RgbImage Read(string path) => Decode(File.ReadAllBytes(path));
}
