using IlgpuVae.Data;
using IlgpuVae.Models;

namespace IlgpuVae.Analysis;

/// <summary>
/// A plane through the latent origin, spanned by two unit directions: two latent axes, or the two leading
/// principal directions of a set's posterior means. <see cref="Codes"/> lays a grid of codes over it.
/// </summary>
/// <param name="Across">The first direction (Z).</param>
/// <param name="Down">The second direction (Z).</param>
/// <param name="ExplainedVarianceRatio">For principal directions, the share of the means' variance along each; else null.</param>
public sealed record LatentPlane(float[] Across, float[] Down, double[]? ExplainedVarianceRatio = null)
{
    /// <summary>The plane of latent axes <paramref name="across"/> and <paramref name="down"/> (0-based), the other components 0.</summary>
    /// <param name="latent">Z.</param>
    /// <param name="across">The first axis.</param>
    /// <param name="down">The second axis, different from the first.</param>
    /// <returns>The plane.</returns>
    public static LatentPlane OfAxes(int latent, int across, int down)
    {
        if (across == down)
            throw new ArgumentException($"a plane needs two different axes, got {across} twice", nameof(down));
        return new LatentPlane(LatentPaths.Axis(latent, across), LatentPaths.Axis(latent, down));
    }

    /// <summary>
    /// The plane of the two leading principal directions of the codes <paramref name="means"/> (N, Z) row-major, with
    /// their mean as <see cref="Center"/> (project a code onto the plane as <c>(code - Center) . Across</c>, and so on).
    /// </summary>
    /// <param name="means">Posterior means, e.g. from <see cref="VaeModel.Encode"/>; at least two rows.</param>
    /// <param name="latent">Z, 2 or more.</param>
    /// <returns>The plane, with the explained variance ratios and the means' mean.</returns>
    public static LatentPlane Principal(float[] means, int latent)
    {
        ArgumentNullException.ThrowIfNull(means);
        if (latent < 2)
            throw new ArgumentException($"a latent plane needs Z >= 2, got {latent}", nameof(latent));
        if (means.Length % latent != 0 || means.Length / latent < 2)
            throw new ArgumentException($"{means.Length} values are not two or more rows of Z = {latent}", nameof(means));
        var pca = Pca.Fit(means, latent, 2);
        return new LatentPlane(pca.Components[..latent], pca.Components[latent..], pca.ExplainedVarianceRatio) { Center = pca.Mean };
    }

    /// <summary>
    /// The coordinates of <paramref name="codes"/> in the plane: <c>(code - Center) . Across</c> and
    /// <c>(code - Center) . Down</c> for each (Center 0 for a plane through the origin), e.g. to plot the codes.
    /// </summary>
    /// <param name="codes">Row-major n x Z codes.</param>
    /// <returns>Row-major n x 2 coordinates (across, down).</returns>
    /// <exception cref="ArgumentException">The codes are not rows of Z.</exception>
    public float[] Project(float[] codes)
    {
        int z = Across.Length;
        return Pca.Project(codes, z, Center ?? new float[z], [.. Across, .. Down]);
    }

    /// <summary>For a principal plane fitted to codes, their mean (Z); null for a plane through the origin.</summary>
    public float[]? Center { get; init; }

    /// <summary>The plane of the two leading principal directions of <paramref name="model"/>'s posterior means over <paramref name="set"/>.</summary>
    /// <param name="model">A model with Z &gt;= 2.</param>
    /// <param name="set">The images whose means are analysed, e.g. the test set.</param>
    /// <returns>The plane, with the explained variance ratios.</returns>
    public static LatentPlane Principal(VaeModel model, ImageSet set)
    {
        ArgumentNullException.ThrowIfNull(model);
        int z = model.Config.Latent;
        if (z < 2)
            throw new ArgumentException($"a latent plane needs Z >= 2; the model has Z = {z}", nameof(model));
        var pca = Pca.Fit(model.LatentMeans(set), z, 2);
        return new LatentPlane(pca.Components[..z], pca.Components[z..], pca.ExplainedVarianceRatio);
    }

    /// <summary>
    /// Coordinates for a grid of <paramref name="count"/> points per side: the standard normal's quantiles at evenly
    /// spaced probabilities (Kingma and Welling's manifold), so equal areas of the prior get equal cells.
    /// </summary>
    /// <param name="count">Points per side, 2 or more.</param>
    /// <returns>The coordinates, increasing.</returns>
    public static double[] QuantileGrid(int count) => NormalQuantile.Grid(count);

    /// <summary>The codes <c>u Across + v Down</c> over a square grid: row r has v = coordinates[n - 1 - r] (largest at the top), column c has u = coordinates[c].</summary>
    /// <param name="coordinates">The grid's coordinates along each direction.</param>
    /// <returns>Row-major n*n x Z codes.</returns>
    public float[] Codes(IReadOnlyList<double> coordinates) => LatentPaths.Plane(coordinates, Across, Down);
}
