using System.Globalization;

namespace IlgpuVae.Imaging;

/// <summary>
/// Dependency-free scatter plot drawn on an <see cref="RgbImage"/> with the embedded bitmap font: frame, grid,
/// "nice" ticks with labels, points alpha-blended over the background, a legend, title and axis labels (the
/// y label rotated). The renderer behind <see cref="LatentScatter"/>.
/// </summary>
internal static class BitmapScatter
{
    private const double Alpha = 0.75;
    private static readonly Rgb Background = Rgb.White;
    private static readonly Rgb Ink = new(30, 30, 30);
    private static readonly Rgb GridColour = new(225, 225, 225);

    public static RgbImage Render(
        float[] points2d, SortedDictionary<int, List<int>> byLabel, int slices, string title, string xLabel, string yLabel, int width, int height)
    {
        var image = new RgbImage(width, height, Background);
        int scale = Math.Min(width, height) >= 500 ? 2 : 1;
        int lineHeight = BitmapFont.GlyphHeight * scale;
        int pad = 6 * scale;

        (double xMin, double xMax) = Range(points2d, 0);
        (double yMin, double yMax) = Range(points2d, 1);
        double[] xTicks = Ticks(xMin, xMax);
        double[] yTicks = Ticks(yMin, yMax);
        string[] yTickText = Format(yTicks);
        string[] xTickText = Format(xTicks);

        int legendText = byLabel.Keys.Select(k => RgbImage.MeasureText(Label(k), scale)).DefaultIfEmpty(0).Max();
        int marker = 5 * scale;
        int legendWidth = (2 * pad) + (2 * marker) + pad + legendText;

        int top = pad + (title.Length > 0 ? lineHeight + pad : 0);
        int yTickWidth = yTickText.Select(t => RgbImage.MeasureText(t, scale)).DefaultIfEmpty(0).Max();
        int left = pad + (yLabel.Length > 0 ? lineHeight + pad : 0) + yTickWidth + (2 * scale) + (4 * scale);
        int bottom = height - pad - (xLabel.Length > 0 ? lineHeight + pad : 0) - lineHeight - (2 * scale) - (4 * scale);
        int right = width - pad - legendWidth - pad;
        if (right - left < 20 || bottom - top < 20)
        {
            throw new ArgumentException($"A {width}x{height} image is too small for this plot.");
        }

        int X(double v) => left + (int)Math.Round((v - xMin) / (xMax - xMin) * (right - left));
        int Y(double v) => bottom - (int)Math.Round((v - yMin) / (yMax - yMin) * (bottom - top));

        // Grid and ticks.
        for (int t = 0; t < xTicks.Length; t++)
        {
            int x = X(xTicks[t]);
            image.FillRect(x, top, 1, bottom - top, GridColour);
            image.FillRect(x, bottom, 1, 4 * scale, Ink);
            int w = RgbImage.MeasureText(xTickText[t], scale);
            image.DrawText(x - (w / 2), bottom + (6 * scale), xTickText[t], Ink, scale);
        }

        for (int t = 0; t < yTicks.Length; t++)
        {
            int y = Y(yTicks[t]);
            image.FillRect(left, y, right - left, 1, GridColour);
            image.FillRect(left - (4 * scale), y, 4 * scale, 1, Ink);
            int w = RgbImage.MeasureText(yTickText[t], scale);
            image.DrawText(left - (6 * scale) - w, y - (BitmapFont.CapHeight * scale / 2), yTickText[t], Ink, scale);
        }

        // Points, in interleaved slices so no class systematically covers another; clipped to the frame.
        int radius = Math.Max(1, (points2d.Length / 2) > 20000 ? scale / 2 : (points2d.Length / 2) > 3000 ? scale : 2 * scale);
        for (int slice = 0; slice < slices; slice++)
        {
            foreach ((int label, List<int> members) in byLabel)
            {
                Rgb colour = ColourOf(label);
                int from = members.Count * slice / slices;
                int to = members.Count * (slice + 1) / slices;
                for (int j = from; j < to; j++)
                {
                    int i = members[j];
                    Disc(image, X(points2d[2 * i]), Y(points2d[(2 * i) + 1]), radius, colour, Alpha, left, top, right, bottom);
                }
            }
        }

        // Frame.
        image.FillRect(left, top, right - left + 1, 1, Ink);
        image.FillRect(left, bottom, right - left + 1, 1, Ink);
        image.FillRect(left, top, 1, bottom - top + 1, Ink);
        image.FillRect(right, top, 1, bottom - top + 1, Ink);

        // Title, axis labels.
        if (title.Length > 0)
        {
            int w = RgbImage.MeasureText(title, scale);
            image.DrawText(((left + right) / 2) - (w / 2), pad, title, Ink, scale);
        }

        if (xLabel.Length > 0)
        {
            int w = RgbImage.MeasureText(xLabel, scale);
            image.DrawText(((left + right) / 2) - (w / 2), height - pad - lineHeight, xLabel, Ink, scale);
        }

        if (yLabel.Length > 0)
        {
            DrawVerticalText(image, pad, (top + bottom) / 2, yLabel, Ink, scale);
        }

        // Legend box.
        int rowHeight = Math.Max(lineHeight, 2 * marker) + (3 * scale);
        int boxHeight = (byLabel.Count * rowHeight) + (2 * pad) - (3 * scale);
        int boxLeft = right + pad;
        int boxTop = ((top + bottom) / 2) - (boxHeight / 2);
        image.FillRect(boxLeft, boxTop, legendWidth, boxHeight, Ink);
        image.FillRect(boxLeft + 1, boxTop + 1, legendWidth - 2, boxHeight - 2, Background);
        int row = 0;
        foreach (int label in byLabel.Keys)
        {
            int cy = boxTop + pad + (row * rowHeight) + (rowHeight / 2) - (scale * 3 / 2);
            Disc(image, boxLeft + pad + marker, cy, marker, ColourOf(label), 1.0, 0, 0, width - 1, height - 1);
            image.DrawText(boxLeft + pad + (2 * marker) + pad, cy - (BitmapFont.CapHeight * scale / 2), Label(label), Ink, scale);
            row++;
        }

        return image;
    }

