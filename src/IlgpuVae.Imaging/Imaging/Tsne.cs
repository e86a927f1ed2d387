using System.Numerics;
using IlgpuVae.Analysis;

namespace IlgpuVae.Imaging;

/// <summary>
/// Exact t-SNE (van der Maaten and Hinton, 2008) to two dimensions, O(n^2) time and memory per iteration,
/// following scikit-learn's <c>TSNE(method="exact")</c>: Gaussian affinities calibrated to the perplexity by
/// binary search on squared Euclidean distances, symmetrised joint probabilities, Student-t (one degree of
/// freedom) similarities in the embedding, PCA initialisation scaled to standard deviation 1e-4, early
/// exaggeration 12 for the first 250 iterations with momentum 0.5 (then 0.8), per-coordinate adaptive gains
/// (minimum 0.01) and learning rate max(n / 48, 50). Meant for a few thousand points at most.
/// </summary>
internal static class Tsne
{
    /// <summary>Largest number of points accepted (two n x n float matrices are held).</summary>
    public const int MaxPoints = 8000;

    private const int ExplorationIterations = 250;
    private const float EarlyExaggeration = 12f;
    private const float MinGain = 0.01f;
    private const double MachineEpsilon = 2.220446049250313e-16;

    /// <summary>Embeds <paramref name="points"/> into two dimensions.</summary>
    /// <param name="points">Row-major n x <paramref name="dims"/> points, finite, 2 &lt;= n &lt;= <see cref="MaxPoints"/>.</param>
    /// <param name="dims">Values per point, at least 1.</param>
    /// <param name="perplexity">Effective number of neighbours, in (1, n).</param>
    /// <param name="iterations">Gradient-descent iterations in total (including early exaggeration), at least 1.</param>
    /// <param name="seed">Seed for the random initialisation used when PCA cannot initialise (dims = 1 or no variance).</param>
    /// <returns>Row-major n x 2 embedding.</returns>
    public static float[] Embed(float[] points, int dims, double perplexity = 30, int iterations = 1000, int seed = 0)
    {
        int n = PlotPoints.Rows(points, dims, nameof(points));
        if (n < 2 || n > MaxPoints)
        {
            throw new ArgumentException($"t-SNE takes 2 to {MaxPoints} points but got {n}.", nameof(points));
        }

        if (!(perplexity > 1) || perplexity >= n)
        {
            throw new ArgumentOutOfRangeException(nameof(perplexity), perplexity, $"Perplexity must lie in (1, {n}).");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);

        float[] p = JointProbabilities(points, n, dims, perplexity);
        (float[] xs, float[] ys) = Initialise(points, n, dims, seed);
        Optimise(p, xs, ys, iterations);

        var result = new float[2 * n];
        for (int i = 0; i < n; i++)
        {
            result[2 * i] = xs[i];
            result[(2 * i) + 1] = ys[i];
        }

        return result;
    }

