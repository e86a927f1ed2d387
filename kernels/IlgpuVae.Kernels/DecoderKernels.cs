using ILGPU;
using ILGPU.Algorithms;

namespace IlgpuVae.Kernels;

/// <summary>
/// The decoder likelihoods beyond the Bernoulli (theory: docs/theory.md, "Continuous Bernoulli" and "Gaussian
/// decoder"): their per-row negative log densities fused with the gradients, the continuous Bernoulli's mean, and the
/// uniform dequantisation of 8-bit data. One thread per row (or element); the batch sums are a separate
/// <c>SumInto</c>. The helpers are public so that the vectorised CPU ops compute the very same formulas.
/// </summary>
internal static class DecoderKernels
{
    /// <summary>
    /// The largest logit magnitude the continuous Bernoulli sees: logit(1 - 2^-23), so that lambda stays in
    /// [2^-23, 1 - 2^-23], where PyTorch's <c>clamp_probs</c> keeps float32 probabilities. Beyond it the density, its
    /// mean and its normaliser are those at the limit, and the gradient is 0. Without the clamp the density at x = 0
    /// grows without bound as the logit falls (it tends to |l| exp(-|l| x)), and so would the likelihood of MNIST's
    /// black background.
    /// </summary>
    public const float LogitLimit = 15.942385f;

    // Below this |logit| the normaliser and the mean use their Taylor series (1 - exp(-|l|) cancels there).
    private const float SeriesLimit = 0.5f;
    private const float Log2 = 0.6931472f;

    /// <summary>
    /// log C(lambda) of the continuous Bernoulli with lambda = sigmoid(l): <c>C = 2 atanh(1 - 2 lambda) / (1 - 2 lambda)
    /// = l / tanh(l / 2)</c>, so <c>log C = log|l| + log(1 + e) - log(1 - e)</c> with <c>e = exp(-|l|)</c>, and near
    /// l = 0 (lambda = 1/2) the series <c>log 2 + l^2/12 - 7 l^4/1440 + 31 l^6/90720</c>; l is clamped to
    /// <see cref="LogitLimit"/>. No tanh: on CUDA it is an approximation good to 2^-11 only.
    /// </summary>
    /// <param name="logit">The logit l.</param>
    /// <returns>log C.</returns>
    public static float LogNormalizer(float logit)
    {
        float a = XMath.Min(XMath.Abs(logit), LogitLimit);
        if (a < SeriesLimit)
        {
            float a2 = a * a;
            return Log2 + a2 * (1f / 12f + a2 * (-7f / 1440f + a2 * (31f / 90720f)));
        }
        float e = XMath.Exp(-a);
        return XMath.Log(a) + XMath.Log(1f + e) - XMath.Log(1f - e);
    }

    /// <summary>
    /// d log C / d l for <see cref="LogNormalizer"/>: <c>sign(l) (1/|l| - 2e / (1 - e^2))</c>, the series'
    /// <c>l/6 - 7 l^3/360 + 31 l^5/15120</c> near 0, and 0 beyond the clamp.
    /// </summary>
    /// <param name="logit">The logit l.</param>
    /// <returns>The derivative.</returns>
    public static float LogNormalizerDerivative(float logit)
    {
        float a = XMath.Abs(logit);
        if (a > LogitLimit)
            return 0f;
        if (a < SeriesLimit)
        {
            float l2 = logit * logit;
            return logit * (1f / 6f + l2 * (-7f / 360f + l2 * (31f / 15120f)));
        }
        float e = XMath.Exp(-a);
        float value = 1f / a - 2f * e / (1f - e * e);
        return logit >= 0f ? value : -value;
    }

    /// <summary>
    /// The mean of the continuous Bernoulli with lambda = sigmoid(l): <c>lambda / (2 lambda - 1) + 1 / (2 atanh(1 - 2
    /// lambda)) = 1 / (1 - exp(-l)) - 1 / l</c>, the series <c>1/2 + l/12 - l^3/720 + l^5/30240 - l^7/1209600</c> for |l| &lt; 1, l clamped to
    /// <see cref="LogitLimit"/>.
    /// </summary>
    /// <param name="logit">The logit l.</param>
    /// <returns>The mean, in (0, 1).</returns>
    public static float ContinuousBernoulliMean(float logit)
    {
        float l = XMath.Max(-LogitLimit, XMath.Min(logit, LogitLimit));
        // The two terms cancel near 0 (both ~1/|l|): below |l| = 1 the series, whose next term is under 2.1e-8 there.
        if (XMath.Abs(l) < 1f)
        {
            float l2 = l * l;
            return 0.5f + l * (1f / 12f + l2 * (-1f / 720f + l2 * (1f / 30240f - l2 * (1f / 1209600f))));
        }
        return 1f / (1f - XMath.Exp(-l)) - 1f / l;
    }

    /// <summary>
    /// The continuous Bernoulli's negative log density of one value: with l the logit clamped to
    /// <see cref="LogitLimit"/>, <c>max(l, 0) - l x + log(1 + exp(-|l|)) - log C(l)</c> (the BCE on logits minus the
    /// log normaliser), and its derivative in the unclamped logit, <c>sigmoid(l) - x - d log C / d l</c> inside the
    /// clamp and 0 outside.
    /// </summary>
    /// <param name="logit">The logit.</param>
    /// <param name="x">The value in [0, 1].</param>
    /// <param name="gradient">The derivative.</param>
    /// <returns>-log p(x).</returns>
    public static float ContinuousBernoulliNll(float logit, float x, out float gradient)
    {
        float l = XMath.Max(-LogitLimit, XMath.Min(logit, LogitLimit));
        float e = XMath.Exp(-XMath.Abs(l));
        float sigmoid = l >= 0f ? 1f / (1f + e) : e / (1f + e);
        gradient = XMath.Abs(logit) <= LogitLimit ? sigmoid - x - LogNormalizerDerivative(l) : 0f;
        return XMath.Max(l, 0f) - l * x + XMath.Log(1f + e) - LogNormalizer(l);
    }

