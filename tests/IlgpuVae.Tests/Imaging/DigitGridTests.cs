using IlgpuVae.Imaging;
using Xunit;

namespace IlgpuVae.Tests.Imaging;

/// <summary>Digit grid layout and pixel mapping tests.</summary>
public sealed class DigitGridTests
{
    private const int Cell = 28;

    /// <summary>Without labels the image is exactly the grid: cells plus 1-pixel separators around and between.</summary>
    [Theory]
    [InlineData(2, 3, 2)]
    [InlineData(1, 1, 1)]
    [InlineData(4, 10, 3)]
    public void Render_NoLabels_HasGridDimensions(int rows, int cols, int scale)
    {
        RgbImage img = DigitGrid.Render(new float[rows * cols * Cell * Cell], rows, cols, scale: scale);

        Assert.Equal((cols * ((Cell * scale) + 1)) + 1, img.Width);
        Assert.Equal((rows * ((Cell * scale) + 1)) + 1, img.Height);
    }

    /// <summary>Title and row labels add margins computed from the font metrics (values worked out by hand).</summary>
    [Fact]
    public void Render_TitleAndRowLabels_Dimensions()
    {
        var labels = new GridLabels { Title = "T", RowLabels = ["input", "recon"] };
        RgbImage img = DigitGrid.Render(new float[2 * 3 * Cell * Cell], 2, 3, labels);
        GridLayout layout = DigitGrid.ComputeLayout(2, 3, labels);

        // Text scale = digit scale = 2. "input" is 5 glyphs: (5*6-1)*2 = 58 px, plus a 4 px gap.
        // gridX = 4 + 58 + 4 = 66; title 8*2 = 16 px + 4 gap -> gridY = 4 + 20 = 24.
        // Grid: 3 cells of 56 px + 4 separators = 172 wide, 2 cells + 3 separators = 115 high.
        Assert.Equal((66, 24), (layout.GridX, layout.GridY));
        Assert.Equal((66 + 172 + 4, 24 + 115 + 4), (img.Width, img.Height));
        Assert.Equal((layout.Width, layout.Height), (img.Width, img.Height));
    }

    /// <summary>Column labels that do not fit a cell at the default text scale shrink; a long title widens the image.</summary>
    [Fact]
    public void Render_ColumnLabelsAndLongTitle_Dimensions()
    {
        // "t=0.25" at scale 2 is 70 px > 56 px cell, so it is drawn at scale 1 (8 px high) -> gridY = 4 + 8 + 4.
        // All column labels share the reduced scale, even "t=1" which would fit at scale 2.
        GridLayout layout = DigitGrid.ComputeLayout(1, 2, new GridLabels { ColumnLabels = ["t=0.25", "t=1"] });
        Assert.Equal((4, 16), (layout.GridX, layout.GridY));
        Assert.Equal((2, 1), (layout.TextScale, layout.ColumnTextScale));
        Assert.Equal((4 + 115 + 4, 16 + 58 + 4), (layout.Width, layout.Height));

        string title = new('x', 30); // 30*12-2 = 358 px at scale 2
        GridLayout wide = DigitGrid.ComputeLayout(1, 2, new GridLabels { Title = title });
        Assert.Equal(358 + 8, wide.Width);
    }

    /// <summary>Every pixel on every separator line is mid grey, and the outer frame too.</summary>
    [Fact]
    public void Render_SeparatorPixels_AreGrey()
    {
        var labels = new GridLabels { Title = "sep", RowLabels = ["a", "b", "c"], ColumnLabels = ["1", "2", "3", "4"] };
        var images = new float[3 * 4 * Cell * Cell];
        Array.Fill(images, 1f); // white cells make any bleed onto separators visible
        RgbImage img = DigitGrid.Render(images, 3, 4, labels);
        GridLayout g = DigitGrid.ComputeLayout(3, 4, labels);
        int pitch = g.CellWidth + 1;

        for (int k = 0; k <= g.Columns; k++)
        {
            for (int y = g.GridY; y < g.GridY + g.GridHeight; y++)
            {
                Assert.Equal(DigitGrid.SeparatorColor, img.GetPixel(g.GridX + (k * pitch), y));
            }
        }

        for (int k = 0; k <= g.Rows; k++)
        {
            for (int x = g.GridX; x < g.GridX + g.GridWidth; x++)
            {
                Assert.Equal(DigitGrid.SeparatorColor, img.GetPixel(x, g.GridY + (k * pitch)));
            }
        }

        Assert.Equal(new Rgb(128, 128, 128), DigitGrid.SeparatorColor);
        Assert.Equal(Rgb.White, img.GetPixel(g.GridX + 1, g.GridY + 1));
    }

