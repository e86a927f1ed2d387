using ILGPU;
using IlgpuVae.Kernels;

namespace IlgpuVae.Compute;

/// <summary>Host-side argument checks shared by both <see cref="IOps"/> implementations (never inside kernels).</summary>
internal static class OpsChecks
{
    public static void Gemm(bool transA, bool transB, int m, int n, int k, ArrayView<float> a, int lda,
        ArrayView<float> b, int ldb, ArrayView<float> c, int ldc)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        // Stored shapes: A is (M, K) or, transposed, (K, M); B is (K, N) or (N, K).
        Matrix(transA ? k : m, transA ? m : k, a, lda, nameof(a));
        Matrix(transB ? n : k, transB ? k : n, b, ldb, nameof(b));
        Matrix(m, n, c, ldc, nameof(c));
    }

    private static void Matrix(int rows, int cols, ArrayView<float> view, int ld, string name)
    {
        if (rows == 0 || cols == 0)
            return;
        if (ld < cols)
            throw new ArgumentOutOfRangeException(name, $"leading dimension {ld} is less than {cols} columns");
        long needed = (long)(rows - 1) * ld + cols;
        if (view.Length < needed)
            throw new ArgumentException($"{name} holds {view.Length} elements, a {rows}x{cols} matrix with leading dimension {ld} needs {needed}", name);
    }

    /// <summary>Checks that x divides into whole parts of <paramref name="width"/> and returns their count:
    /// rows for a row width, or columns for a row count.</summary>
    public static int Rows(ArrayView<float> x, long width, string name)
    {
        if (width <= 0 || x.Length % width != 0)
            throw new ArgumentException($"{name} has {x.Length} elements, not a multiple of {width}", name);
        return (int)(x.Length / width);
    }

    public static void SameLength<T, U>(ArrayView<T> x, ArrayView<U> y, string name)
        where T : unmanaged where U : unmanaged
    {
        if (x.Length != y.Length)
            throw new ArgumentException($"{name} has {y.Length} elements, expected {x.Length}", name);
    }

    public static void Latent(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z, int latent)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(latent);
        if (eps.Length != z.Length || stats.Length != 2 * z.Length || z.Length % latent != 0)
            throw new ArgumentException($"latent shapes disagree: stats {stats.Length}, eps {eps.Length}, z {z.Length}, Z {latent}");
    }

    /// <summary>Checks the shapes of an importance log-weight op and returns K, the table's columns.</summary>
    public static int LogWeights(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z,
        ArrayView<float> reconstruction, ArrayView<float> logWeights, int latent, int column)
    {
        Latent(stats, eps, z, latent);
        long rows = z.Length / latent;
        if (reconstruction.Length != rows)
            throw new ArgumentException($"reconstruction has {reconstruction.Length} rows, z has {rows}", nameof(reconstruction));
        if (rows == 0 || logWeights.Length % rows != 0)
            throw new ArgumentException($"log weights of {logWeights.Length} elements are not {rows} rows", nameof(logWeights));
        int columns = (int)(logWeights.Length / rows);
        ArgumentOutOfRangeException.ThrowIfNegative(column);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(column, columns);
        return columns;
    }

    public static void Gather(long available, long orderLength, int start, int rows)
    {
        if (start < 0 || start + (long)rows > orderLength)
            throw new ArgumentOutOfRangeException(nameof(start), $"rows {start}..{start + rows} outside an order of {orderLength}");
        if (orderLength > available)
            throw new ArgumentException($"order of {orderLength} indices for {available} items");
    }

    public static void Conv(ConvShape s, ArrayView<float> x, ArrayView<float> weight, ArrayView<float> y)
    {
        if (s.Batch < 0 || s.InChannels <= 0 || s.InHeight <= 0 || s.InWidth <= 0 || s.OutChannels <= 0 ||
            s.KernelHeight <= 0 || s.KernelWidth <= 0 || s.Stride <= 0 || s.Padding < 0)
            throw new ArgumentOutOfRangeException(nameof(s), $"invalid convolution {s}");
        if (s.OutHeight <= 0 || s.OutWidth <= 0 || s.OutHeight != (s.InHeight + 2 * s.Padding - s.KernelHeight) / s.Stride + 1 ||
            s.OutWidth != (s.InWidth + 2 * s.Padding - s.KernelWidth) / s.Stride + 1)
            throw new ArgumentOutOfRangeException(nameof(s), $"convolution {s} has no valid output size");
        if (s.OutputLength > int.MaxValue || s.InputLength > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(s), $"convolution {s} is too large for one launch");
        Length(x, s.InputLength, nameof(x));
        Length(weight, s.WeightLength, nameof(weight));
        Length(y, s.OutputLength, nameof(y));
    }

    public static int Channels(ArrayView<float> x, long channels, int spatial, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(spatial);
        return Rows(x, channels * spatial, name);
    }

    private static void Length(ArrayView<float> view, long length, string name)
    {
        if (view.Length != length)
            throw new ArgumentException($"{name} has {view.Length} elements, the convolution needs {length}", name);
    }

    /// <summary>Checks the shapes of the multi-sample ops; returns (images B, samples K).</summary>
    public static (int Images, int Samples) Samples(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z,
        ArrayView<float> rows, int latent)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(latent);
        int images = Rows(stats, 2L * latent, nameof(stats));
        SameLength(eps, z, nameof(z));
        if (images == 0 || rows.Length % images != 0 || eps.Length != rows.Length * latent)
            throw new ArgumentException($"{rows.Length} sample rows with eps of {eps.Length} do not fit {images} images of Z = {latent}", nameof(eps));
        return (images, (int)(rows.Length / images));
    }

    /// <summary>Checks targets whose rows repeat under the logits' (T dividing B); returns the columns D.</summary>
    public static int RepeatedTargets(ArrayView<float> logits, ArrayView<float> targets, ArrayView<float> loss)
    {
        int cols = Rows(logits, loss.Length, nameof(logits));
        if (targets.Length == 0 || targets.Length % Math.Max(cols, 1) != 0 || logits.Length % targets.Length != 0)
            throw new ArgumentException($"targets of {targets.Length} do not repeat into logits of {logits.Length} ({cols} columns)", nameof(targets));
        return cols;
    }

    /// <summary>Checks a Gaussian likelihood's shapes (means and their gradients alike, targets repeating under them,
    /// one log-variance per column); returns the columns D.</summary>
    public static int GaussianNll(ArrayView<float> means, ArrayView<float> logVariance, ArrayView<float> targets,
        ArrayView<float> loss, ArrayView<float> dmeans, ArrayView<float> dlogVariance)
    {
        SameLength(means, dmeans, nameof(dmeans));
        SameLength(means, dlogVariance, nameof(dlogVariance));
        int cols = RepeatedTargets(means, targets, loss);
        if (logVariance.Length != cols)
            throw new ArgumentException($"a log-variance of {logVariance.Length} for {cols} columns", nameof(logVariance));
        return cols;
    }

    /// <summary>Checks the multi-sample weights' shapes; returns K.</summary>
    public static int ImportanceWeights(ArrayView<float> bce, ArrayView<float> logRatio, ArrayView<float> weights,
        ArrayView<float> reconstruction, ArrayView<float> rest)
    {
        SameLength(bce, logRatio, nameof(logRatio));
        SameLength(bce, weights, nameof(weights));
        SameLength(reconstruction, rest, nameof(rest));
        return Rows(bce, Math.Max(reconstruction.Length, 1), nameof(bce));
    }

    /// <summary>Checks a conditional prior's log-ratio shapes: prior (R, 2Z), z (R, Z), per-row inner and logRatio (R).</summary>
    public static void PriorRatio(ArrayView<float> prior, ArrayView<float> z, ArrayView<float> inner, ArrayView<float> logRatio, int latent)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(latent);
        SameLength(logRatio, inner, nameof(inner));
        if (z.Length != logRatio.Length * latent)
            throw new ArgumentException($"z has {z.Length} elements, not {logRatio.Length} x {latent}", nameof(z));
        if (prior.Length != 2 * z.Length)
            throw new ArgumentException($"the prior's statistics have {prior.Length} elements, not {logRatio.Length} x {2 * latent}", nameof(prior));
    }

    /// <summary>Checks a log-weight column's shapes: logRatio and reconstruction (B), logWeights (B, K), column below K; returns K.</summary>
    public static int LogWeightColumn(ArrayView<float> logRatio, ArrayView<float> reconstruction, ArrayView<float> logWeights, int column)
    {
        SameLength(logRatio, reconstruction, nameof(reconstruction));
        int columns = Rows(logWeights, Math.Max(logRatio.Length, 1), nameof(logWeights));
        if (column < 0 || column >= columns)
            throw new ArgumentOutOfRangeException(nameof(column), $"column {column} of {columns}");
        return columns;
    }
}
