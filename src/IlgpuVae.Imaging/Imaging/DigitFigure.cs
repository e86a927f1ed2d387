namespace IlgpuVae.Imaging;

/// <summary>
/// A labelled grid of images, composed but not drawn: the cells' pixels in row-major order, the grid's size, its
/// title and labels, and which cells hold no image. <see cref="DigitFigures"/> composes the explore commands'
/// figures; <c>IlgpuVae.Imaging.DigitFigureImage</c> draws one. Composition is pixel-free, so it lives in the core and an
/// app can lay out a figure without the drawing package.
/// </summary>
/// <param name="Cells">Rows x Columns images of <paramref name="ImageHeight"/> x <paramref name="ImageWidth"/> pixels in [0, 1],
/// cell by cell, row by row, each image row-major.</param>
/// <param name="Rows">Grid rows.</param>
/// <param name="Columns">Grid columns.</param>
/// <param name="ImageHeight">Rows of pixels in one image (H).</param>
/// <param name="ImageWidth">Columns of pixels in one image (W).</param>
/// <param name="Title">The title; lines separated by '\n'.</param>
/// <param name="RowLabels">One label per row, or null for none.</param>
/// <param name="ColumnLabels">One label per column, or null for none.</param>
/// <param name="EmptyCells">Cells (row * Columns + column) without an image, drawn as empty rather than black.</param>
public sealed record DigitFigure(float[] Cells, int Rows, int Columns, int ImageHeight, int ImageWidth, string? Title,
    IReadOnlyList<string?>? RowLabels, IReadOnlyList<string?>? ColumnLabels, IReadOnlyList<int> EmptyCells)
{
    /// <summary>The images' colour channels C: 1 (grey), or 3 (each cell C x H x W, red plane first).</summary>
    public int ImageChannels { get; init; } = 1;
}
