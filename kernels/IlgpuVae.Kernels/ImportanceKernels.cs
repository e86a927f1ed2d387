using ILGPU;
using ILGPU.Algorithms;

namespace IlgpuVae.Kernels;

/// <summary>
/// The multi-sample objectives (theory: docs/theory.md, "Importance-weighted bound"): K posterior samples per image,
/// laid out sample-major (row r = k B + b of a (K B, .) buffer is sample k of image b, so the rows of one sample are
/// a contiguous (B, .) block and the decoder runs on all K B rows as one batch), the per-image log weights
/// <c>w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x)</c>, their normalised weights, and the gradient back to
/// [mu | logvar]. Also the per-use Bernoulli draw of dynamic binarisation.
/// </summary>
internal static class ImportanceKernels
{
    /// <summary>
    /// K samples per image: <c>eps</c> (K B, Z) from the stream (or kept, or zero), <c>z = mu_b + exp(lv_b / 2) eps</c>
    /// and per row <c>logRatio[r] = log p(z_r) - log q(z_r|x_b) = sum_j (eps^2 - z^2 + lv) / 2</c> (the 2 pi terms
    /// cancel). Element e of eps takes the stream's value e, the layout <see cref="RandomKernels.NormalKernel"/> writes.
    /// One thread per row.
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="stats">[mu | logvar] (B, 2Z).</param>
    /// <param name="eps">The noise (K B, Z).</param>
    /// <param name="z">The samples (K B, Z), written.</param>
    /// <param name="logRatio">log p(z) - log q(z|x) per row (K B), written.</param>
    /// <param name="latent">Z.</param>
    /// <param name="noise">A <see cref="NoiseSource"/>: keep eps, draw it from <paramref name="key"/>, or zero.</param>
    /// <param name="key">The stream key.</param>
    public static void SampleKernel(Index1D index, int stride, ArrayView<float> stats, ArrayView<float> eps,
        ArrayView<float> z, ArrayView<float> logRatio, int latent, int noise, ulong key)
    {
        int images = stats.IntLength / (2 * latent);
        for (int r = index; r < logRatio.IntLength; r += stride)
        {
            int source = (r % images) * 2 * latent, row = r * latent;
            float sum = 0f, first = 0f, second = 0f;
            for (int j = 0; j < latent; j++)
            {
                int e = row + j;
                float n;
                if (noise == (int)NoiseSource.Draw)
                {
                    if (j == 0 || (e & 1) == 0)
                        RandomKernels.NormalPair(key, (ulong)(e >> 1), out first, out second);
                    n = (e & 1) == 0 ? first : second;
                    eps[e] = n;
                }
                else if (noise == (int)NoiseSource.Zero)
                {
                    n = 0f;
                    eps[e] = 0f;
                }
                else
                {
                    n = eps[e];
                }
                float logvar = stats[source + latent + j];
                float value = stats[source + j] + XMath.Exp(0.5f * logvar) * n;
                z[e] = value;
                sum += 0.5f * (n * n - value * value + logvar);
            }
            logRatio[r] = sum;
        }
    }

    /// <summary>
    /// Per image b, from the K rows' summed BCE (= -log p(x|z_k)) and log ratios: with <paramref name="importance"/>
    /// the normalised weights <c>omega_k = softmax_k(w)</c>, <c>w_k = logRatio - bce</c> (max subtracted first), the
    /// weighted reconstruction <c>sum_k omega_k bce_k</c> and the rest of the bound,
    /// <c>rest = log K - logsumexp_k(w) - reconstruction</c>; without it (K samples averaged), <c>omega_k = 1 / K</c> and
    /// the mean BCE (rest untouched: the analytic KL is the other term). One thread per image.
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="bce">Summed BCE per row (K B).</param>
    /// <param name="logRatio">log p(z) - log q(z|x) per row (K B).</param>
    /// <param name="weights">omega per row (K B), written.</param>
    /// <param name="reconstruction">Per image (B), written.</param>
    /// <param name="rest">Per image (B), written with <paramref name="importance"/>.</param>
    /// <param name="samples">K.</param>
    /// <param name="importance">1: importance weights; 0: the average.</param>
    public static void WeightsKernel(Index1D index, int stride, ArrayView<float> bce, ArrayView<float> logRatio,
        ArrayView<float> weights, ArrayView<float> reconstruction, ArrayView<float> rest, int samples, int importance)
    {
        int images = reconstruction.IntLength;
        for (int b = index; b < images; b += stride)
        {
            if (importance == 0)
            {
                float total = 0f;
                for (int k = 0; k < samples; k++)
                {
                    total += bce[k * images + b];
                    weights[k * images + b] = 1f / samples;
                }
                reconstruction[b] = total / samples;
                continue;
            }
            float max = float.NegativeInfinity;
            for (int k = 0; k < samples; k++)
                max = XMath.Max(max, logRatio[k * images + b] - bce[k * images + b]);
            float sum = 0f;
            for (int k = 0; k < samples; k++)
                sum += XMath.Exp(logRatio[k * images + b] - bce[k * images + b] - max);
            float inverse = 1f / sum, weighted = 0f;
            for (int k = 0; k < samples; k++)
            {
                int r = k * images + b;
                float omega = XMath.Exp(logRatio[r] - bce[r] - max) * inverse;
                weights[r] = omega;
                weighted += omega * bce[r];
            }
            reconstruction[b] = weighted;
            rest[b] = XMath.Log((float)samples) - (max + XMath.Log(sum)) - weighted;
        }
    }