    /// <summary>
    /// The continuous Bernoulli's negative log density on logits, fused with its gradient: per row
    /// <c>loss[b] = sum_d ContinuousBernoulliNll(l, x)</c> and <c>dlogits = scale d/dl</c>
    /// (<see cref="ContinuousBernoulliNll"/>). One thread per row.
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="logits">The logits (B, D).</param>
    /// <param name="targets">The targets (T, D) in [0, 1], T dividing B: row b reads target row b mod T.</param>
    /// <param name="dlogits">The gradient (B, D), written.</param>
    /// <param name="loss">The loss per row (B), written.</param>
    /// <param name="cols">D.</param>
    /// <param name="scale">The gradient's scale.</param>
    public static void ContinuousBernoulliRowKernel(Index1D index, int stride, ArrayView<float> logits,
        ArrayView<float> targets, ArrayView<float> dlogits, ArrayView<float> loss, int cols, float scale)
    {
        for (int b = index; b < loss.IntLength; b += stride)
        {
            float sum = 0f;
            int target = b % (targets.IntLength / cols) * cols - b * cols;
            for (int i = b * cols; i < (b + 1) * cols; i++)
            {
                sum += ContinuousBernoulliNll(logits[i], targets[target + i], out float gradient);
                dlogits[i] = scale * gradient;
            }
            loss[b] = sum;
        }
    }

    /// <summary>
    /// The diagonal Gaussian's negative log density with a log-variance per dimension, fused with its gradients: per
    /// row <c>loss[b] = 1/2 sum_d [log(2 pi) + v_d + (x - m)^2 exp(-v_d)]</c>, <c>dmeans = scale (m - x) exp(-v_d)</c>
    /// and, per element (the caller sums it over rows into the log-variance's gradient),
    /// <c>dlogvar = scale (1 - (x - m)^2 exp(-v_d)) / 2</c>. One thread per row.
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="means">The decoder's means (B, D).</param>
    /// <param name="logVariance">The log-variance per dimension (D).</param>
    /// <param name="targets">The targets (T, D), T dividing B: row b reads target row b mod T.</param>
    /// <param name="dmeans">The means' gradient (B, D), written.</param>
    /// <param name="dlogVariance">The log-variance's gradient per element (B, D), written.</param>
    /// <param name="loss">The loss per row (B), written.</param>
    /// <param name="scale">The gradient's scale.</param>
    public static void GaussianRowKernel(Index1D index, int stride, ArrayView<float> means,
        ArrayView<float> logVariance, ArrayView<float> targets, ArrayView<float> dmeans, ArrayView<float> dlogVariance,
        ArrayView<float> loss, float scale)
    {
        int cols = logVariance.IntLength;
        for (int b = index; b < loss.IntLength; b += stride)
        {
            float sum = 0f;
            int row = b * cols, target = b % (targets.IntLength / cols) * cols;
            for (int d = 0; d < cols; d++)
            {
                float v = logVariance[d], precision = XMath.Exp(-v);
                float r = means[row + d] - targets[target + d];
                float weighted = r * r * precision;
                sum += GaussianLogTwoPi + v + weighted;
                dmeans[row + d] = scale * r * precision;
                dlogVariance[row + d] = scale * 0.5f * (1f - weighted);
            }
            loss[b] = 0.5f * sum;
        }
    }

    /// <summary>log(2 pi).</summary>
    public const float GaussianLogTwoPi = 1.8378771f;

    /// <summary>
    /// <c>output[i] = ContinuousBernoulliMean(logits[i])</c> (may alias).
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="logits">The logits.</param>
    /// <param name="output">The means, same length.</param>
    public static void ContinuousBernoulliMeanKernel(Index1D index, int stride, ArrayView<float> logits,
        ArrayView<float> output)
    {
        for (int i = index; i < output.IntLength; i += stride)
            output[i] = ContinuousBernoulliMean(logits[i]);
    }

    /// <summary>
    /// Uniform dequantisation of 8-bit values scaled to [0, 1] (x = p / 255), in place:
    /// <c>x[i] = (round(255 x[i]) + u_i) / 256</c> with u_i uniform in [0, 1) from the stream <paramref name="key"/>,
    /// so that a density on [0, 1] is one on the 256 bins of each pixel.
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="x">The values, replaced.</param>
    /// <param name="key">The stream key.</param>
    public static void DequantizeKernel(Index1D index, int stride, ArrayView<float> x, ulong key)
    {
        for (int i = index; i < x.IntLength; i += stride)
            x[i] = Dequantize(x[i], ImportanceKernels.Uniform(key, (ulong)i));
    }

    /// <summary>One dequantised value: <c>(round(255 x) + u) / 256</c>.</summary>
    /// <param name="x">p / 255.</param>
    /// <param name="u">Uniform in [0, 1).</param>
    /// <returns>The value in [0, 1).</returns>
    public static float Dequantize(float x, float u) => (XMath.Round(255f * x) + u) * (1f / 256f);
}
