using System.Globalization;
using IlgpuVae.Analysis;

namespace IlgpuVae.Imaging;

/// <summary>One written latent scatter plot.</summary>
/// <param name="Path">The PNG.</param>
/// <param name="Method">"latent" (the codes themselves, Z = 2), "pca" or "tsne".</param>
/// <param name="Title">The plot's title.</param>
/// <param name="Points">Points drawn.</param>
/// <param name="ExplainedVarianceRatio">For PCA: each of the two components' share of the variance; else null.</param>
public sealed record LatentPlot(string Path, string Method, string Title, int Points, double[]? ExplainedVarianceRatio);

/// <summary>
/// Scatter plots of latent means coloured by digit: the codes themselves for Z = 2; for Z &gt; 2 their projection
/// on the two leading principal directions and, optionally, a t-SNE embedding of a subset (t-SNE keeps
/// neighbourhoods that a linear projection folds onto each other, at O(n^2) cost).
/// </summary>
public static class LatentPlots
{
    /// <summary>The most points a t-SNE panel takes (exact t-SNE holds two n x n matrices).</summary>
    public const int MaxTsnePoints = Tsne.MaxPoints;

    /// <summary>Writes the plots for <paramref name="means"/>.</summary>
    /// <param name="path">The PNG for the direct or PCA plot; a t-SNE plot goes beside it with "-tsne" before the extension.</param>
    /// <param name="means">Row-major n x <paramref name="dims"/> latent means.</param>
    /// <param name="labels">Their digits.</param>
    /// <param name="dims">Z, at least 2.</param>
    /// <param name="subject">What the points are, for the titles, e.g. "vae 784-400-2: test-set latent means" (about 50
    /// characters at most: the plot clips longer titles).</param>
    /// <param name="tsnePoints">Points in the t-SNE plot (Z &gt; 2 only; 0 for none), a seeded random subset.</param>
    /// <param name="seed">Seed of the subset.</param>
    /// <returns>The plots written.</returns>
    public static IReadOnlyList<LatentPlot> Write(string path, float[] means, int[] labels, int dims, string subject,
        int tsnePoints = 0, int seed = 0)
    {
        int n = PlotPoints.Rows(means, dims, nameof(means));
        PlotPoints.Labels(labels, n, nameof(labels));
        if (dims < 2)
            throw new ArgumentException($"a latent scatter plot needs Z >= 2, the model has Z = {dims}", nameof(dims));
        ArgumentOutOfRangeException.ThrowIfNegative(tsnePoints);
        var plots = new List<LatentPlot>();
        if (dims == 2)
        {
            string title = $"{subject} ({n} points)";
            LatentScatter.Render(path, means, labels, title, "z1", "z2");
            plots.Add(new LatentPlot(path, "latent", title, n, null));
            return plots;
        }
        // The core's principal plane of the means, and their coordinates in it.
        var plane = LatentPlane.Principal(means, dims);
        var ratio = plane.ExplainedVarianceRatio!;
        string pcaTitle = $"{subject}: PCA ({n} points)";
        LatentScatter.Render(path, plane.Project(means), labels, pcaTitle,
            $"PC1 ({Percent(ratio[0])} of variance)", $"PC2 ({Percent(ratio[1])} of variance)");
        plots.Add(new LatentPlot(path, "pca", pcaTitle, n, [ratio[0], ratio[1]]));
        if (tsnePoints > 0)
        {
            int m = Math.Min(Math.Min(tsnePoints, n), Tsne.MaxPoints);
            var subset = Subset(n, m, seed);
            var points = new float[m * dims];
            var subsetLabels = new int[m];
            for (int i = 0; i < m; i++)
            {
                means.AsSpan(subset[i] * dims, dims).CopyTo(points.AsSpan(i * dims, dims));
                subsetLabels[i] = labels[subset[i]];
            }
            double perplexity = Math.Min(30, (m - 1) / 3.0);
            var embedding = Tsne.Embed(points, dims, perplexity, seed: seed);
            string tsnePath = Path.Combine(Path.GetDirectoryName(path) ?? "", $"{Path.GetFileNameWithoutExtension(path)}-tsne{Path.GetExtension(path)}");
            // Titles stay short: a plot clips a title wider than itself.
            string tsneTitle = $"{subject}: t-SNE ({m} random points)";
            LatentScatter.Render(tsnePath, embedding, subsetLabels, tsneTitle,
                $"t-SNE 1 (perplexity {perplexity.ToString("0.#", CultureInfo.InvariantCulture)})", "t-SNE 2");
            plots.Add(new LatentPlot(tsnePath, "tsne", tsneTitle, m, null));
        }
        return plots;
    }

    private static string Percent(double ratio) => (100 * ratio).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    // m distinct indices out of n by a seeded partial Fisher-Yates shuffle, ascending.
    private static int[] Subset(int n, int m, int seed)
    {
        var all = Enumerable.Range(0, n).ToArray();
        var random = new Random(seed);
        for (int i = 0; i < m; i++)
        {
            int j = random.Next(i, n);
            (all[i], all[j]) = (all[j], all[i]);
        }
        var subset = all[..m];
        Array.Sort(subset);
        return subset;
    }
}
