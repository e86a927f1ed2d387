using IlgpuVae.Imaging;
using Xunit;

namespace IlgpuVae.Tests.Imaging;

/// <summary>Raster drawing and bitmap font tests.</summary>
public sealed class RgbImageTests
{
    /// <summary>SetPixel/GetPixel agree with the documented byte layout; out-of-range access throws.</summary>
    [Fact]
    public void SetPixel_WritesRowMajorRgb()
    {
        var img = new RgbImage(4, 3);
        img.SetPixel(2, 1, new Rgb(10, 20, 30));

        Assert.Equal(new Rgb(10, 20, 30), img.GetPixel(2, 1));
        int i = ((1 * 4) + 2) * 3;
        Assert.Equal(new byte[] { 10, 20, 30 }, img.Pixels[i..(i + 3)]);
        Assert.Throws<ArgumentOutOfRangeException>(() => img.SetPixel(4, 0, Rgb.White));
        Assert.Throws<ArgumentOutOfRangeException>(() => img.GetPixel(0, -1));
    }

    /// <summary>FillRect clips to the image instead of throwing.</summary>
    [Fact]
    public void FillRect_ClipsToBounds()
    {
        var img = new RgbImage(5, 5, Rgb.White);
        img.FillRect(-2, 3, 4, 10, Rgb.Red);

        for (int y = 0; y < 5; y++)
        {
            for (int x = 0; x < 5; x++)
            {
                Assert.Equal(x < 2 && y >= 3 ? Rgb.Red : Rgb.White, img.GetPixel(x, y));
            }
        }

        img.FillRect(100, 100, 5, 5, Rgb.Black); // fully outside: no-op
        img.FillRect(1, 1, 0, 3, Rgb.Black);     // empty: no-op
        Assert.Equal(Rgb.White, img.GetPixel(1, 1));
    }

    /// <summary>DrawText inks pixels, all inside the measured box, touching its edges for "H".</summary>
    [Theory]
    [InlineData("H", 1)]
    [InlineData("H", 3)]
    [InlineData("Hello, VAE 0123456789!", 2)]
    [InlineData("recon\ndigit 3", 2)]
    public void DrawText_InksOnlyWithinMeasuredBounds(string text, int scale)
    {
        var bg = new Rgb(24, 24, 24);
        var img = new RgbImage(400, 60, bg);
        const int X = 5, Y = 7;
        img.DrawText(X, Y, text, Rgb.White, scale);

        int w = BitmapFont.MeasureWidth(text, scale);
        int h = BitmapFont.MeasureHeight(text, scale);
        int inked = 0, minX = int.MaxValue, maxX = -1, minY = int.MaxValue, maxY = -1;
        for (int y = 0; y < img.Height; y++)
        {
            for (int x = 0; x < img.Width; x++)
            {
                Rgb p = img.GetPixel(x, y);
                if (p == bg)
                {
                    continue;
                }

                Assert.Equal(Rgb.White, p);
                inked++;
                (minX, maxX, minY, maxY) = (Math.Min(minX, x), Math.Max(maxX, x), Math.Min(minY, y), Math.Max(maxY, y));
            }
        }

        Assert.True(inked > 0);
        Assert.True(minX >= X && maxX < X + w, $"x range {minX}..{maxX} outside [{X}, {X + w})");
        Assert.True(minY >= Y && maxY < Y + h, $"y range {minY}..{maxY} outside [{Y}, {Y + h})");
        if (text == "H")
        {
            // Capitals stop at the baseline; the measured height includes the descender row.
            Assert.Equal((X, X + w - 1, Y, Y + (BitmapFont.CapHeight * scale) - 1), (minX, maxX, minY, maxY));
            Assert.Equal((5 * scale, 8 * scale), (w, h));
        }
    }

    /// <summary>Text running off the image is clipped, not an error.</summary>
    [Fact]
    public void DrawText_ClipsAtEdges()
    {
        var img = new RgbImage(10, 5);
        img.DrawText(-3, -2, "WWWW", Rgb.White, 2);
        Assert.Contains(img.Pixels, b => b == 255);
    }

    /// <summary>Text metrics: empty, single glyph, spacing, multiple lines.</summary>
    [Fact]
    public void Measure_Metrics()
    {
        Assert.Equal(0, BitmapFont.MeasureWidth(""));
        Assert.Equal(0, BitmapFont.MeasureHeight(""));
        Assert.Equal(5, BitmapFont.MeasureWidth("a"));
        Assert.Equal(11, BitmapFont.MeasureWidth("ab"));
        Assert.Equal(22, BitmapFont.MeasureWidth("ab", 2));
        Assert.Equal(RgbImage.MeasureText("abc", 3), BitmapFont.MeasureWidth("abc", 3));
        Assert.Equal(17, BitmapFont.MeasureWidth("a\nabc"));
        Assert.Equal(10 + 8, BitmapFont.MeasureHeight("a\nb"));
    }

    /// <summary>Every printable glyph (except space) has ink, and no two glyphs are identical.</summary>
    [Fact]
    public void Font_CoversPrintableAscii_WithDistinctGlyphs()
    {
        var seen = new Dictionary<string, char>();
        for (char c = ' '; c <= '~'; c++)
        {
            Assert.True(BitmapFont.IsSupported(c));
            var bits = new System.Text.StringBuilder();
            for (int col = 0; col < BitmapFont.GlyphWidth; col++)
            {
                for (int row = 0; row < BitmapFont.GlyphHeight; row++)
                {
                    bits.Append(BitmapFont.IsSet(c, col, row) ? '#' : '.');
                }
            }

            string key = bits.ToString();
            Assert.Equal(c != ' ', key.Contains('#'));
            Assert.False(seen.TryGetValue(key, out char other), $"'{c}' has the same glyph as '{other}'");
            seen[key] = c;
        }

        Assert.False(BitmapFont.IsSupported('\u00e9'));
        Assert.True(Enumerable.Range(0, 5).Any(col => BitmapFont.IsSet('g', col, 7)), "g has a descender");
        Assert.False(Enumerable.Range(0, 5).Any(col => BitmapFont.IsSet('H', col, 7)), "H has none");
        Assert.Equal(BitmapFont.IsSet('?', 1, 0), BitmapFont.IsSet('\u00e9', 1, 0));
    }
}
