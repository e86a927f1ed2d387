namespace IlgpuVae.Analysis;

/// <summary>
/// Principal component analysis by eigen-decomposition of the sample covariance (cyclic Jacobi rotations, in
/// double precision). Intended for low-dimensional data such as latent codes (dims up to a few hundred).
/// </summary>
internal sealed class Pca
{
    private Pca(float[] mean, float[] components, double[] variance, double[] ratio, int dims, int count)
    {
        Mean = mean;
        Components = components;
        ExplainedVariance = variance;
        ExplainedVarianceRatio = ratio;
        Dims = dims;
        ComponentCount = count;
    }

    /// <summary>Input dimensionality.</summary>
    public int Dims { get; }

    /// <summary>Number of principal directions kept.</summary>
    public int ComponentCount { get; }

    /// <summary>Per-dimension mean of the fitted points (Dims values).</summary>
    public float[] Mean { get; }

    /// <summary>
    /// Row-major ComponentCount x Dims unit principal directions, by decreasing variance. Each direction's sign
    /// is fixed so that its largest-magnitude entry is positive.
    /// </summary>
    public float[] Components { get; }

    /// <summary>Variance along each kept direction (covariance eigenvalue, n - 1 denominator).</summary>
    public double[] ExplainedVariance { get; }

    /// <summary>Each kept direction's share of the total variance (all Dims directions), in [0, 1].</summary>
    public double[] ExplainedVarianceRatio { get; }

    /// <summary>Fits the leading <paramref name="components"/> principal directions of <paramref name="points"/>.</summary>
    /// <param name="points">Row-major n x <paramref name="dims"/> points, finite, n at least 2.</param>
    /// <param name="dims">Values per point, at least 1.</param>
    /// <param name="components">Directions to keep, 1..dims.</param>
    /// <returns>The fitted projection.</returns>
    public static Pca Fit(float[] points, int dims, int components = 2)
    {
        int n = AnalysisInput.Rows(points, dims, nameof(points));
        ArgumentOutOfRangeException.ThrowIfLessThan(components, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(components, dims);
        if (n < 2)
        {
            throw new ArgumentException("PCA needs at least two points.", nameof(points));
        }

        var mean = new double[dims];
        for (int i = 0; i < n; i++)
        {
            for (int d = 0; d < dims; d++)
            {
                mean[d] += points[(i * dims) + d];
            }
        }

        for (int d = 0; d < dims; d++)
        {
            mean[d] /= n;
        }

        double[,] cov = Covariance(points, n, dims, mean);
        (double[] values, double[,] vectors) = Jacobi(cov);

        var order = new int[dims];
        for (int i = 0; i < dims; i++)
        {
            order[i] = i;
        }

        // Descending eigenvalue; index breaks ties so the order is deterministic.
        Array.Sort(order, (x, y) => values[y] != values[x] ? values[y].CompareTo(values[x]) : x.CompareTo(y));

        double total = 0;
        foreach (double v in values)
        {
            total += Math.Max(v, 0);
        }

        var directions = new float[components * dims];
        var variance = new double[components];
        var ratio = new double[components];
        for (int c = 0; c < components; c++)
        {
            int col = order[c];
            int argMax = 0;
            for (int d = 1; d < dims; d++)
            {
                if (Math.Abs(vectors[d, col]) > Math.Abs(vectors[argMax, col]))
                {
                    argMax = d;
                }
            }

            double sign = vectors[argMax, col] < 0 ? -1 : 1;
            for (int d = 0; d < dims; d++)
            {
                directions[(c * dims) + d] = (float)(sign * vectors[d, col]);
            }

            variance[c] = Math.Max(values[col], 0);
            ratio[c] = total > 0 ? variance[c] / total : 0;
        }

        var meanF = new float[dims];
        for (int d = 0; d < dims; d++)
        {
            meanF[d] = (float)mean[d];
        }

        return new Pca(meanF, directions, variance, ratio, dims, components);
    }

    /// <summary>Projects points onto the principal directions: (x - Mean) . Components[c].</summary>
    /// <param name="points">Row-major n x Dims points.</param>
    /// <returns>Row-major n x ComponentCount coordinates.</returns>
    public float[] Project(float[] points) => Project(points, Dims, Mean, Components);

    /// <summary>Projects points onto directions: (x - mean) . components[c] (also <see cref="LatentPlane.Project"/>).</summary>
    /// <param name="points">Row-major n x <paramref name="dims"/> points.</param>
    /// <param name="dims">Values per point.</param>
    /// <param name="mean">The centre (dims).</param>
    /// <param name="components">Row-major k x dims directions.</param>
    /// <returns>Row-major n x k coordinates.</returns>
    internal static float[] Project(float[] points, int dims, float[] mean, float[] components)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (points.Length % dims != 0)
        {
            throw new ArgumentException($"Length {points.Length} is not a multiple of dims = {dims}.", nameof(points));
        }

        int n = points.Length / dims;
        int k = components.Length / dims;
        var result = new float[n * k];
        Parallel.For(0, (n + 1023) / 1024, chunk =>
        {
            Span<float> centred = stackalloc float[dims];
            int end = Math.Min(n, (chunk + 1) * 1024);
            for (int i = chunk * 1024; i < end; i++)
            {
                for (int d = 0; d < dims; d++)
                {
                    centred[d] = points[(i * dims) + d] - mean[d];
                }

                for (int c = 0; c < k; c++)
                {
                    ReadOnlySpan<float> direction = components.AsSpan(c * dims, dims);
                    double dot = 0;
                    for (int d = 0; d < dims; d++)
                    {
                        dot += (double)centred[d] * direction[d];
                    }

                    result[(i * k) + c] = (float)dot;
                }
            }
        });

        return result;
    }

