
namespace IlgpuVae.Imaging;

/// <summary>
/// Scatter plots of 2-D embeddings (latent codes, PCA or t-SNE projections) coloured by digit class, rendered
/// to PNG by <see cref="BitmapScatter"/> with the embedded bitmap font: title, framed axes with ticks and tick
/// labels, axis labels and a legend by digit. Needs no native library and no installed font, so the same input
/// gives the same bytes on every machine. Colours are the 10-colour "category10" palette indexed by label mod
/// 10, so a digit keeps its colour across plots; the legend lists the labels present, in ascending order.
/// </summary>
internal static class LatentScatter
{
    /// <summary>Default image width in pixels.</summary>
    public const int DefaultWidth = 900;

    /// <summary>Default image height in pixels.</summary>
    public const int DefaultHeight = 800;

    // Each class is drawn in this many interleaved slices so no class systematically covers the others.
    private const int Interleave = 8;

    /// <summary>Renders the scatter plot and writes it as a PNG (via a temporary file, so readers never see a partial file).</summary>
    /// <param name="path">Destination file; its directory is created if missing.</param>
    /// <param name="points2d">Row-major n x 2 coordinates (x, y), finite.</param>
    /// <param name="labels">Label of each point (digits 0-9 for MNIST).</param>
    /// <param name="title">Plot title.</param>
    /// <param name="xLabel">Horizontal axis label.</param>
    /// <param name="yLabel">Vertical axis label.</param>
    /// <param name="width">Image width in pixels, at least 100.</param>
    /// <param name="height">Image height in pixels, at least 100.</param>
    public static void Render(
        string path,
        float[] points2d,
        int[] labels,
        string title,
        string xLabel,
        string yLabel,
        int width = DefaultWidth,
        int height = DefaultHeight)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] png = Encode(points2d, labels, title, xLabel, yLabel, width, height);
        Png.WriteFile(path, png);
    }

    /// <summary>Renders the scatter plot to PNG bytes in memory (see <see cref="Render"/>).</summary>
    /// <param name="points2d">Row-major n x 2 coordinates (x, y), finite.</param>
    /// <param name="labels">Label of each point.</param>
    /// <param name="title">Plot title.</param>
    /// <param name="xLabel">Horizontal axis label.</param>
    /// <param name="yLabel">Vertical axis label.</param>
    /// <param name="width">Image width in pixels, at least 100.</param>
    /// <param name="height">Image height in pixels, at least 100.</param>
    /// <returns>The PNG file bytes.</returns>
    public static byte[] Encode(
        float[] points2d,
        int[] labels,
        string title,
        string xLabel,
        string yLabel,
        int width = DefaultWidth,
        int height = DefaultHeight)
    {
        int n = PlotPoints.Rows(points2d, 2, nameof(points2d));
        PlotPoints.Labels(labels, n, nameof(labels));
        ArgumentNullException.ThrowIfNull(title);
        ArgumentNullException.ThrowIfNull(xLabel);
        ArgumentNullException.ThrowIfNull(yLabel);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 100);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 100);

        var byLabel = new SortedDictionary<int, List<int>>();
        for (int i = 0; i < n; i++)
        {
            if (!byLabel.TryGetValue(labels[i], out List<int>? members))
            {
                members = [];
                byLabel.Add(labels[i], members);
            }

            members.Add(i);
        }

        return Png.Encode(BitmapScatter.Render(points2d, byLabel, Interleave, title, xLabel, yLabel, width, height));
    }
}