    /// <summary>Symmetric joint probabilities P (n x n, zero diagonal, summing to 1).</summary>
    private static float[] JointProbabilities(float[] points, int n, int dims, double perplexity)
    {
        var conditional = new float[n * n];
        double desiredEntropy = Math.Log(perplexity);
        Parallel.For(
            0,
            n,
            () => new double[n],
            (i, _, d2) =>
            {
                ReadOnlySpan<float> xi = points.AsSpan(i * dims, dims);
                double min = double.PositiveInfinity;
                for (int j = 0; j < n; j++)
                {
                    d2[j] = j == i ? 0 : SquaredDistance(xi, points.AsSpan(j * dims, dims));
                    if (j != i)
                    {
                        min = Math.Min(min, d2[j]);
                    }
                }

                Calibrate(d2, i, min, desiredEntropy, conditional.AsSpan(i * n, n));
                return d2;
            },
            _ => { });

        double total = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                total += conditional[(i * n) + j];
            }
        }

        total *= 2; // P + P^T
        total = Math.Max(total, MachineEpsilon);
        var joint = new float[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                joint[(i * n) + j] = i == j
                    ? 0f
                    : (float)Math.Max((conditional[(i * n) + j] + conditional[(j * n) + i]) / total, MachineEpsilon);
            }
        }

        return joint;
    }

    /// <summary>Binary search for the Gaussian precision whose conditional distribution has the desired entropy.</summary>
    private static void Calibrate(double[] d2, int self, double shift, double desiredEntropy, Span<float> row)
    {
        int n = d2.Length;
        double beta = 1;
        double betaMin = double.NegativeInfinity;
        double betaMax = double.PositiveInfinity;
        var prob = new double[n];
        for (int step = 0; step < 100; step++)
        {
            double sum = 0;
            for (int j = 0; j < n; j++)
            {
                prob[j] = j == self ? 0 : Math.Exp(-(d2[j] - shift) * beta);
                sum += prob[j];
            }

            sum = Math.Max(sum, 1e-8);
            double weighted = 0;
            for (int j = 0; j < n; j++)
            {
                prob[j] /= sum;
                weighted += (d2[j] - shift) * prob[j];
            }

            double entropy = Math.Log(sum) + (beta * weighted);
            double diff = entropy - desiredEntropy;
            if (Math.Abs(diff) <= 1e-5)
            {
                break;
            }

            if (diff > 0)
            {
                betaMin = beta;
                beta = double.IsPositiveInfinity(betaMax) ? beta * 2 : (beta + betaMax) / 2;
            }
            else
            {
                betaMax = beta;
                beta = double.IsNegativeInfinity(betaMin) ? beta / 2 : (beta + betaMin) / 2;
            }
        }

        for (int j = 0; j < n; j++)
        {
            row[j] = (float)prob[j];
        }
    }

    // Summed in float, in order, as k-means does in the core.
    private static float SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float sum = 0f;
        for (int i = 0; i < a.Length; i++)
        {
            float t = a[i] - b[i];
            sum += t * t;
        }

        return sum;
    }

    private static (float[] Xs, float[] Ys) Initialise(float[] points, int n, int dims, int seed)
    {
        var xs = new float[n];
        var ys = new float[n];
        if (dims >= 2)
        {
            // PCA initialisation: the points' coordinates in the plane of their two leading principal directions.
            float[] projected = LatentPlane.Principal(points, dims).Project(points);
            double mean = 0;
            for (int i = 0; i < n; i++)
            {
                mean += projected[2 * i];
            }

            mean /= n;
            double variance = 0;
            for (int i = 0; i < n; i++)
            {
                double t = projected[2 * i] - mean;
                variance += t * t;
            }

            double std = Math.Sqrt(variance / n);
            if (std > 0)
            {
                double scale = 1e-4 / std;
                for (int i = 0; i < n; i++)
                {
                    xs[i] = (float)(projected[2 * i] * scale);
                    ys[i] = (float)(projected[(2 * i) + 1] * scale);
                }

                return (xs, ys);
            }
        }

        var rng = new Random(seed);
        for (int i = 0; i < n; i++)
        {
            xs[i] = (float)(1e-4 * Gaussian(rng));
            ys[i] = (float)(1e-4 * Gaussian(rng));
        }

        return (xs, ys);
    }

    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static void Optimise(float[] p, float[] xs, float[] ys, int iterations)
    {
        int n = xs.Length;
        float learningRate = Math.Max(n / EarlyExaggeration / 4f, 50f);
        var rowSums = new double[n];
        var gx = new float[n];
        var gy = new float[n];
        var ux = new float[n];
        var uy = new float[n];
        var gainX = new float[n];
        var gainY = new float[n];
        gainX.AsSpan().Fill(1f);
        gainY.AsSpan().Fill(1f);

        for (int iter = 0; iter < iterations; iter++)
        {
            bool exploring = iter < ExplorationIterations;
            float exaggeration = exploring ? EarlyExaggeration : 1f;
            float momentum = exploring ? 0.5f : 0.8f;

            // Z = sum over i != j of the Student-t kernel. The kernel is recomputed in the gradient pass rather than
            // stored: two passes over coordinates are cheaper than writing and re-reading an n x n matrix.
            Parallel.For(0, n, i => rowSums[i] = KernelRowSum(xs, ys, i) - 1.0);
            double z = 0;
            foreach (double s in rowSums)
            {
                z += s;
            }

            float invZ = (float)(1.0 / z);
            Parallel.For(0, n, i =>
            {
                (float sx, float sy) = WeightedOffsets(xs, ys, p.AsSpan(i * n, n), i, exaggeration, invZ);
                gx[i] = -4f * sx;
                gy[i] = -4f * sy;
            });

            Step(xs, gx, ux, gainX, momentum, learningRate);
            Step(ys, gy, uy, gainY, momentum, learningRate);
        }
    }

    /// <summary>sum_j 1 / (1 + |y_i - y_j|^2), including j = i (which contributes exactly 1).</summary>
    private static double KernelRowSum(float[] xs, float[] ys, int i)
    {
        int n = xs.Length;
        int vc = Vector<float>.Count;
        var xi = new Vector<float>(xs[i]);
        var yi = new Vector<float>(ys[i]);
        Vector<float> acc = Vector<float>.Zero;
        int j = 0;
        for (; j <= n - vc; j += vc)
        {
            Vector<float> dx = new Vector<float>(xs, j) - xi;
            Vector<float> dy = new Vector<float>(ys, j) - yi;
            acc += Vector<float>.One / (Vector<float>.One + (dx * dx) + (dy * dy));
        }

        double sum = Vector.Sum(acc);
        for (; j < n; j++)
        {
            float dx = xs[j] - xs[i];
            float dy = ys[j] - ys[i];
            sum += 1f / (1f + (dx * dx) + (dy * dy));
        }

        return sum;
    }

    /// <summary>
    /// sum_j w_j (y_j - y_i) with w_j = (exaggeration * p_ij - q_ij / Z) * q_ij and q_ij the Student-t kernel; the
    /// gradient of the KL divergence for point i is -4 times this.
    /// </summary>
    private static (float X, float Y) WeightedOffsets(
        float[] xs, float[] ys, ReadOnlySpan<float> pRow, int i, float exaggeration, float invZ)
    {
        int n = xs.Length;
        int vc = Vector<float>.Count;
        var xi = new Vector<float>(xs[i]);
        var yi = new Vector<float>(ys[i]);
        var exag = new Vector<float>(exaggeration);
        var scale = new Vector<float>(invZ);
        Vector<float> accX = Vector<float>.Zero;
        Vector<float> accY = Vector<float>.Zero;
        int j = 0;
        for (; j <= n - vc; j += vc)
        {
            Vector<float> dx = new Vector<float>(xs, j) - xi;
            Vector<float> dy = new Vector<float>(ys, j) - yi;
            Vector<float> q = Vector<float>.One / (Vector<float>.One + (dx * dx) + (dy * dy));
            Vector<float> w = ((exag * new Vector<float>(pRow.Slice(j))) - (q * scale)) * q;
            accX += w * dx;
            accY += w * dy;
        }

        float sx = Vector.Sum(accX);
        float sy = Vector.Sum(accY);
        for (; j < n; j++)
        {
            float dx = xs[j] - xs[i];
            float dy = ys[j] - ys[i];
            float q = 1f / (1f + (dx * dx) + (dy * dy));
            float w = ((exaggeration * pRow[j]) - (q * invZ)) * q;
            sx += w * dx;
            sy += w * dy;
        }

        return (sx, sy);
    }

    /// <summary>Gradient step with momentum and delta-bar-delta gains (scikit-learn's <c>_gradient_descent</c>).</summary>
    private static void Step(float[] position, float[] gradient, float[] update, float[] gains, float momentum, float learningRate)
    {
        for (int i = 0; i < position.Length; i++)
        {
            bool increase = update[i] * gradient[i] < 0f;
            gains[i] = Math.Max(increase ? gains[i] + 0.2f : gains[i] * 0.8f, MinGain);
            update[i] = (momentum * update[i]) - (learningRate * gains[i] * gradient[i]);
            position[i] += update[i];
        }
    }
}