    /// <summary>A single 1.0 pixel lands as a white scale x scale block at the expected place; its neighbours stay black.</summary>
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Render_DigitPixel_LandsAtExpectedLocation(int scale)
    {
        const int rows = 2, cols = 3, r = 1, c = 2, sx = 5, sy = 7;
        var images = new float[rows * cols * Cell * Cell];
        images[(((r * cols) + c) * Cell * Cell) + (sy * Cell) + sx] = 1f;
        var labels = new GridLabels { Title = "pos", RowLabels = ["input", "recon"] };

        RgbImage img = DigitGrid.Render(images, rows, cols, labels, scale: scale);
        GridLayout g = DigitGrid.ComputeLayout(rows, cols, labels, scale: scale);
        (int x0, int y0) = g.CellOrigin(r, c);
        Assert.Equal(g.GridX + 1 + (c * ((Cell * scale) + 1)), x0);
        Assert.Equal(g.GridY + 1 + (r * ((Cell * scale) + 1)), y0);

        for (int dy = -1; dy <= scale; dy++)
        {
            for (int dx = -1; dx <= scale; dx++)
            {
                bool inside = dx >= 0 && dx < scale && dy >= 0 && dy < scale;
                Rgb p = img.GetPixel(x0 + (sx * scale) + dx, y0 + (sy * scale) + dy);
                Assert.Equal(inside ? Rgb.White : Rgb.Black, p);
            }
        }

        // The matching pixel in the first cell is untouched.
        (int fx, int fy) = g.CellOrigin(0, 0);
        Assert.Equal(Rgb.Black, img.GetPixel(fx + (sx * scale), fy + (sy * scale)));
    }

    /// <summary>Out-of-range values clamp; NaN is red; mid values round to grey.</summary>
    [Fact]
    public void Render_ClampsAndMarksNaN()
    {
        float[] image = new float[Cell * Cell];
        image[0] = 2f;
        image[1] = -1f;
        image[2] = float.NaN;
        image[3] = 0.5f;
        image[4] = float.PositiveInfinity;
        RgbImage img = DigitGrid.Render(image, 1, 1, scale: 1);

        Assert.Equal(Rgb.White, img.GetPixel(1, 1));
        Assert.Equal(Rgb.Black, img.GetPixel(2, 1));
        Assert.Equal(Rgb.Red, img.GetPixel(3, 1));
        Assert.Equal(Rgb.FromGray(128), img.GetPixel(4, 1));
        Assert.Equal(Rgb.White, img.GetPixel(5, 1));
    }

    /// <summary>Labels put text-coloured pixels left of the grid and above it, and nowhere inside the grid.</summary>
    [Fact]
    public void Render_Labels_DrawTextOutsideGrid()
    {
        var labels = new GridLabels { Title = "Epoch 3", RowLabels = ["input", "recon"], ColumnLabels = ["t=0", "t=1"] };
        RgbImage img = DigitGrid.Render(new float[2 * 2 * Cell * Cell], 2, 2, labels);
        GridLayout g = DigitGrid.ComputeLayout(2, 2, labels);

        int left = 0, above = 0;
        for (int y = 0; y < img.Height; y++)
        {
            for (int x = 0; x < img.Width; x++)
            {
                if (img.GetPixel(x, y) != DigitGrid.TextColor)
                {
                    continue;
                }

                Assert.False(
                    x >= g.GridX && x < g.GridX + g.GridWidth && y >= g.GridY && y < g.GridY + g.GridHeight,
                    $"text pixel inside grid at ({x}, {y})");
                if (x < g.GridX && y >= g.GridY)
                {
                    left++;
                }

                if (y < g.GridY)
                {
                    above++;
                }
            }
        }

        Assert.True(left > 0, "no row label ink");
        Assert.True(above > 0, "no title/column label ink");
    }

    /// <summary>Fewer images than cells leaves trailing cells empty; bad sizes throw.</summary>
    [Fact]
    public void Render_PartialAndInvalidInput()
    {
        RgbImage img = DigitGrid.Render(new float[3 * Cell * Cell], 2, 2, scale: 1);
        GridLayout g = DigitGrid.ComputeLayout(2, 2, scale: 1);
        (int dataX, int dataY) = g.CellOrigin(1, 0);  // image index 2
        (int emptyX, int emptyY) = g.CellOrigin(1, 1); // no image 3
        Assert.Equal(Rgb.Black, img.GetPixel(dataX + 3, dataY + 3));
        Assert.Equal(DigitGrid.EmptyCellColor, img.GetPixel(emptyX + 3, emptyY + 3));

        Assert.Throws<ArgumentException>(() => DigitGrid.Render(new float[5 * Cell * Cell], 2, 2));
        Assert.Throws<ArgumentException>(() => DigitGrid.Render(new float[Cell * Cell + 1], 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => DigitGrid.Render(new float[Cell * Cell], 0, 2));
    }
}
