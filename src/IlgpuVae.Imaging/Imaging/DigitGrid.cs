using IlgpuVae.Data;

namespace IlgpuVae.Imaging;

/// <summary>Optional text around a <see cref="DigitGrid"/>.</summary>
public sealed class GridLabels
{
    /// <summary>A line (or several, separated by '\n') drawn above everything else; <see langword="null"/> for none.</summary>
    public string? Title { get; init; }

    /// <summary>
    /// Labels drawn to the left of each grid row (index = row), e.g. "input", "recon", "digit 3".
    /// Entries beyond the row count are ignored; missing or <see langword="null"/> entries leave the row unlabelled.
    /// </summary>
    public IReadOnlyList<string?>? RowLabels { get; init; }

    /// <summary>
    /// Labels drawn above each grid column (index = column), e.g. "t=0.25", centred on the cell. All column labels
    /// share one text scale, reduced from <see cref="TextScale"/> (down to 1) until every label fits its cell; a label
    /// still too wide at scale 1 overlaps its neighbours.
    /// </summary>
    public IReadOnlyList<string?>? ColumnLabels { get; init; }

    /// <summary>Text magnification (each font pixel becomes TextScale x TextScale); 0 means "same as the digit scale".</summary>
    public int TextScale { get; init; }
}

/// <summary>
/// Pixel geometry of a rendered <see cref="DigitGrid"/>: where the grid and each cell lie.
/// The grid block starts at (<see cref="GridX"/>, <see cref="GridY"/>) with a 1-pixel separator line,
/// then alternates cells of <see cref="CellWidth"/> x <see cref="CellHeight"/> pixels and 1-pixel separators, ending
/// with a separator, so cell (r, c) starts at <c>GridX + 1 + c * (CellWidth + 1)</c>, <c>GridY + 1 + r * (CellHeight + 1)</c>.
/// </summary>
/// <param name="Width">Total image width.</param>
/// <param name="Height">Total image height.</param>
/// <param name="GridX">Left edge of the grid block (its outer separator column).</param>
/// <param name="GridY">Top edge of the grid block (its outer separator row).</param>
/// <param name="Rows">Number of cell rows.</param>
/// <param name="Columns">Number of cell columns.</param>
/// <param name="CellWidth">Width of one scaled cell in pixels (image width x scale).</param>
/// <param name="CellHeight">Height of one scaled cell in pixels (image height x scale).</param>
/// <param name="TextScale">Text magnification used for the title and row labels.</param>
/// <param name="ColumnTextScale">Text magnification used for column labels (reduced from <paramref name="TextScale"/> until all fit their cells, minimum 1).</param>
internal readonly record struct GridLayout(
    int Width, int Height, int GridX, int GridY, int Rows, int Columns, int CellWidth, int CellHeight, int TextScale, int ColumnTextScale)
{
    /// <summary>Width of the grid block including all separators.</summary>
    public int GridWidth => (Columns * (CellWidth + 1)) + 1;

    /// <summary>Height of the grid block including all separators.</summary>
    public int GridHeight => (Rows * (CellHeight + 1)) + 1;

    /// <summary>Top-left pixel of cell (<paramref name="row"/>, <paramref name="column"/>).</summary>
    /// <param name="row">Cell row, 0-based.</param>
    /// <param name="column">Cell column, 0-based.</param>
    /// <returns>Image coordinates of the cell's first pixel.</returns>
    public (int X, int Y) CellOrigin(int row, int column) =>
        (GridX + 1 + (column * (CellWidth + 1)), GridY + 1 + (row * (CellHeight + 1)));
}

/// <summary>
/// Renders a batch of greyscale digit images (e.g. MNIST inputs, reconstructions, samples) into one labelled
/// RGB grid: white-on-black digits, 1-pixel mid-grey separators around and between cells, light text on a
/// dark background. Pixel values are clamped to [0, 1]; NaN pixels are drawn pure red so bugs are visible.
/// </summary>
public static class DigitGrid
{
    /// <summary>Colour of the separator lines between (and around) cells.</summary>
    internal static Rgb SeparatorColor => Rgb.Grey;

    /// <summary>Colour of the margins and label areas.</summary>
    internal static Rgb BackgroundColor => new(24, 24, 24);

    /// <summary>Colour of the title and label text.</summary>
    internal static Rgb TextColor => new(235, 235, 235);

    /// <summary>Colour used for NaN pixel values.</summary>
    internal static Rgb NaNColor => Rgb.Red;

