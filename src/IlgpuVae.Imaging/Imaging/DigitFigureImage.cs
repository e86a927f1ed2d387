using IlgpuVae.Figures;

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

    /// <summary>Renders the figure and writes it as a PNG file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="figure">The composed figure.</param>
    /// <param name="scale">Screen pixels per image pixel.</param>
    public static void Save(string path, DigitFigure figure, int scale = 2) => Png.Write(path, Render(figure, scale));

    private static GridLabels Labels(DigitFigure figure) => new()
    {
        Title = figure.Title,
        RowLabels = figure.RowLabels,
        ColumnLabels = figure.ColumnLabels,
    };
}