    /// <summary>The category10 colour for <paramref name="label"/> mod 10 (matplotlib's "tab10").</summary>
    public static Rgb ColourOf(int label) => Palette[((label % 10) + 10) % 10];

    private static readonly Rgb[] Palette =
    [
        new(0x1f, 0x77, 0xb4), new(0xff, 0x7f, 0x0e), new(0x2c, 0xa0, 0x2c), new(0xd6, 0x27, 0x28), new(0x94, 0x67, 0xbd),
        new(0x8c, 0x56, 0x4b), new(0xe3, 0x77, 0xc2), new(0x7f, 0x7f, 0x7f), new(0xbc, 0xbd, 0x22), new(0x17, 0xbe, 0xcf),
    ];

    private static string Label(int label) => label.ToString(CultureInfo.InvariantCulture);

    /// <summary>Data range of one coordinate, padded by 5% (or +-1 when constant).</summary>
    private static (double Min, double Max) Range(float[] points2d, int axis)
    {
        double min = double.PositiveInfinity;
        double max = double.NegativeInfinity;
        for (int i = axis; i < points2d.Length; i += 2)
        {
            min = Math.Min(min, points2d[i]);
            max = Math.Max(max, points2d[i]);
        }

        if (double.IsInfinity(min))
        {
            return (-1, 1);
        }

        double span = max - min;
        if (span <= 0)
        {
            return (min - 1, max + 1);
        }

        return (min - (0.05 * span), max + (0.05 * span));
    }

    /// <summary>Tick positions at a 1/2/5 x 10^k step giving about six ticks inside [min, max].</summary>
    private static double[] Ticks(double min, double max)
    {
        double raw = (max - min) / 6;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = magnitude * (raw / magnitude < 1.5 ? 1 : raw / magnitude < 3.5 ? 2 : raw / magnitude < 7.5 ? 5 : 10);
        var ticks = new List<double>();
        for (double k = Math.Ceiling(min / step); k * step <= max + (step * 1e-9); k++)
        {
            double v = k * step;
            ticks.Add(Math.Abs(v) < step * 1e-9 ? 0 : v);
        }

        return [.. ticks];
    }

    private static string[] Format(double[] ticks)
    {
        double step = ticks.Length > 1 ? ticks[1] - ticks[0] : 1;
        int decimals = Math.Clamp(-(int)Math.Floor(Math.Log10(step) + 1e-9), 0, 10);
        return [.. ticks.Select(t => t.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture))];
    }

    /// <summary>Filled disc blended over the image with opacity <paramref name="alpha"/>, clipped to a rectangle.</summary>
    private static void Disc(RgbImage image, int cx, int cy, int r, Rgb colour, double alpha, int x0, int y0, int x1, int y1)
    {
        for (int dy = -r; dy <= r; dy++)
        {
            for (int dx = -r; dx <= r; dx++)
            {
                int x = cx + dx;
                int y = cy + dy;
                if ((dx * dx) + (dy * dy) > (r * r) + r || x <= x0 || x >= x1 || y <= y0 || y >= y1 || !image.Contains(x, y))
                {
                    continue;
                }

                Rgb under = image.GetPixel(x, y);
                image.SetPixel(x, y, new Rgb(Blend(under.R, colour.R, alpha), Blend(under.G, colour.G, alpha), Blend(under.B, colour.B, alpha)));
            }
        }
    }

    private static byte Blend(byte under, byte over, double alpha) => (byte)Math.Round((under * (1 - alpha)) + (over * alpha));

    /// <summary>Draws text rotated 90 degrees counter-clockwise (reading bottom to top), centred vertically on <paramref name="centreY"/>.</summary>
    private static void DrawVerticalText(RgbImage image, int left, int centreY, string text, Rgb colour, int scale)
    {
        int w = RgbImage.MeasureText(text, scale);
        int h = BitmapFont.GlyphHeight * scale;
        var temp = new RgbImage(Math.Max(1, w), h, Background);
        temp.DrawText(0, 0, text, colour, scale);
        int top = centreY - (w / 2);
        for (int ty = 0; ty < h; ty++)
        {
            for (int tx = 0; tx < w; tx++)
            {
                if (temp.GetPixel(tx, ty) != Background)
                {
                    // (tx, ty) -> (ty, w - 1 - tx): the text's left end ends up at the bottom.
                    int x = left + ty;
                    int y = top + (w - 1 - tx);
                    if (image.Contains(x, y))
                    {
                        image.SetPixel(x, y, colour);
                    }
                }
            }
        }
    }
}
