
namespace IlgpuVae.Imaging;

/// <summary>Draws a composed <see cref="DigitFigure"/> as a labelled digit grid (empty cells drawn as such) and writes it as PNG.</summary>
public static class DigitFigureImage
{
    /// <summary>Renders the figure.</summary>
    /// <param name="figure">The composed figure.</param>
    /// <param name="scale">Screen pixels per image pixel.</param>
    /// <returns>The image.</returns>
    internal static RgbImage Render(DigitFigure figure, int scale = 2)
    {
        ArgumentNullException.ThrowIfNull(figure);
        var labels = Labels(figure);
        var image = DigitGrid.Render(figure.Cells, figure.Rows, figure.Columns, labels, figure.ImageHeight, scale, figure.ImageWidth,
            figure.ImageChannels);
        var layout = DigitGrid.ComputeLayout(figure.Rows, figure.Columns, labels, figure.ImageHeight, scale, figure.ImageWidth);
        foreach (int cell in figure.EmptyCells)
        {
            var (x, y) = layout.CellOrigin(cell / figure.Columns, cell % figure.Columns);
            image.FillRect(x, y, layout.CellWidth, layout.CellHeight, DigitGrid.EmptyCellColor);
        }
        return image;
    }

    /// <summary>
    /// Renders the figure and writes it atomically as a PNG file: the bytes of <see cref="Encode"/> go to a temporary
    /// file in the same directory, then replace <paramref name="path"/> (whose directory is created if missing).
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="figure">The composed figure.</param>
    /// <param name="scale">Screen pixels per image pixel.</param>
    public static void Save(string path, DigitFigure figure, int scale = 2)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Png.WriteFile(path, Encode(figure, scale));
    }

    /// <summary>
    /// Renders the figure and writes it as PNG to <paramref name="destination"/>, at its current position: the same
    /// bytes as <see cref="Encode"/>. The stream is neither flushed nor closed.
    /// </summary>
    /// <param name="destination">A writable stream.</param>
    /// <param name="figure">The composed figure.</param>
    /// <param name="scale">Screen pixels per image pixel.</param>
    public static void Save(Stream destination, DigitFigure figure, int scale = 2)
    {
        ArgumentNullException.ThrowIfNull(destination);
        destination.Write(Encode(figure, scale));
    }

    /// <summary>Renders the figure and encodes it as an 8-bit RGB PNG in memory.</summary>
    /// <param name="figure">The composed figure.</param>
    /// <param name="scale">Screen pixels per image pixel.</param>
    /// <returns>The complete PNG file bytes, as <see cref="Save(string, DigitFigure, int)"/> writes them.</returns>
    public static byte[] Encode(DigitFigure figure, int scale = 2) => Png.Encode(Render(figure, scale));

    private static GridLabels Labels(DigitFigure figure) => new()
    {
        Title = figure.Title,
        RowLabels = figure.RowLabels,
        ColumnLabels = figure.ColumnLabels,
    };
}
