using System.Buffers.Binary;
using IlgpuVae.Imaging;
using IlgpuVae.Tests.Imaging;
using Xunit;

namespace IlgpuVae.Tests.Analysis;

/// <summary>Scatter-plot rendering.</summary>
public sealed class LatentScatterTests
{
    // The category10 palette (label mod 10), drawn opaque in the legend markers.
    private static readonly Rgb[] Palette =
    [
        new(0x1f, 0x77, 0xb4), new(0xff, 0x7f, 0x0e), new(0x2c, 0xa0, 0x2c), new(0xd6, 0x27, 0x28), new(0x94, 0x67, 0xbd),
        new(0x8c, 0x56, 0x4b), new(0xe3, 0x77, 0xc2), new(0x7f, 0x7f, 0x7f), new(0xbc, 0xbd, 0x22), new(0x17, 0xbe, 0xcf),
    ];

    // The renderer's text, tick and frame colour.
    private static readonly Rgb Ink = new(30, 30, 30);

    /// <summary>The file is a PNG of the requested size, decodable, and contains every digit's colour.</summary>
    [Fact]
    public void Render_WritesPngOfStatedSize()
    {
        (float[] points, int[] labels, _) = AnalysisData.Blobs(2000, 2, 10, 5, 1, 8);
        string dir = Path.Combine(Path.GetTempPath(), "ilgpuvae-scatter-" + Guid.NewGuid().ToString("N"));
        string path = Path.Combine(dir, "nested", "latent.png");
        try
        {
            LatentScatter.Render(path, points, labels, "Latent space", "z1", "z2", 640, 480);
            byte[] bytes = File.ReadAllBytes(path);
            Assert.True(bytes.AsSpan(0, 8).SequenceEqual(PngReader.Signature));
            Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
            Assert.Equal(640, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
            Assert.Equal(480, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));

            RgbImage image = PngReader.Decode(bytes);
            Assert.Equal((640, 480), (image.Width, image.Height));
            var seen = new HashSet<Rgb>();
            for (int y = 0; y < image.Height; y++)
            {
                for (int x = 0; x < image.Width; x++)
                {
                    seen.Add(image.GetPixel(x, y));
                }
            }

            Assert.All(Palette, colour => Assert.Contains(colour, seen));
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp"));
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    /// <summary>
    /// Everything a reader needs is drawn. The frame is the two rows and two columns mostly in ink (the legend box is
    /// shorter). Blanking the title, x label or y label (same length, so the same layout) changes pixels only above,
    /// below or left of the frame, and some there; below the frame, tick marks, tick labels and the x label are three
    /// bands of rows; between the y label and the tick marks lie the y tick labels; right of the frame the legend
    /// shows every digit's colour, opaque.
    /// </summary>
    [Fact]
    public void Encode_DrawsTitleAxesTicksLabelsAndLegend()
    {
        (float[] points, int[] labels, _) = AnalysisData.Blobs(500, 2, 10, 5, 1, 3);
        RgbImage Draw(string title, string xLabel, string yLabel) =>
            PngReader.Decode(LatentScatter.Encode(points, labels, title, xLabel, yLabel, 640, 480));
        RgbImage image = Draw("Latent space", "z1", "z2");
        bool IsInk(int x, int y) => image.GetPixel(x, y) == Ink;
        int[] frameRows = [.. Enumerable.Range(0, image.Height).Where(y => Enumerable.Range(0, image.Width).Count(x => IsInk(x, y)) > image.Width * 0.65)];
        int[] frameColumns = [.. Enumerable.Range(0, image.Width).Where(x => Enumerable.Range(0, image.Height).Count(y => IsInk(x, y)) > image.Height * 0.65)];
        Assert.Equal(2, frameRows.Length);
        Assert.Equal(2, frameColumns.Length);
        (int top, int bottom, int left, int right) = (frameRows[0], frameRows[1], frameColumns[0], frameColumns[1]);

        List<(int X, int Y)> title = Changed(image, Draw("            ", "z1", "z2"));
        List<(int X, int Y)> xLabel = Changed(image, Draw("Latent space", "  ", "z2"));
        List<(int X, int Y)> yLabel = Changed(image, Draw("Latent space", "z1", "  "));
        Assert.NotEmpty(title);
        Assert.NotEmpty(xLabel);
        Assert.NotEmpty(yLabel);
        Assert.All(title, p => Assert.True(p.Y < top));
        Assert.All(xLabel, p => Assert.True(p.Y > bottom));
        Assert.All(yLabel, p => Assert.True(p.X < left));

        // The frame's own row starts the first band below it (tick marks hang from it).
        bool RowHasInk(int y) => Enumerable.Range(0, image.Width).Any(x => IsInk(x, y));
        Assert.Equal(3, Bands(Enumerable.Range(bottom, image.Height - bottom).Select(RowHasInk)));
        int yLabelRight = yLabel.Max(p => p.X);
        int yTickMarkLeft = Enumerable.Range(0, left).Last(x => !Enumerable.Range(top, bottom - top).Any(y => IsInk(x, y)));
        Assert.True(yTickMarkLeft < left - 1, "tick marks left of the frame");
        Assert.Contains(true, Enumerable.Range(yLabelRight + 1, yTickMarkLeft - yLabelRight).SelectMany(x => Enumerable.Range(top, bottom - top).Select(y => IsInk(x, y))));

        var legend = new HashSet<Rgb>();
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = right + 1; x < image.Width; x++)
            {
                legend.Add(image.GetPixel(x, y));
            }
        }

        Assert.All(Palette, colour => Assert.Contains(colour, legend));
    }

    private static List<(int X, int Y)> Changed(RgbImage a, RgbImage b)
    {
        var changed = new List<(int X, int Y)>();
        for (int y = 0; y < a.Height; y++)
        {
            for (int x = 0; x < a.Width; x++)
            {
                if (a.GetPixel(x, y) != b.GetPixel(x, y))
                {
                    changed.Add((x, y));
                }
            }
        }

        return changed;
    }

    private static int Bands(IEnumerable<bool> inked)
    {
        int bands = 0;
        bool previous = false;
        foreach (bool current in inked)
        {
            bands += current && !previous ? 1 : 0;
            previous = current;
        }

        return bands;
    }

    /// <summary>The in-memory encoder uses the default size (also for a single point, a degenerate range); mismatched labels
    /// are rejected; the same input gives the same bytes.</summary>
    [Fact]
    public void Encode_DefaultSize_AndValidation()
    {
        byte[] bytes = LatentScatter.Encode([0f, 0f, 1f, 1f, 2f, 0.5f], [0, 1, 1], "t", "x", "y");
        Assert.Equal(LatentScatter.DefaultWidth, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
        Assert.Equal(LatentScatter.DefaultHeight, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
        Assert.Equal(bytes, LatentScatter.Encode([0f, 0f, 1f, 1f, 2f, 0.5f], [0, 1, 1], "t", "x", "y"));
        RgbImage single = PngReader.Decode(LatentScatter.Encode([3f, 3f], [4], "one", "x", "y", 200, 150));
        Assert.Equal((200, 150), (single.Width, single.Height));
        Assert.Throws<ArgumentException>(() => LatentScatter.Encode([0f, 0f, 1f, 1f], [0], "t", "x", "y"));
        Assert.Throws<ArgumentException>(() => LatentScatter.Encode([0f, 0f, 1f], [0, 1], "t", "x", "y"));
    }
}
