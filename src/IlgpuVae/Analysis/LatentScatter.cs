using IlgpuVae.Imaging;
using SP = global::ScottPlot;

namespace IlgpuVae.Analysis;

/// <summary>
/// Scatter plots of 2-D embeddings (latent codes, PCA or t-SNE projections) coloured by digit class, rendered
/// to PNG with ScottPlot, or with a built-in bitmap renderer where the machine has no fonts. Colours are the
/// 10-colour "category10" palette indexed by label mod 10, so a digit keeps its colour across plots; the
/// legend lists the labels present, in ascending order.
/// </summary>
public static class LatentScatter
{
    /// <summary>Default image width in pixels.</summary>
    public const int DefaultWidth = 900;

    /// <summary>Default image height in pixels.</summary>
    public const int DefaultHeight = 800;

    // Each class is drawn in this many interleaved slices so no class systematically covers the others.
    private const int Interleave = 8;

    private static readonly Lazy<bool> FontsAvailable = new(() => !string.IsNullOrEmpty(SP.Fonts.Default));

    /// <summary>
    /// Whether SkiaSharp found at least one font (it scans the system font directories, e.g. /usr/share/fonts, without
    /// needing fontconfig). Slim containers often have none; ScottPlot would then draw no text at all.
    /// </summary>
    public static bool SystemFontsAvailable => FontsAvailable.Value;

    /// <summary>Renders the scatter plot and writes it as a PNG (via a temporary file, so readers never see a partial file).</summary>
    /// <param name="path">Destination file; its directory is created if missing.</param>
    /// <param name="points2d">Row-major n x 2 coordinates (x, y), finite.</param>
    /// <param name="labels">Label of each point (digits 0-9 for MNIST).</param>
    /// <param name="title">Plot title.</param>
    /// <param name="xLabel">Horizontal axis label.</param>
    /// <param name="yLabel">Vertical axis label.</param>
    /// <param name="width">Image width in pixels, at least 100.</param>
    /// <param name="height">Image height in pixels, at least 100.</param>
    /// <param name="backend">Renderer; <see cref="ScatterBackend.Auto"/> falls back to the bitmap renderer when no fonts exist.</param>
    public static void Render(
        string path,
        float[] points2d,
        int[] labels,
        string title,
        string xLabel,
        string yLabel,
        int width = DefaultWidth,
        int height = DefaultHeight,
        ScatterBackend backend = ScatterBackend.Auto)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] png = Encode(points2d, labels, title, xLabel, yLabel, width, height, backend);
        Data.AtomicFile.WriteAllBytes(path, png);
    }

    /// <summary>Renders the scatter plot to PNG bytes in memory (see <see cref="Render"/>).</summary>
    /// <param name="points2d">Row-major n x 2 coordinates (x, y), finite.</param>
    /// <param name="labels">Label of each point.</param>
    /// <param name="title">Plot title.</param>
    /// <param name="xLabel">Horizontal axis label.</param>
    /// <param name="yLabel">Vertical axis label.</param>
    /// <param name="width">Image width in pixels, at least 100.</param>
    /// <param name="height">Image height in pixels, at least 100.</param>
    /// <param name="backend">Renderer; <see cref="ScatterBackend.Auto"/> falls back to the bitmap renderer when no fonts exist.</param>
    /// <returns>The PNG file bytes.</returns>
    public static byte[] Encode(
        float[] points2d,
        int[] labels,
        string title,
        string xLabel,
        string yLabel,
        int width = DefaultWidth,
        int height = DefaultHeight,
        ScatterBackend backend = ScatterBackend.Auto)
    {
        int n = AnalysisInput.Rows(points2d, 2, nameof(points2d));
        AnalysisInput.Labels(labels, n, nameof(labels));
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

        if (backend == ScatterBackend.Bitmap || (backend == ScatterBackend.Auto && !SystemFontsAvailable))
        {
            return Png.Encode(BitmapScatter.Render(points2d, byLabel, Interleave, title, xLabel, yLabel, width, height));
        }

        var plot = new SP.Plot();
        var palette = new SP.Palettes.Category10();
        float markerSize = n > 20000 ? 2f : n > 3000 ? 3f : 5f;
        for (int slice = 0; slice < Interleave; slice++)
        {
            foreach ((int label, List<int> members) in byLabel)
            {
                int from = members.Count * slice / Interleave;
                int to = members.Count * (slice + 1) / Interleave;
                if (to <= from)
                {
                    continue;
                }

                var xs = new double[to - from];
                var ys = new double[to - from];
                for (int j = from; j < to; j++)
                {
                    xs[j - from] = points2d[2 * members[j]];
                    ys[j - from] = points2d[(2 * members[j]) + 1];
                }

                SP.Plottables.Scatter scatter = plot.Add.ScatterPoints(xs, ys, ColorOf(palette, label).WithAlpha(0.75));
                scatter.MarkerShape = SP.MarkerShape.FilledCircle;
                scatter.MarkerSize = markerSize;
                scatter.LegendText = string.Empty;
            }
        }

        foreach (int label in byLabel.Keys)
        {
            plot.Legend.ManualItems.Add(new SP.LegendItem
            {
                LabelText = label.ToString(System.Globalization.CultureInfo.InvariantCulture),
                MarkerShape = SP.MarkerShape.FilledCircle,
                MarkerSize = 10,
                MarkerFillColor = ColorOf(palette, label),
                MarkerLineColor = ColorOf(palette, label),
            });
        }

        plot.ShowLegend(SP.Edge.Right);
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        return plot.GetImageBytes(width, height, SP.ImageFormat.Png);
    }

    private static SP.Color ColorOf(SP.IPalette palette, int label) => palette.GetColor(((label % 10) + 10) % 10);
}