    /// <summary>Colour of cells that have no image (when fewer images than rows x cols are given).</summary>
    internal static Rgb EmptyCellColor => new(48, 48, 48);

    /// <summary>Margin in pixels around the grid and between text blocks, used when any label is present.</summary>
    public const int Margin = 4;

    /// <summary>
    /// Renders <paramref name="images"/> into a grid image. Image i goes to row i / cols, column i % cols.
    /// </summary>
    /// <param name="images">
    /// Row-major images of <paramref name="cellSize"/> rows of <paramref name="cellWidth"/> floats each, concatenated;
    /// the length must be a multiple of the pixels per image and hold at most rows x cols images (fewer leaves
    /// trailing cells empty).
    /// </param>
    /// <param name="rows">Number of grid rows, at least 1.</param>
    /// <param name="cols">Number of grid columns, at least 1.</param>
    /// <param name="labels">Optional title, row labels and column labels.</param>
    /// <param name="cellSize">Height of each source image in pixels (28 for MNIST), and its width unless <paramref name="cellWidth"/> is given.</param>
    /// <param name="scale">Nearest-neighbour magnification of each image, at least 1.</param>
    /// <param name="cellWidth">Width of each source image in pixels; 0 for square images of <paramref name="cellSize"/>.</param>
    /// <param name="channels">1 for grey images, 3 for colour ones laid out C x H x W (red plane, green, blue).</param>
    /// <returns>The rendered image.</returns>
    internal static RgbImage Render(
        ReadOnlySpan<float> images, int rows, int cols, GridLabels? labels = null, int cellSize = 28, int scale = 2, int cellWidth = 0,
        int channels = 1)
    {
        if (channels is not (1 or 3))
            throw new ArgumentOutOfRangeException(nameof(channels), $"images have 1 or 3 channels, not {channels}");
        GridLayout layout = ComputeLayout(rows, cols, labels, cellSize, scale, cellWidth);
        int height = cellSize, width = cellWidth > 0 ? cellWidth : cellSize;
        int plane = height * width, pixelsPerImage = channels * plane;
        if (images.Length % pixelsPerImage != 0)
        {
            throw new ArgumentException(
                $"Image data length {images.Length} is not a multiple of {(channels == 1 ? "" : $"{channels}x")}{height}x{width}.", nameof(images));
        }

        int count = images.Length / pixelsPerImage;
        if (count > rows * cols)
        {
            throw new ArgumentException(
                $"{count} images do not fit in a {rows}x{cols} grid.", nameof(images));
        }

        var img = new RgbImage(layout.Width, layout.Height, BackgroundColor);
        img.FillRect(layout.GridX, layout.GridY, layout.GridWidth, layout.GridHeight, SeparatorColor);

        byte[] px = img.Pixels;
        int stride = img.Width * 3;
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                int index = (r * cols) + c;
                (int x0, int y0) = layout.CellOrigin(r, c);
                if (index >= count)
                {
                    img.FillRect(x0, y0, layout.CellWidth, layout.CellHeight, EmptyCellColor);
                    continue;
                }

                ReadOnlySpan<float> src = images.Slice(index * pixelsPerImage, pixelsPerImage);
                for (int sy = 0; sy < height; sy++)
                {
                    int rowStart = ((y0 + (sy * scale)) * stride) + (x0 * 3);
                    int o = rowStart;
                    for (int sx = 0; sx < width; sx++)
                    {
                        int p = (sy * width) + sx;
                        Rgb color = channels == 1 ? ToColor(src[p]) : ToColor(src[p], src[plane + p], src[(2 * plane) + p]);
                        for (int k = 0; k < scale; k++)
                        {
                            px[o] = color.R;
                            px[o + 1] = color.G;
                            px[o + 2] = color.B;
                            o += 3;
                        }
                    }

                    // Replicate the finished scanline for the remaining (scale - 1) rows.
                    for (int k = 1; k < scale; k++)
                    {
                        Array.Copy(px, rowStart, px, rowStart + (k * stride), layout.CellWidth * 3);
                    }
                }
            }
        }

        DrawLabels(img, layout, labels);
        return img;
    }

    /// <summary>
    /// Renders a grid (see <see cref="Render"/>) and writes it atomically as a PNG file: the bytes of
    /// <see cref="Encode(ReadOnlySpan{float}, int, int, GridLabels?, int, int, int, int)"/> go to a temporary file in the same directory, then replace <paramref name="path"/>.
    /// </summary>
    /// <param name="path">Destination PNG path; the directory is created if missing.</param>
    /// <param name="images">Concatenated row-major images, as for <see cref="Render"/>.</param>
    /// <param name="rows">Number of grid rows, at least 1.</param>
    /// <param name="cols">Number of grid columns, at least 1.</param>
    /// <param name="labels">Optional title, row labels and column labels.</param>
    /// <param name="cellSize">Height of each source image in pixels (28 for MNIST), and its width unless <paramref name="cellWidth"/> is given.</param>
    /// <param name="scale">Nearest-neighbour magnification of each image, at least 1.</param>
    /// <param name="cellWidth">Width of each source image in pixels; 0 for square images of <paramref name="cellSize"/>.</param>
    /// <param name="channels">1 for grey images, 3 for colour ones laid out C x H x W.</param>
    public static void Save(
        string path, ReadOnlySpan<float> images, int rows, int cols, GridLabels? labels = null, int cellSize = 28, int scale = 2, int cellWidth = 0,
        int channels = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Png.WriteFile(path, Encode(images, rows, cols, labels, cellSize, scale, cellWidth, channels));
    }

    /// <summary>
    /// Renders a grid (see <see cref="Render"/>) and writes it as PNG to <paramref name="destination"/>, at its current
    /// position: the same bytes as <see cref="Encode(ReadOnlySpan{float}, int, int, GridLabels?, int, int, int, int)"/>. The stream is neither flushed nor closed.
    /// </summary>
    /// <param name="destination">A writable stream.</param>
    /// <param name="images">Concatenated row-major images, as for <see cref="Render"/>.</param>
    /// <param name="rows">Number of grid rows, at least 1.</param>
    /// <param name="cols">Number of grid columns, at least 1.</param>
    /// <param name="labels">Optional title, row labels and column labels.</param>
    /// <param name="cellSize">Height of each source image in pixels (28 for MNIST), and its width unless <paramref name="cellWidth"/> is given.</param>
    /// <param name="scale">Nearest-neighbour magnification of each image, at least 1.</param>
    /// <param name="cellWidth">Width of each source image in pixels; 0 for square images of <paramref name="cellSize"/>.</param>
    /// <param name="channels">1 for grey images, 3 for colour ones laid out C x H x W.</param>
    public static void Save(
        Stream destination, ReadOnlySpan<float> images, int rows, int cols, GridLabels? labels = null, int cellSize = 28, int scale = 2,
        int cellWidth = 0, int channels = 1)
    {
        ArgumentNullException.ThrowIfNull(destination);
        destination.Write(Encode(images, rows, cols, labels, cellSize, scale, cellWidth, channels));
    }

    /// <summary>
    /// Writes a grid of a batch of images (a model's samples or reconstructions) as a PNG file, atomically: as
    /// <see cref="Save(string, ReadOnlySpan{float}, int, int, GridLabels?, int, int, int, int)"/> with the cell size and
    /// channels taken from the batch.
    /// </summary>
    /// <param name="path">Destination PNG path; the directory is created if missing.</param>
    /// <param name="images">The images, drawn row after row of the grid.</param>
    /// <param name="rows">Number of grid rows, at least 1.</param>
    /// <param name="cols">Number of grid columns, at least 1.</param>
    /// <param name="labels">Optional title, row labels and column labels.</param>
    /// <param name="scale">Nearest-neighbour magnification of each image, at least 1.</param>
    public static void Save(string path, ImageBatch images, int rows, int cols, GridLabels? labels = null, int scale = 2)
    {
        ArgumentNullException.ThrowIfNull(images);
        Save(path, images.AsSpan(), rows, cols, labels, images.Height, scale, images.Width, images.Channels);
    }

    /// <summary>
    /// Writes a grid of a batch of images as PNG to <paramref name="destination"/>, at its current position: the same
    /// bytes as <see cref="Encode(ImageBatch, int, int, GridLabels?, int)"/>, the cell size and channels taken from the
    /// batch. The stream is neither flushed nor closed.
    /// </summary>
    /// <param name="destination">A writable stream.</param>
    /// <param name="images">The images, drawn row after row of the grid.</param>
    /// <param name="rows">Number of grid rows, at least 1.</param>
    /// <param name="cols">Number of grid columns, at least 1.</param>
    /// <param name="labels">Optional title, row labels and column labels.</param>
    /// <param name="scale">Nearest-neighbour magnification of each image, at least 1.</param>
    public static void Save(Stream destination, ImageBatch images, int rows, int cols, GridLabels? labels = null, int scale = 2)
    {
        ArgumentNullException.ThrowIfNull(destination);
        destination.Write(Encode(images, rows, cols, labels, scale));
    }

    /// <summary>Renders a grid of a batch of images and encodes it as an 8-bit RGB PNG in memory, the cell size and channels taken from the batch.</summary>
    /// <param name="images">The images, drawn row after row of the grid.</param>
    /// <param name="rows">Number of grid rows, at least 1.</param>
    /// <param name="cols">Number of grid columns, at least 1.</param>
    /// <param name="labels">Optional title, row labels and column labels.</param>
    /// <param name="scale">Nearest-neighbour magnification of each image, at least 1.</param>
    /// <returns>The complete PNG file bytes.</returns>
    public static byte[] Encode(ImageBatch images, int rows, int cols, GridLabels? labels = null, int scale = 2)
    {
        ArgumentNullException.ThrowIfNull(images);
        return Encode(images.AsSpan(), rows, cols, labels, images.Height, scale, images.Width, images.Channels);
    }

    /// <summary>Renders a grid (see <see cref="Render"/>) and encodes it as an 8-bit RGB PNG in memory.</summary>
    /// <param name="images">Concatenated row-major images, as for <see cref="Render"/>.</param>
    /// <param name="rows">Number of grid rows, at least 1.</param>
    /// <param name="cols">Number of grid columns, at least 1.</param>
    /// <param name="labels">Optional title, row labels and column labels.</param>
    /// <param name="cellSize">Height of each source image in pixels (28 for MNIST), and its width unless <paramref name="cellWidth"/> is given.</param>
    /// <param name="scale">Nearest-neighbour magnification of each image, at least 1.</param>
    /// <param name="cellWidth">Width of each source image in pixels; 0 for square images of <paramref name="cellSize"/>.</param>
    /// <param name="channels">1 for grey images, 3 for colour ones laid out C x H x W.</param>
    /// <returns>The complete PNG file bytes, as <see cref="Save(string, ReadOnlySpan{float}, int, int, GridLabels?, int, int, int, int)"/> writes them.</returns>
    public static byte[] Encode(
        ReadOnlySpan<float> images, int rows, int cols, GridLabels? labels = null, int cellSize = 28, int scale = 2, int cellWidth = 0,
        int channels = 1) =>
        Png.Encode(Render(images, rows, cols, labels, cellSize, scale, cellWidth, channels));

    /// <summary>Computes the geometry <see cref="Render"/> would use, without drawing anything.</summary>
    /// <param name="rows">Number of grid rows, at least 1.</param>
    /// <param name="cols">Number of grid columns, at least 1.</param>
    /// <param name="labels">Optional labels (they affect margins and image size).</param>
    /// <param name="cellSize">Height of each source image in pixels, and its width unless <paramref name="cellWidth"/> is given.</param>
    /// <param name="scale">Nearest-neighbour magnification, at least 1.</param>
    /// <param name="cellWidth">Width of each source image in pixels; 0 for square images.</param>
    /// <returns>The layout.</returns>
    internal static GridLayout ComputeLayout(int rows, int cols, GridLabels? labels = null, int cellSize = 28, int scale = 2, int cellWidth = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(cols, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(cellSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(cellWidth);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(labels?.TextScale ?? 0, nameof(labels));

        int cellPx = checked((cellWidth > 0 ? cellWidth : cellSize) * scale);
        int cellHeightPx = checked(cellSize * scale);
        int textScale = labels is { TextScale: > 0 } ? labels.TextScale : scale;
        int gridW = checked((cols * (cellPx + 1)) + 1);
        int gridH = checked((rows * (cellHeightPx + 1)) + 1);

        string? title = string.IsNullOrEmpty(labels?.Title) ? null : labels.Title;
        bool hasRowLabels = HasAny(labels?.RowLabels, rows);
        bool hasColLabels = HasAny(labels?.ColumnLabels, cols);
        int margin = title is not null || hasRowLabels || hasColLabels ? Margin : 0;

        int titleH = title is null ? 0 : BitmapFont.MeasureHeight(title, textScale) + margin;
        int titleW = title is null ? 0 : BitmapFont.MeasureWidth(title, textScale);
        int colTextScale = textScale;
        int colLabelH = 0;
        if (hasColLabels)
        {
            colTextScale = ColumnTextScale(labels!.ColumnLabels!, cols, cellPx, textScale);
            for (int c = 0; c < cols; c++)
            {
                string? s = LabelAt(labels.ColumnLabels, c);
                if (s is not null)
                {
                    colLabelH = Math.Max(colLabelH, BitmapFont.MeasureHeight(s, colTextScale) + margin);
                }
            }
        }

        int rowLabelW = 0;
        if (hasRowLabels)
        {
            for (int r = 0; r < rows; r++)
            {
                string? s = LabelAt(labels!.RowLabels, r);
                if (s is not null)
                {
                    rowLabelW = Math.Max(rowLabelW, BitmapFont.MeasureWidth(s, textScale) + margin);
                }
            }
        }

        int gridX = margin + rowLabelW;
        int gridY = margin + titleH + colLabelH;
        int width = Math.Max(gridX + gridW + margin, titleW + (2 * margin));
        int height = gridY + gridH + margin;
        return new GridLayout(width, height, gridX, gridY, rows, cols, cellPx, cellHeightPx, textScale, colTextScale);
    }

    /// <summary>Maps one pixel value to its display colour: clamp to [0, 1], scale to 0-255 grey; NaN is red.</summary>
    /// <param name="value">Pixel intensity, nominally in [0, 1].</param>
    /// <returns>The colour drawn for that value.</returns>
    internal static Rgb ToColor(float value)
    {
        if (float.IsNaN(value))
        {
            return NaNColor;
        }

        float v = Math.Clamp(value, 0f, 1f);
        return Rgb.FromGray((byte)MathF.Round(v * 255f));
    }

    /// <summary>One colour pixel from its red, green and blue values, each as <see cref="ToColor(float)"/> maps grey; any NaN is red.</summary>
    internal static Rgb ToColor(float red, float green, float blue)
    {
        if (float.IsNaN(red) || float.IsNaN(green) || float.IsNaN(blue))
        {
            return NaNColor;
        }

        return new Rgb(ToColor(red).R, ToColor(green).R, ToColor(blue).R);
    }

    private static void DrawLabels(RgbImage img, GridLayout layout, GridLabels? labels)
    {
        if (labels is null)
        {
            return;
        }

        int ts = layout.TextScale;
        if (!string.IsNullOrEmpty(labels.Title))
        {
            img.DrawText(Margin, Margin, labels.Title, TextColor, ts);
        }

        for (int r = 0; r < layout.Rows; r++)
        {
            string? s = LabelAt(labels.RowLabels, r);
            if (s is null)
            {
                continue;
            }

            (_, int y0) = layout.CellOrigin(r, 0);
            int x = layout.GridX - Margin - BitmapFont.MeasureWidth(s, ts);
            // Centre the ink above the baseline; the descender row may hang below centre.
            int inkHeight = BitmapFont.MeasureHeight(s, ts) - ((BitmapFont.GlyphHeight - BitmapFont.CapHeight) * ts);
            int y = y0 + ((layout.CellHeight - inkHeight) / 2);
            img.DrawText(x, y, s, TextColor, ts);
        }

        for (int c = 0; c < layout.Columns; c++)
        {
            string? s = LabelAt(labels.ColumnLabels, c);
            if (s is null)
            {
                continue;
            }

            (int x0, _) = layout.CellOrigin(0, c);
            int cts = layout.ColumnTextScale;
            int x = x0 + ((layout.CellWidth - BitmapFont.MeasureWidth(s, cts)) / 2);
            int y = layout.GridY - Margin - BitmapFont.MeasureHeight(s, cts);
            img.DrawText(x, y, s, TextColor, cts);
        }
    }

    /// <summary>Largest scale not above <paramref name="max"/> at which every column label fits its cell (at least 1).</summary>
    private static int ColumnTextScale(IReadOnlyList<string?> labels, int cols, int cellPx, int max)
    {
        int ts = max;
        for (int c = 0; c < cols; c++)
        {
            string? s = LabelAt(labels, c);
            while (s is not null && ts > 1 && BitmapFont.MeasureWidth(s, ts) > cellPx)
            {
                ts--;
            }
        }

        return ts;
    }

    private static string? LabelAt(IReadOnlyList<string?>? list, int i) =>
        list is not null && i < list.Count && !string.IsNullOrEmpty(list[i]) ? list[i] : null;

    private static bool HasAny(IReadOnlyList<string?>? list, int count)
    {
        if (list is null)
        {
            return false;
        }

        for (int i = 0; i < Math.Min(count, list.Count); i++)
        {
            if (!string.IsNullOrEmpty(list[i]))
            {
                return true;
            }
        }

        return false;
    }
}
