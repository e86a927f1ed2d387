using ILGPU;
using ILGPU.Algorithms;

namespace IlgpuVae.Kernels;

/// <summary>
/// Grid-stride element-wise kernels: thread <c>index</c> handles elements index, index + stride, ...
/// so one launch of a fixed small extent covers any length, which keeps the CPU accelerator fast.
/// </summary>
internal static class ElementwiseKernels
{
    /// <summary>Sets every element of <paramref name="x"/> (length n) to <paramref name="value"/>.</summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="x">The vector to fill.</param>
    /// <param name="value">The value.</param>
    public static void FillKernel(Index1D index, int stride, ArrayView<float> x, float value)
    {
        for (int i = index; i < x.IntLength; i += stride)
            x[i] = value;
    }

    /// <summary>
    /// Fused bias and activation, in place: <c>x[r, c] = f(x[r, c] + bias[c])</c>.
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="x">The pre-activations (rows, cols), overwritten by the activations.</param>
    /// <param name="bias">The bias (cols).</param>
    /// <param name="cols">Columns of x.</param>
    /// <param name="activation">The <see cref="Activation"/> as an int.</param>
    public static void BiasActivationKernel(Index1D index, int stride, ArrayView<float> x, ArrayView<float> bias,
        int cols, int activation)
    {
        for (int i = index; i < x.IntLength; i += stride)
            x[i] = Apply(x[i] + bias[i % cols], activation);
    }

    /// <summary>Element-wise activation: <c>y = f(x)</c> (x and y may be the same view).</summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="x">The input.</param>
    /// <param name="y">The output, same length as x.</param>
    /// <param name="activation">The <see cref="Activation"/> as an int.</param>
    public static void ActivationKernel(Index1D index, int stride, ArrayView<float> x, ArrayView<float> y,
        int activation)
    {
        for (int i = index; i < x.IntLength; i += stride)
            y[i] = Apply(x[i], activation);
    }

    /// <summary>
    /// Activation backward through the forward's output y: <c>dx = dy * f'(y)</c> with ReLU' = [y &gt; 0],
    /// sigmoid' = y (1 - y), tanh' = 1 - y^2 (dx may alias dy).
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="y">The forward's output.</param>
    /// <param name="dy">The gradient of the output.</param>
    /// <param name="dx">The gradient of the input (written).</param>
    /// <param name="activation">The <see cref="Activation"/> as an int.</param>
    public static void ActivationBackwardKernel(Index1D index, int stride, ArrayView<float> y, ArrayView<float> dy,
        ArrayView<float> dx, int activation)
    {
        for (int i = index; i < y.IntLength; i += stride)
            dx[i] = dy[i] * Derivative(y[i], activation);
    }

    /// <summary>
    /// Bias gradient, accumulated: <c>dbias[c] += sum_r dy[r, c]</c>. One thread per column, rows summed in order
    /// (deterministic).
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="dy">The output gradient (rows, cols).</param>
    /// <param name="dbias">The bias gradient (cols).</param>
    /// <param name="rows">Rows of dy.</param>
    public static void BiasGradientKernel(Index1D index, int stride, ArrayView<float> dy, ArrayView<float> dbias,
        int rows)
    {
        int cols = dbias.IntLength;
        for (int c = index; c < cols; c += stride)
        {
            float sum = 0f;
            for (int r = 0; r < rows; r++)
                sum += dy[r * cols + c];
            dbias[c] += sum;
        }
    }

    /// <summary>
    /// Reparameterisation: <c>z[b, j] = mu[b, j] + eps[b, j] exp(logvar[b, j] / 2)</c>, where each row of
    /// <paramref name="stats"/> (B, 2Z) holds mu in its first Z columns and the log-variance in the last Z.
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="stats">The posterior statistics (B, 2Z).</param>
    /// <param name="eps">The standard-normal noise (B, Z).</param>
    /// <param name="z">The latent sample (B, Z).</param>
    /// <param name="latent">Z.</param>
    public static void ReparameterizeKernel(Index1D index, int stride, ArrayView<float> stats, ArrayView<float> eps,
        ArrayView<float> z, int latent)
    {
        for (int i = index; i < eps.IntLength; i += stride)
        {
            int b = i / latent, j = i - b * latent;
            float mu = stats[b * 2 * latent + j];
            float logvar = stats[b * 2 * latent + latent + j];
            z[i] = mu + eps[i] * XMath.Exp(0.5f * logvar);
        }
    }