    private static double[,] Covariance(float[] points, int n, int dims, double[] mean)
    {
        var cov = new double[dims, dims];
        var centred = new double[dims];
        for (int i = 0; i < n; i++)
        {
            for (int d = 0; d < dims; d++)
            {
                centred[d] = points[(i * dims) + d] - mean[d];
            }

            for (int r = 0; r < dims; r++)
            {
                double x = centred[r];
                for (int c = r; c < dims; c++)
                {
                    cov[r, c] += x * centred[c];
                }
            }
        }

        for (int r = 0; r < dims; r++)
        {
            for (int c = r; c < dims; c++)
            {
                cov[r, c] /= n - 1;
                cov[c, r] = cov[r, c];
            }
        }

        return cov;
    }

    /// <summary>
    /// Cyclic Jacobi eigen-decomposition of a symmetric matrix. Returns the eigenvalues and a matrix whose
    /// columns are the corresponding orthonormal eigenvectors.
    /// </summary>
    internal static (double[] Values, double[,] Vectors) Jacobi(double[,] symmetric)
    {
        int size = symmetric.GetLength(0);
        var a = (double[,])symmetric.Clone();
        var v = new double[size, size];
        for (int i = 0; i < size; i++)
        {
            v[i, i] = 1;
        }

        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            double diag = 0;
            for (int p = 0; p < size; p++)
            {
                diag += a[p, p] * a[p, p];
                for (int q = p + 1; q < size; q++)
                {
                    off += a[p, q] * a[p, q];
                }
            }

            if (off <= 1e-30 * Math.Max(diag, double.Epsilon))
            {
                break;
            }

            for (int p = 0; p < size - 1; p++)
            {
                for (int q = p + 1; q < size; q++)
                {
                    double apq = a[p, q];
                    if (apq == 0)
                    {
                        continue;
                    }

                    // Rotation angle that zeroes a[p, q] (Numerical Recipes' stable form).
                    double theta = (a[q, q] - a[p, p]) / (2 * apq);
                    double t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt((theta * theta) + 1));
                    if (theta == 0)
                    {
                        t = 1;
                    }

                    double c = 1 / Math.Sqrt((t * t) + 1);
                    double s = t * c;
                    for (int k = 0; k < size; k++)
                    {
                        double akp = a[k, p];
                        double akq = a[k, q];
                        a[k, p] = (c * akp) - (s * akq);
                        a[k, q] = (s * akp) + (c * akq);
                    }

                    for (int k = 0; k < size; k++)
                    {
                        double apk = a[p, k];
                        double aqk = a[q, k];
                        a[p, k] = (c * apk) - (s * aqk);
                        a[q, k] = (s * apk) + (c * aqk);
                    }

                    for (int k = 0; k < size; k++)
                    {
                        double vkp = v[k, p];
                        double vkq = v[k, q];
                        v[k, p] = (c * vkp) - (s * vkq);
                        v[k, q] = (s * vkp) + (c * vkq);
                    }
                }
            }
        }

        var values = new double[size];
        for (int i = 0; i < size; i++)
        {
            values[i] = a[i, i];
        }

        return (values, v);
    }
}
