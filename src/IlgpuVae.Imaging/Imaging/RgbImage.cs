namespace IlgpuVae.Imaging;

/// <summary>
/// A mutable 8-bit RGB raster: <see cref="Width"/> x <see cref="Height"/> pixels stored row-major,
/// three bytes (R, G, B) per pixel, top row first. Drawing operations clip to the image bounds.
/// </summary>
internal sealed class RgbImage
{
    /// <summary>Creates an image filled with <paramref name="background"/> (black when omitted).</summary>
    /// <param name="width">Width in pixels, at least 1.</param>
    /// <param name="height">Height in pixels, at least 1.</param>
    /// <param name="background">Initial colour of every pixel.</param>
    public RgbImage(int width, int height, Rgb background = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if ((long)width * height * 3 > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(width), "Image too large.");
        }

        Width = width;
        Height = height;
        Pixels = new byte[width * height * 3];
        if (background != default)
        {
            Clear(background);
        }
    }

    /// <summary>Wraps an existing RGB pixel buffer (not copied).</summary>
    /// <param name="width">Width in pixels, at least 1.</param>
    /// <param name="height">Height in pixels, at least 1.</param>
    /// <param name="pixels">Row-major RGB bytes; length must be exactly width * height * 3.</param>
    public RgbImage(int width, int height, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.LongLength != (long)width * height * 3)
        {
            throw new ArgumentException(
                $"Expected {(long)width * height * 3} bytes for a {width}x{height} RGB image, got {pixels.LongLength}.",
                nameof(pixels));
        }

        Width = width;
        Height = height;
        Pixels = pixels;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Row-major RGB bytes, <c>Width * Height * 3</c> long; pixel (x, y) starts at <c>(y * Width + x) * 3</c>.</summary>
    public byte[] Pixels { get; }

    /// <summary>Whether (<paramref name="x"/>, <paramref name="y"/>) lies inside the image.</summary>
    /// <param name="x">Column.</param>
    /// <param name="y">Row.</param>
    /// <returns><see langword="true"/> if inside.</returns>
    public bool Contains(int x, int y) => (uint)x < (uint)Width && (uint)y < (uint)Height;

    /// <summary>Reads one pixel.</summary>
    /// <param name="x">Column, 0..Width-1.</param>
    /// <param name="y">Row, 0..Height-1.</param>
    /// <returns>The pixel colour.</returns>
    public Rgb GetPixel(int x, int y)
    {
        int i = Index(x, y);
        return new Rgb(Pixels[i], Pixels[i + 1], Pixels[i + 2]);
    }

    /// <summary>Writes one pixel; throws if outside the image (use <see cref="FillRect"/> for clipped drawing).</summary>
    /// <param name="x">Column, 0..Width-1.</param>
    /// <param name="y">Row, 0..Height-1.</param>
    /// <param name="color">New colour.</param>
    public void SetPixel(int x, int y, Rgb color)
    {
        int i = Index(x, y);
        Pixels[i] = color.R;
        Pixels[i + 1] = color.G;
        Pixels[i + 2] = color.B;
    }

    /// <summary>Sets every pixel to <paramref name="color"/>.</summary>
    /// <param name="color">Fill colour.</param>
    public void Clear(Rgb color) => FillRect(0, 0, Width, Height, color);

    /// <summary>Fills an axis-aligned rectangle, clipped to the image.</summary>
    /// <param name="x">Left column (may be negative or beyond the image).</param>
    /// <param name="y">Top row (may be negative or beyond the image).</param>
    /// <param name="width">Width in pixels; nothing is drawn when not positive.</param>
    /// <param name="height">Height in pixels; nothing is drawn when not positive.</param>
    /// <param name="color">Fill colour.</param>
    public void FillRect(int x, int y, int width, int height, Rgb color)
    {
        long x0 = Math.Max(0L, x);
        long y0 = Math.Max(0L, y);
        long x1 = Math.Min((long)Width, (long)x + width);
        long y1 = Math.Min((long)Height, (long)y + height);
        if (x0 >= x1 || y0 >= y1)
        {
            return;
        }

        int rowStart = (int)x0 * 3;
        int rowBytes = (int)(x1 - x0) * 3;
        Span<byte> first = Pixels.AsSpan(((int)y0 * Width * 3) + rowStart, rowBytes);
        for (int i = 0; i < rowBytes; i += 3)
        {
            first[i] = color.R;
            first[i + 1] = color.G;
            first[i + 2] = color.B;
        }

        for (long row = y0 + 1; row < y1; row++)
        {
            first.CopyTo(Pixels.AsSpan(((int)row * Width * 3) + rowStart, rowBytes));
        }
    }

    /// <summary>
    /// Draws <paramref name="text"/> with the embedded 5x8 <see cref="BitmapFont"/>, each font pixel as a
    /// <paramref name="scale"/> x <paramref name="scale"/> block. Only inked pixels are written (transparent
    /// background). Clipped to the image. '\n' starts a new line at <paramref name="x"/>.
    /// </summary>
    /// <param name="x">Left edge of the first character.</param>
    /// <param name="y">Top edge of the first line.</param>
    /// <param name="text">Text to draw; characters outside ASCII 32-126 draw as '?'.</param>
    /// <param name="color">Ink colour.</param>
    /// <param name="scale">Integer magnification, at least 1.</param>
    public void DrawText(int x, int y, string text, Rgb color, int scale = 1)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        int penX = x;
        int penY = y;
        foreach (char c in text)
        {
            if (c == '\n')
            {
                penX = x;
                penY += BitmapFont.LinePitch * scale;
                continue;
            }

            if (c == '\r')
            {
                continue;
            }

            for (int col = 0; col < BitmapFont.GlyphWidth; col++)
            {
                for (int row = 0; row < BitmapFont.GlyphHeight; row++)
                {
                    if (BitmapFont.IsSet(c, col, row))
                    {
                        FillRect(penX + (col * scale), penY + (row * scale), scale, scale, color);
                    }
                }
            }

            penX += BitmapFont.Advance * scale;
        }
    }

    /// <summary>Width in pixels that <see cref="DrawText"/> covers for <paramref name="text"/>; see <see cref="BitmapFont.MeasureWidth"/>.</summary>
    /// <param name="text">Text.</param>
    /// <param name="scale">Integer magnification, at least 1.</param>
    /// <returns>The width in pixels.</returns>
    public static int MeasureText(string text, int scale = 1) => BitmapFont.MeasureWidth(text, scale);

    /// <summary>Returns a deep copy of this image.</summary>
    /// <returns>A new image with copied pixels.</returns>
    public RgbImage Clone() => new(Width, Height, (byte[])Pixels.Clone());

    private int Index(int x, int y)
    {
        if (!Contains(x, y))
        {
            throw new ArgumentOutOfRangeException(
                nameof(x), $"Pixel ({x}, {y}) is outside the {Width}x{Height} image.");
        }

        return ((y * Width) + x) * 3;
    }
}
