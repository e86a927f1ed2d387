namespace IlgpuVae.Analysis;

/// <summary>
/// Latent codes to decode: paths between two codes, class mean codes, and planes of codes spanned by two directions
/// (the latent manifold). Codes are row-major float rows of Z values.
/// </summary>
public static class LatentPaths
{
    /// <summary>Below this angle between the endpoints (radians), slerp is replaced by the straight line it tends to.</summary>
    public const double MinimumAngle = 1e-6;

    /// <summary>
    /// <paramref name="steps"/> codes along the straight line from <paramref name="from"/> (t = 0) to
    /// <paramref name="to"/> (t = 1): <c>(1 - t) from + t to</c> at t = i / (steps - 1).
    /// </summary>
    /// <param name="from">The start code (Z values).</param>
    /// <param name="to">The end code (Z values).</param>
    /// <param name="steps">Codes on the path, at least 2.</param>
    /// <returns>Row-major steps x Z codes.</returns>
    /// <exception cref="ArgumentException">The endpoints differ in length or are empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is below 2.</exception>
    public static float[] Line(ReadOnlySpan<float> from, ReadOnlySpan<float> to, int steps) => Interpolate(from, to, steps, spherical: false);

    /// <summary>
    /// <paramref name="steps"/> codes along the great-circle arc from <paramref name="from"/> (t = 0) to
    /// <paramref name="to"/> (t = 1) at t = i / (steps - 1): spherical linear interpolation (slerp, Shoemake 1985; for
    /// generative models White 2016), <c>sin((1 - t) W) / sin W from + sin(t W) / sin W to</c> with W the angle between
    /// the endpoints. Under a Gaussian prior a straight line between two typical codes passes through the low-norm
    /// centre, where few codes lie; slerp keeps the norm (exactly, for codes of equal norm). It falls back to
    /// <see cref="Line"/> when either endpoint is zero or the angle between them is below <see cref="MinimumAngle"/>.
    /// </summary>
    /// <param name="from">The start code (Z values).</param>
    /// <param name="to">The end code (Z values).</param>
    /// <param name="steps">Codes on the path, at least 2.</param>
    /// <returns>Row-major steps x Z codes.</returns>
    /// <exception cref="ArgumentException">The endpoints differ in length or are empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is below 2.</exception>
    public static float[] Slerp(ReadOnlySpan<float> from, ReadOnlySpan<float> to, int steps) => Interpolate(from, to, steps, spherical: true);

    private static float[] Interpolate(ReadOnlySpan<float> from, ReadOnlySpan<float> to, int steps, bool spherical)
    {
        if (from.Length != to.Length || from.Length == 0)
            throw new ArgumentException($"endpoints of {from.Length} and {to.Length} values; both need the same Z > 0", nameof(to));
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 2);
        int z = from.Length;
        double dot = 0, fromNorm = 0, toNorm = 0;
        for (int j = 0; j < z; j++)
        {
            dot += (double)from[j] * to[j];
            fromNorm += (double)from[j] * from[j];
            toNorm += (double)to[j] * to[j];
        }
        double angle = fromNorm > 0 && toNorm > 0
            ? Math.Acos(Math.Clamp(dot / Math.Sqrt(fromNorm * toNorm), -1.0, 1.0))
            : 0;
        spherical = spherical && angle >= MinimumAngle;
        var codes = new float[steps * z];
        for (int i = 0; i < steps; i++)
        {
            double t = i / (double)(steps - 1);
            double a = 1 - t, b = t;
            if (spherical)
            {
                double sine = Math.Sin(angle);
                a = Math.Sin((1 - t) * angle) / sine;
                b = Math.Sin(t * angle) / sine;
            }
            for (int j = 0; j < z; j++)
                codes[i * z + j] = (float)(a * from[j] + b * to[j]);
        }
        return codes;
    }

    /// <summary>The mean code of each class.</summary>
    /// <param name="codes">Row-major n x <paramref name="dims"/> codes.</param>
    /// <param name="labels">The class of each code, in [0, <paramref name="classes"/>).</param>
    /// <param name="dims">Z.</param>
    /// <param name="classes">Number of classes.</param>
    /// <returns>Row-major classes x Z means, and how many codes each class had (a class without codes has a zero mean).</returns>
    public static (float[] Means, int[] Counts) ClassMeans(float[] codes, int[] labels, int dims, int classes)
    {
        int n = AnalysisInput.Rows(codes, dims, nameof(codes));
        AnalysisInput.Labels(labels, n, nameof(labels));
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        var sums = new double[classes * dims];
        var counts = new int[classes];
        for (int i = 0; i < n; i++)
        {
            int c = labels[i];
            if ((uint)c >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(labels), $"label {c} of point {i} is outside 0-{classes - 1}");
            counts[c]++;
            for (int j = 0; j < dims; j++)
                sums[c * dims + j] += codes[i * dims + j];
        }
        var means = new float[classes * dims];
        for (int c = 0; c < classes; c++)
            for (int j = 0; j < dims && counts[c] > 0; j++)
                means[c * dims + j] = (float)(sums[c * dims + j] / counts[c]);
        return (means, counts);
    }

    /// <summary>
    /// A square grid of codes <c>u * across + v * down</c> in the plane of two directions, with u and v both taken
    /// from <paramref name="coordinates"/>; every other component of the code is zero when the directions are
    /// coordinate axes. Row r of the grid has v = coordinates[count - 1 - r] (largest at the top, as on a plot),
    /// column c has u = coordinates[c].
    /// </summary>
    /// <param name="coordinates">The coordinates along each direction (e.g. <see cref="NormalQuantile.Grid"/>).</param>
    /// <param name="across">The direction along the columns (Z values).</param>
    /// <param name="down">The direction along the rows (Z values).</param>
    /// <returns>Row-major (count * count) x Z codes, grid row by grid row.</returns>
    public static float[] Plane(IReadOnlyList<double> coordinates, ReadOnlySpan<float> across, ReadOnlySpan<float> down)
    {
        ArgumentNullException.ThrowIfNull(coordinates);
        if (across.Length != down.Length || across.Length == 0)
            throw new ArgumentException($"directions of {across.Length} and {down.Length} values; both need the same Z > 0", nameof(down));
        int n = coordinates.Count, z = across.Length;
        var codes = new float[n * n * z];
        for (int r = 0; r < n; r++)
        {
            double v = coordinates[n - 1 - r];
            for (int c = 0; c < n; c++)
            {
                double u = coordinates[c];
                int row = (r * n + c) * z;
                for (int j = 0; j < z; j++)
                    codes[row + j] = (float)(u * across[j] + v * down[j]);
            }
        }
        return codes;
    }

    /// <summary>The unit vector along latent axis <paramref name="axis"/> (0-based) of a Z-dimensional space.</summary>
    /// <param name="latent">Z.</param>
    /// <param name="axis">The axis, in [0, Z).</param>
    /// <returns>Z values, all zero but one.</returns>
    public static float[] Axis(int latent, int axis)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(latent, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(axis);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(axis, latent);
        var direction = new float[latent];
        direction[axis] = 1f;
        return direction;
    }
}
