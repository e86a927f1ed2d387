using System.Buffers.Binary;
using IlgpuVae.Analysis;
using IlgpuVae.Imaging;
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

    /// <summary>With either renderer the file is a PNG of the requested size, decodable, and contains every digit's colour.</summary>
    [Theory]
    [InlineData(ScatterBackend.Auto)]
    [InlineData(ScatterBackend.ScottPlot)]
    [InlineData(ScatterBackend.Bitmap)]
    public void Render_WritesPngOfStatedSize(ScatterBackend backend)
    {
        (float[] points, int[] labels, _) = AnalysisData.Blobs(2000, 2, 10, 5, 1, 8);
        string dir = Path.Combine(Path.GetTempPath(), "ilgpuvae-scatter-" + Guid.NewGuid().ToString("N"));
        string path = Path.Combine(dir, "nested", "latent.png");
        try
        {
            LatentScatter.Render(path, points, labels, "Latent space", "z1", "z2", 640, 480, backend);
            byte[] bytes = File.ReadAllBytes(path);
            Assert.True(bytes.AsSpan(0, 8).SequenceEqual(Png.Signature));
            Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
            Assert.Equal(640, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
            Assert.Equal(480, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));

            RgbImage image = Png.Decode(bytes);
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

    /// <summary>The in-memory encoder uses the default size (also for a single point, a degenerate range); mismatched labels are rejected.</summary>
    [Theory]
    [InlineData(ScatterBackend.ScottPlot)]
    [InlineData(ScatterBackend.Bitmap)]
    public void Encode_DefaultSize_AndValidation(ScatterBackend backend)
    {
        byte[] bytes = LatentScatter.Encode([0f, 0f, 1f, 1f, 2f, 0.5f], [0, 1, 1], "t", "x", "y", backend: backend);
        Assert.Equal(LatentScatter.DefaultWidth, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
        Assert.Equal(LatentScatter.DefaultHeight, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
        RgbImage single = Png.Decode(LatentScatter.Encode([3f, 3f], [4], "one", "x", "y", 200, 150, backend));
        Assert.Equal((200, 150), (single.Width, single.Height));
        Assert.Throws<ArgumentException>(() => LatentScatter.Encode([0f, 0f, 1f, 1f], [0], "t", "x", "y"));
        Assert.Throws<ArgumentException>(() => LatentScatter.Encode([0f, 0f, 1f], [0, 1], "t", "x", "y"));
    }
}