    /// <summary><c>x[r, :] *= weights[r]</c> for x (R, C).</summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="x">The matrix (R, C), scaled in place.</param>
    /// <param name="weights">Per row (R).</param>
    /// <param name="cols">C.</param>
    public static void ScaleRowsKernel(Index1D index, int stride, ArrayView<float> x, ArrayView<float> weights, int cols)
    {
        for (int i = index; i < x.IntLength; i += stride)
            x[i] *= weights[i / cols];
    }

    /// <summary>
    /// The gradient of [mu | logvar] from the K samples' dL/dz (dz holds the decoder's path, already weighted by
    /// omega). <see cref="SampleGradient.ImportanceWeighted"/>: the prior and posterior densities' own paths join,
    /// <c>g = dz + omega z</c>, <c>dmu = sum_k g</c>, <c>dlv = sum_k g eps exp(lv / 2) / 2 - 1/2</c>, assigned.
    /// <see cref="SampleGradient.DoublyReparameterized"/>: <c>g = omega (dz + omega (z - eps exp(-lv / 2)))</c>, which is
    /// <c>-omega^2 d log w / dz</c> with log q's mu and lv held fixed, <c>dmu = sum_k g</c>,
    /// <c>dlv = sum_k g eps exp(lv / 2) / 2</c> (no -1/2: that is the score-function term DReG removes), assigned.
    /// <see cref="SampleGradient.Average"/>: <c>dmu += sum_k dz</c>, <c>dlv += sum_k dz eps exp(lv / 2) / 2</c> (added to
    /// the analytic KL's gradient). One thread per (b, j).
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="stats">[mu | logvar] (B, 2Z).</param>
    /// <param name="eps">The noise (K B, Z).</param>
    /// <param name="z">The samples (K B, Z).</param>
    /// <param name="dz">dL/dz (K B, Z).</param>
    /// <param name="weights">omega per row (K B).</param>
    /// <param name="dstats">dL/d[mu | logvar] (B, 2Z).</param>
    /// <param name="latent">Z.</param>
    /// <param name="mode">A <see cref="SampleGradient"/>.</param>
    public static void SampleBackwardKernel(Index1D index, int stride, ArrayView<float> stats, ArrayView<float> eps,
        ArrayView<float> z, ArrayView<float> dz, ArrayView<float> weights, ArrayView<float> dstats, int latent, int mode)
    {
        int images = stats.IntLength / (2 * latent), samples = weights.IntLength / images;
        for (int i = index; i < images * latent; i += stride)
        {
            int b = i / latent, j = i - b * latent, at = b * 2 * latent + j;
            float logvar = stats[at + latent];
            float inverseSigma = mode == (int)SampleGradient.DoublyReparameterized ? XMath.Exp(-0.5f * logvar) : 0f;
            float dmu = 0f, dlv = 0f, total = 0f;
            for (int k = 0; k < samples; k++)
            {
                int r = k * images + b, e = r * latent + j;
                float g = dz[e];
                if (mode == (int)SampleGradient.ImportanceWeighted)
                {
                    g += weights[r] * z[e];
                }
                else if (mode == (int)SampleGradient.Weighted)
                {
                    g += weights[r] * z[e];
                    total += weights[r];
                }
                else if (mode == (int)SampleGradient.DoublyReparameterized)
                {
                    float omega = weights[r];
                    g = omega * (g + omega * (z[e] - eps[e] * inverseSigma));
                }
                dmu += g;
                dlv += g * eps[e];
            }
            dlv *= 0.5f * XMath.Exp(0.5f * logvar);
            if (mode == (int)SampleGradient.ImportanceWeighted)
            {
                dstats[at] = dmu;
                dstats[at + latent] = dlv - 0.5f;
            }
            else if (mode == (int)SampleGradient.DoublyReparameterized)
            {
                dstats[at] = dmu;
                dstats[at + latent] = dlv;
            }
            else if (mode == (int)SampleGradient.Weighted)
            {
                dstats[at] = dmu;
                dstats[at + latent] = dlv - 0.5f * total;
            }
            else
            {
                dstats[at] += dmu;
                dstats[at + latent] += dlv;
            }
        }
    }

