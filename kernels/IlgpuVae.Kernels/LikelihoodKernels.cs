using ILGPU;
using ILGPU.Algorithms;

namespace IlgpuVae.Kernels;

/// <summary>
/// The importance-weighted log-likelihood estimate (Burda et al., 2015; theory: docs/theory.md, "Importance-weighted
/// log-likelihood estimate"): one kernel writes each sample's log weight into a (B, K) table, another reduces each
/// row with a stable logsumexp.
/// </summary>
internal static class LikelihoodKernels
{
    /// <summary>
    /// The log importance weight of one posterior sample per image, written to column <paramref name="column"/> of
    /// the (B, K) table: <c>log w = log p(x|z) + log p(z) - log q(z|x)
    /// = -reconstruction[b] + 1/2 sum_j (logvar_j + eps_j^2 - z_j^2)</c>, the two Gaussians' log(2 pi) terms
    /// cancelling. One thread per image.
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="stats">The posterior statistics (B, 2Z): mu then log-variance in each row.</param>
    /// <param name="eps">The noise (B, Z) with z = mu + eps exp(logvar / 2).</param>
    /// <param name="z">The latent sample (B, Z).</param>
    /// <param name="reconstruction">The summed BCE of each image under z (B): -log p(x|z).</param>
    /// <param name="logWeights">The log weights (B, K).</param>
    /// <param name="latent">Z.</param>
    /// <param name="column">The sample's column k in [0, K).</param>
    /// <param name="columns">K.</param>
    public static void ImportanceLogWeightKernel(Index1D index, int stride, ArrayView<float> stats,
        ArrayView<float> eps, ArrayView<float> z, ArrayView<float> reconstruction, ArrayView<float> logWeights,
        int latent, int column, int columns)
    {
        for (int b = index; b < reconstruction.IntLength; b += stride)
        {
            float sum = 0f;
            int row = b * 2 * latent;
            for (int j = 0; j < latent; j++)
            {
                float e = eps[b * latent + j], value = z[b * latent + j];
                sum += stats[row + latent + j] + e * e - value * value;
            }
            logWeights[b * columns + column] = 0.5f * sum - reconstruction[b];
        }
    }

    /// <summary>
    /// Row logsumexp: <c>output[r] = M + log sum_c exp(x[r, c] - M)</c> with <c>M = max_c x[r, c]</c>, so every
    /// exponent is at most 0 and the sum at least 1 (log weights of -100 nats and less underflow exp in float
    /// otherwise). A row whose maximum is -infinity gives -infinity. One thread per row.
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="x">The matrix (rows, cols).</param>
    /// <param name="output">The row results (rows).</param>
    /// <param name="cols">Columns of x, at least 1.</param>
    public static void RowLogSumExpKernel(Index1D index, int stride, ArrayView<float> x, ArrayView<float> output,
        int cols)
    {
        for (int r = index; r < output.IntLength; r += stride)
        {
            int row = r * cols;
            float max = x[row];
            for (int c = 1; c < cols; c++)
                max = XMath.Max(max, x[row + c]);
            if (max == float.NegativeInfinity)
            {
                output[r] = max;
                continue;
            }
            float sum = 0f;
            for (int c = 0; c < cols; c++)
                sum += XMath.Exp(x[row + c] - max);
            output[r] = max + XMath.Log(sum);
        }
    }
}
