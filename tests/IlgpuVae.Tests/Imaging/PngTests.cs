using System.Buffers.Binary;
using IlgpuVae.Data;
using IlgpuVae.Imaging;
using StbImageSharp;
using Xunit;

namespace IlgpuVae.Tests.Imaging;

/// <summary>
/// <see cref="Png"/> (StbImageWriteSharp encodes; the tests read back with StbImageSharp): round trips are lossless,
/// files are PNGs that StbImageSharp reads as written, and the Stream and byte[] saves give the path save's bytes.
/// </summary>
public sealed class PngTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ilgpuvae-png-" + Guid.NewGuid().ToString("N"));

    /// <summary>Creates the scratch directory.</summary>
    public PngTests() => Directory.CreateDirectory(_dir);

    /// <summary>Removes the scratch directory.</summary>
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Smooth gradients above, noise below: several filter types and incompressible data in one image.</summary>
    private static RgbImage Mixed(int width, int height, int seed)
    {
        var rng = new Random(seed);
        var img = new RgbImage(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                byte n = (byte)rng.Next(256);
                img.SetPixel(x, y, y < height / 2
                    ? new Rgb((byte)(x * 7), (byte)(y * 11), (byte)(x + y))
                    : new Rgb(n, (byte)(255 - n), (byte)(x * y)));
            }
        }

        return img;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(37, 23)]
    [InlineData(300, 200)]
    public void EncodeDecode_Rgb_IsLossless(int width, int height)
    {
        RgbImage img = Mixed(width, height, width * height);
        RgbImage back = PngReader.Decode(Png.Encode(img));
        Assert.Equal((width, height), (back.Width, back.Height));
        Assert.Equal(img.Pixels, back.Pixels);
    }

    [Fact]
    public void EncodeGrayDecode_IsLossless_AsGreyRgb()
    {
        byte[] gray = Enumerable.Range(0, 15 * 9).Select(i => (byte)(i * 37)).ToArray();
        RgbImage back = PngReader.Decode(Png.EncodeGray(15, 9, gray));
        Assert.Equal((15, 9), (back.Width, back.Height));
        for (int i = 0; i < gray.Length; i++)
            Assert.Equal(Rgb.FromGray(gray[i]), back.GetPixel(i % 15, i / 15));
    }

    /// <summary>Writing then reading a file returns identical RGB pixels and leaves no temp files.</summary>
    [Fact]
    public void WriteRead_Rgb_RoundTrips()
    {
        RgbImage img = Mixed(37, 23, 1234);
        string path = Path.Combine(_dir, "rgb.png");
        Png.Write(path, img);
        RgbImage back = PngReader.Read(path);

        Assert.Equal((img.Width, img.Height), (back.Width, back.Height));
        Assert.Equal(img.Pixels, back.Pixels);
        Assert.Equal(["rgb.png"], Directory.GetFiles(_dir).Select(Path.GetFileName));
        Assert.Equal(Png.Encode(img), File.ReadAllBytes(path));
    }

    /// <summary>Writing over an existing file replaces it; a missing directory is created.</summary>
    [Fact]
    public void Write_OverwritesExistingFile()
    {
        string path = Path.Combine(_dir, "sub", "over.png");
        Png.Write(path, new RgbImage(4, 4, Rgb.Red));
        Png.Write(path, new RgbImage(2, 3, Rgb.White));

        RgbImage back = PngReader.Read(path);
        Assert.Equal((2, 3), (back.Width, back.Height));
        Assert.All(back.Pixels, b => Assert.Equal(255, b));
    }

    /// <summary>A grey file is an 8-bit greyscale PNG (colour type 0) and reads back as grey RGB.</summary>
    [Fact]
    public void WriteGray_WritesGreyPng_AndRoundTrips()
    {
        byte[] gray = Enumerable.Range(0, 15 * 9).Select(i => (byte)(i * 37)).ToArray();
        string path = Path.Combine(_dir, "gray.png");
        Png.WriteGray(path, 15, 9, gray);

        byte[] file = File.ReadAllBytes(path);
        AssertPngHeader(file, 15, 9, colorType: 0);
        ImageResult stb = ImageResult.FromMemory(file, ColorComponents.Grey);
        Assert.Equal(gray, stb.Data);
        RgbImage back = PngReader.Read(path);
        for (int i = 0; i < gray.Length; i++)
            Assert.Equal(Rgb.FromGray(gray[i]), back.GetPixel(i % 15, i / 15));
    }

    /// <summary>A written file starts with the PNG signature and IHDR, and StbImageSharp reads the same size and pixels.</summary>
    [Fact]
    public void Write_IsAPngThatStbImageSharpReadsAsWritten()
    {
        RgbImage img = Mixed(64, 40, 7);
        string path = Path.Combine(_dir, "valid.png");
        Png.Write(path, img);

        byte[] file = File.ReadAllBytes(path);
        AssertPngHeader(file, 64, 40, colorType: 2);
        Assert.Equal("IEND"u8.ToArray(), file[^8..^4]);
        ImageInfo? info = ImageInfo.FromStream(new MemoryStream(file));
        Assert.NotNull(info);
        Assert.Equal(ColorComponents.RedGreenBlue, info.Value.ColorComponents);
        ImageResult stb = ImageResult.FromMemory(file, ColorComponents.RedGreenBlue);
        Assert.Equal((64, 40), (stb.Width, stb.Height));
        Assert.Equal(img.Pixels, stb.Data);
    }

    [Fact]
    public void EncodeGray_WrongLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => Png.EncodeGray(3, 3, new byte[8]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Png.EncodeGray(0, 3, []));
    }

    [Fact]
    public void DigitGrid_StreamAndBytes_AreThePathSavesBytes()
    {
        float[] images = Enumerable.Range(0, 5 * 28 * 28).Select(i => (i % 97) / 96f).ToArray();
        var labels = new GridLabels { Title = "grid", RowLabels = ["a", "b"], ColumnLabels = ["1", "2", "3"] };
        string path = Path.Combine(_dir, "grid.png");
        DigitGrid.Save(path, images, 2, 3, labels);
        byte[] file = File.ReadAllBytes(path);

        Assert.Equal(file, DigitGrid.Encode(images, 2, 3, labels));
        using var stream = new MemoryStream();
        stream.Write([1, 2, 3]);
        DigitGrid.Save(stream, images, 2, 3, labels);
        byte[] expected = [1, 2, 3, .. file];
        Assert.Equal(expected, stream.ToArray());
        Assert.Equal(DigitGrid.Render(images, 2, 3, labels).Pixels, PngReader.Decode(file).Pixels);
    }

    // A batch is a ReadOnlySpan<float> too: its stream save must not fall to the span overload (28 x 28 grey cells).
    [Theory]
    [InlineData(1, 56, 14)]
    [InlineData(3, 32, 32)]
    public void DigitGrid_ImageBatch_StreamAndPathSaves_AreTheBatchsEncoding(int channels, int height, int width)
    {
        int d = channels * height * width;
        var batch = new ImageBatch(Enumerable.Range(0, 5 * d).Select(i => (i % 89) / 88f).ToArray(), 5, channels, height, width);
        byte[] encoded = DigitGrid.Encode(batch, 2, 3);

        using var stream = new MemoryStream();
        DigitGrid.Save(stream, batch, 2, 3);
        Assert.Equal(encoded, stream.ToArray());
        string path = Path.Combine(_dir, $"batch-{channels}.png");
        DigitGrid.Save(path, batch, 2, 3);
        Assert.Equal(encoded, File.ReadAllBytes(path));
        Assert.Equal(DigitGrid.Render(batch.Values, 2, 3, cellSize: height, cellWidth: width, channels: channels).Pixels,
            PngReader.Decode(encoded).Pixels);
    }

    [Fact]
    public void DigitFigureImage_StreamAndBytes_AreThePathSavesBytes()
    {
        float[] cells = Enumerable.Range(0, 4 * 3 * 8 * 6).Select(i => (i % 13) / 12f).ToArray();
        var figure = new DigitFigure(cells, 2, 2, 8, 6, "figure", ["x", "y"], ["p", "q"], [3]) { ImageChannels = 3 };
        string path = Path.Combine(_dir, "figure.png");
        DigitFigureImage.Save(path, figure, scale: 3);
        byte[] file = File.ReadAllBytes(path);

        Assert.Equal(file, DigitFigureImage.Encode(figure, scale: 3));
        using var stream = new MemoryStream();
        DigitFigureImage.Save(stream, figure, scale: 3);
        Assert.Equal(file, stream.ToArray());
        Assert.Equal(DigitFigureImage.Render(figure, 3).Pixels, PngReader.Decode(file).Pixels);
    }

    [Fact]
    public void StreamSaves_RejectNull()
    {
        Assert.Throws<ArgumentNullException>(() => DigitGrid.Save((Stream)null!, new float[28 * 28], 1, 1));
        Assert.Throws<ArgumentNullException>(() => DigitGrid.Save((Stream)null!, new ImageBatch(new float[4], 1, 1, 2, 2), 1, 1));
        Assert.Throws<ArgumentNullException>(() => DigitGrid.Save(new MemoryStream(), (ImageBatch)null!, 1, 1));
        Assert.Throws<ArgumentNullException>(() => DigitFigureImage.Save((Stream)null!,
            new DigitFigure(new float[4], 1, 1, 2, 2, null, null, null, [])));
    }

    private static void AssertPngHeader(byte[] file, int width, int height, byte colorType)
    {
        Assert.Equal(PngReader.Signature.ToArray(), file[..8]);
        Assert.Equal("IHDR"u8.ToArray(), file[12..16]);
        Assert.Equal((uint)width, BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(16)));
        Assert.Equal((uint)height, BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(20)));
        Assert.Equal(8, file[24]); // bit depth
        Assert.Equal(colorType, file[25]);
    }
}