    /// <summary>
    /// The conditional prior's part of a two-stochastic-layer model's log ratio (theory: docs/theory.md, "Two stochastic
    /// layers"): per row r, <c>logRatio[r] += inner[r] + sum_j (z^2 - plv - (z - pmu)^2 exp(-plv)) / 2</c>, which adds
    /// <c>log N(z; pmu, exp(plv)) - log N(z; 0, I)</c> (the 2 pi terms cancel) and the upper layer's own log ratio
    /// <c>inner</c>. One thread per row.
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="prior">[pmu | plv] (R, 2Z).</param>
    /// <param name="z">The samples (R, Z).</param>
    /// <param name="inner">Added per row (R).</param>
    /// <param name="logRatio">Per row (R), added to.</param>
    /// <param name="latent">Z.</param>
    public static void PriorRatioKernel(Index1D index, int stride, ArrayView<float> prior, ArrayView<float> z,
        ArrayView<float> inner, ArrayView<float> logRatio, int latent)
    {
        for (int r = index; r < logRatio.IntLength; r += stride)
        {
            int p = r * 2 * latent, row = r * latent;
            float sum = 0f;
            for (int j = 0; j < latent; j++)
            {
                float value = z[row + j], logvar = prior[p + latent + j], d = value - prior[p + j];
                sum += 0.5f * (value * value - logvar - d * d * XMath.Exp(-logvar));
            }
            logRatio[r] += inner[r] + sum;
        }
    }

    /// <summary>
    /// The gradient of <c>-sum_r w_r [log N(z_r; pmu_r, exp(plv_r)) - log N(z_r; 0, I)]</c>: with <c>d = z - pmu</c>,
    /// <c>dpmu = -w d exp(-plv)</c>, <c>dplv = w (1 - d^2 exp(-plv)) / 2</c>, assigned, and
    /// <c>dz += -w (z - d exp(-plv))</c>. One thread per (r, j).
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="prior">[pmu | plv] (R, 2Z).</param>
    /// <param name="z">The samples (R, Z).</param>
    /// <param name="weights">w per row (R).</param>
    /// <param name="dprior">(R, 2Z), assigned.</param>
    /// <param name="dz">(R, Z), added to.</param>
    /// <param name="latent">Z.</param>
    public static void PriorRatioBackwardKernel(Index1D index, int stride, ArrayView<float> prior, ArrayView<float> z,
        ArrayView<float> weights, ArrayView<float> dprior, ArrayView<float> dz, int latent)
    {
        for (int i = index; i < dz.IntLength; i += stride)
        {
            int r = i / latent, j = i - r * latent, p = r * 2 * latent + j;
            float w = weights[r], logvar = prior[p + latent], precision = XMath.Exp(-logvar);
            float value = z[i], d = value - prior[p];
            dprior[p] = -w * d * precision;
            dprior[p + latent] = 0.5f * w * (1f - d * d * precision);
            dz[i] += -w * (value - d * precision);
        }
    }

    /// <summary>Column <paramref name="column"/> of logWeights (B, K): <c>logWeights[b, column] = logRatio[b] - reconstruction[b]</c>.</summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="logRatio">Per image (B).</param>
    /// <param name="reconstruction">Per image (B): -log p(x|z).</param>
    /// <param name="logWeights">(B, K).</param>
    /// <param name="column">The column.</param>
    /// <param name="columns">K.</param>
    public static void LogWeightColumnKernel(Index1D index, int stride, ArrayView<float> logRatio, ArrayView<float> reconstruction,
        ArrayView<float> logWeights, int column, int columns)
    {
        for (int b = index; b < logRatio.IntLength; b += stride)
            logWeights[b * columns + column] = logRatio[b] - reconstruction[b];
    }

    /// <summary>
    /// Dynamic binarisation: <c>x[i] = u_i &lt; x[i] ? 1 : 0</c> with u_i uniform on [0, 1) in steps of 2^-24 from
    /// the stream (so P(1) = x to within 2^-24), a pure function of (key, i): reproducible on every device.
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="x">Intensities in [0, 1], replaced by 0 or 1.</param>
    /// <param name="key">The stream key.</param>
    public static void BernoulliKernel(Index1D index, int stride, ArrayView<float> x, ulong key)
    {
        for (int i = index; i < x.IntLength; i += stride)
            x[i] = Uniform(key, (ulong)i) < x[i] ? 1f : 0f;
    }

    /// <summary>Uniform number i of the stream <paramref name="key"/>: a 24-bit count times 2^-24, in [0, 1).</summary>
    /// <param name="key">The stream key.</param>
    /// <param name="i">The index.</param>
    /// <returns>The number.</returns>
    public static float Uniform(ulong key, ulong i) =>
        (float)(RandomKernels.Mix(key ^ (i * 0x9FB21C651E98DF25UL + 0xC2B2AE3D27D4EB4FUL)) >> 40) * (1f / 16777216f);
}