    /// <summary>
    /// Reparameterisation backward, accumulated: <c>dmu += dz</c>, <c>dlogvar += dz eps exp(logvar / 2) / 2</c>.
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="stats">The posterior statistics (B, 2Z).</param>
    /// <param name="eps">The noise used in the forward (B, Z).</param>
    /// <param name="dz">The gradient of z (B, Z).</param>
    /// <param name="dstats">The gradient of the statistics (B, 2Z).</param>
    /// <param name="latent">Z.</param>
    public static void ReparameterizeBackwardKernel(Index1D index, int stride, ArrayView<float> stats,
        ArrayView<float> eps, ArrayView<float> dz, ArrayView<float> dstats, int latent)
    {
        for (int i = index; i < eps.IntLength; i += stride)
        {
            int b = i / latent, j = i - b * latent;
            int m = b * 2 * latent + j, v = m + latent;
            float g = dz[i];
            dstats[m] += g;
            dstats[v] += g * eps[i] * 0.5f * XMath.Exp(0.5f * stats[v]);
        }
    }

    /// <summary>
    /// The whole forward of a Gaussian sample layer in one launch: eps (drawn from the counter-based stream, zero, or
    /// kept), <c>z = mu + eps exp(logvar / 2)</c>, the KL per sample
    /// <c>kl[b] = -1/2 sum_j (1 + lv - mu^2 - exp(lv))</c> with its gradient assigned to dstats
    /// (<c>dmu = scale mu</c>, <c>dlv = scale (exp(lv) - 1) / 2</c>), and, when <paramref name="slot"/> is not
    /// negative, <c>totals[slot] += sum_b kl[b]</c> as a tree over the group (fixed order). Element i of eps is the
    /// same as <see cref="RandomKernels.NormalKernel"/>'s. Launch one group of G threads (a power of two up to
    /// <see cref="ReductionKernels.MaxGroupSize"/>); thread t takes rows t, t + G, ...
    /// </summary>
    /// <param name="stats">The posterior statistics (B, 2Z): mu then log-variance in each row.</param>
    /// <param name="eps">The noise (B, Z): written when drawn or zero, read when kept.</param>
    /// <param name="z">The latent sample (B, Z).</param>
    /// <param name="kl">The KL per sample (B).</param>
    /// <param name="dstats">The gradient of the statistics (B, 2Z), assigned.</param>
    /// <param name="totals">The accumulators the batch's KL goes into.</param>
    /// <param name="latent">Z.</param>
    /// <param name="scale">The KL gradient's scale.</param>
    /// <param name="noise">The <see cref="NoiseSource"/> as an int.</param>
    /// <param name="key">The stream key from <see cref="RandomKernels.StreamKey"/> (when drawn).</param>
    /// <param name="slot">The accumulator, or -1 for none.</param>
    public static void GaussianSampleKernel(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z,
        ArrayView<float> kl, ArrayView<float> dstats, ArrayView<float> totals, int latent, float scale, int noise,
        ulong key, int slot)
    {
        var shared = SharedMemory.Allocate<float>(ReductionKernels.MaxGroupSize);
        float mine = 0f;
        for (int b = Group.IdxX; b < kl.IntLength; b += Group.DimX)
        {
            float sum = 0f;
            int row = b * 2 * latent;
            for (int j = 0; j < latent; j++)
            {
                int i = b * latent + j;
                if (noise == (int)NoiseSource.Draw)
                {
                    RandomKernels.NormalPair(key, (ulong)(i / 2), out float first, out float second);
                    eps[i] = (i & 1) == 0 ? first : second;
                }
                else if (noise == (int)NoiseSource.Zero)
                {
                    eps[i] = 0f;
                }
                float mu = stats[row + j], logvar = stats[row + latent + j];
                z[i] = mu + eps[i] * XMath.Exp(0.5f * logvar);
                float variance = XMath.Exp(logvar);
                sum += 1f + logvar - mu * mu - variance;
                dstats[row + j] = scale * mu;
                dstats[row + latent + j] = scale * 0.5f * (variance - 1f);
            }
            kl[b] = -0.5f * sum;
            mine += -0.5f * sum;
        }
        if (slot < 0)
            return;
        float total = ReductionKernels.GroupSum(shared, mine);
        if (Group.IdxX == 0)
            totals[slot] += total;
    }

    /// <summary>Applies the activation to one value.</summary>
    /// <param name="x">The input.</param>
    /// <param name="activation">The <see cref="Activation"/> as an int.</param>
    /// <returns>f(x).</returns>
    public static float Apply(float x, int activation)
    {
        if (activation == (int)Activation.Relu)
            return x > 0f ? x : 0f;
        if (activation == (int)Activation.Sigmoid)
            return 1f / (1f + XMath.Exp(-x));
        if (activation == (int)Activation.Tanh)
            return XMath.Tanh(x);
        return x;
    }

    /// <summary>The activation's derivative written through its output y.</summary>
    /// <param name="y">The activation's output.</param>
    /// <param name="activation">The <see cref="Activation"/> as an int.</param>
    /// <returns>f'(x) expressed in y.</returns>
    public static float Derivative(float y, int activation)
    {
        if (activation == (int)Activation.Relu)
            return y > 0f ? 1f : 0f;
        if (activation == (int)Activation.Sigmoid)
            return y * (1f - y);
        if (activation == (int)Activation.Tanh)
            return 1f - y * y;
        return 1f;
    }
}
