using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using IlgpuVae.Kernels;

namespace IlgpuVae.Compute;

/// <summary>
/// <see cref="IOps"/> by vectorised host code on the CPU accelerator's own buffers, whose memory is host memory:
/// a span over <c>buffer.NativePtr</c> sees the same data the kernels would. Uses System.Numerics.Tensors, AVX-512
/// intrinsics and the packed <see cref="CpuGemm"/>, spread over every core by a <see cref="CpuWorkers"/> team.
/// Every op completes before it returns.
/// </summary>
internal sealed unsafe class CpuOps : IOps, IDisposable
{
    // Row-parallel element-wise work below this many elements stays on the calling thread.
    private const int ParallelElements = 32 * 1024;
    // A convolution's patch matrix is built for this many floats of images at a time (4 MB: cache-sized).
    private const long PatchChunkFloats = 1L << 20;
    private readonly CpuWorkers _workers;
    private readonly CpuGemm _gemm;
    // Grow-only scratch of the convolutions: the patch matrix (B OH OW, C KH KW), an activation in
    // (B, OH OW, O) order, and the weight gradient's transpose (C KH KW, O).
    private float* _patches, _pixelMajor, _weightScratch;
    private long _patchesLength, _pixelMajorLength, _weightScratchLength;

    /// <summary>Creates the ops for buffers of <paramref name="accelerator"/>.</summary>
    /// <param name="accelerator">The CPU accelerator.</param>
    public CpuOps(CPUAccelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        _workers = new CpuWorkers(Threads);
        _gemm = new CpuGemm(_workers);
    }

    /// <inheritdoc />
    public string Name => "vectorized";

    /// <summary>Threads the vectorised ops use: every core, or ILGPU_VAE_THREADS when set.</summary>
    public static int Threads =>
        int.TryParse(Environment.GetEnvironmentVariable("ILGPU_VAE_THREADS"), out int n) && n > 0 ? n : Environment.ProcessorCount;

    /// <inheritdoc />
    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, ArrayView<float> a, int lda,
        ArrayView<float> b, int ldb, float beta, ArrayView<float> c, int ldc)
    {
        OpsChecks.Gemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
        _gemm.Run(transA, transB, m, n, k, alpha, Pointer(a), lda, Pointer(b), ldb, beta, Pointer(c), ldc);
    }

    /// <inheritdoc />
    public void Fill(ArrayView<float> x, float value) => Span(x).Fill(value);

    /// <inheritdoc />
    public void BiasActivation(ArrayView<float> x, ArrayView<float> bias, Activation activation)
    {
        int rows = OpsChecks.Rows(x, bias.Length, nameof(x));
        float* px = Pointer(x), pb = Pointer(bias);
        int cols = bias.IntLength;
        bool fused = activation is Activation.Relu or Activation.Identity;
        ForRows(rows, cols, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                float* row = px + (long)r * cols;
                HostVector.AddBias(row, pb, cols, activation == Activation.Relu);
                if (!fused)
                    ApplyActivation(new Span<float>(row, cols), new Span<float>(row, cols), activation);
            }
        });
    }

    /// <inheritdoc />
    public void Activate(ArrayView<float> x, ArrayView<float> y, Activation activation)
    {
        OpsChecks.SameLength(x, y, nameof(y));
        ApplyActivation(Span(x), Span(y), activation);
    }

    /// <inheritdoc />
    public void ActivationBackward(ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, Activation activation)
    {
        OpsChecks.SameLength(y, dy, nameof(dy));
        OpsChecks.SameLength(y, dx, nameof(dx));
        float* py = Pointer(y), pdy = Pointer(dy), pdx = Pointer(dx);
        int length = y.IntLength;
        ForRows(length / 1024 + 1, 1024, (r0, r1) =>
        {
            int begin = r0 * 1024, end = Math.Min(length, r1 * 1024);
            if (begin >= end)
                return;
            var ys = new ReadOnlySpan<float>(py + begin, end - begin);
            var dys = new ReadOnlySpan<float>(pdy + begin, end - begin);
            var dxs = new Span<float>(pdx + begin, end - begin);
            switch (activation)
            {
                case Activation.Relu:
                    ReluBackward(ys, dys, dxs);
                    break;
                case Activation.Sigmoid:
                    for (int i = 0; i < ys.Length; i++) dxs[i] = dys[i] * ys[i] * (1f - ys[i]);
                    break;
                case Activation.Tanh:
                    for (int i = 0; i < ys.Length; i++) dxs[i] = dys[i] * (1f - ys[i] * ys[i]);
                    break;
                default:
                    dys.CopyTo(dxs);
                    break;
            }
        });
    }

    /// <inheritdoc />
    public void BiasGradient(ArrayView<float> dy, ArrayView<float> dbias)
    {
        int rows = OpsChecks.Rows(dy, dbias.Length, nameof(dy));
        float* db = Pointer(dbias), d = Pointer(dy);
        int cols = dbias.IntLength;
        for (int r = 0; r < rows; r++)
            HostVector.AddInto(db, d + (long)r * cols, cols);
    }

    /// <inheritdoc />
    public void Reparameterize(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z, int latent)
    {
        OpsChecks.Latent(stats, eps, z, latent);
        float* s = Pointer(stats), e = Pointer(eps), zs = Pointer(z);
        int rows = z.IntLength / latent;
        for (int b = 0; b < rows; b++)
        {
            float* mu = s + (long)b * 2 * latent, logvar = mu + latent, noise = e + (long)b * latent, code = zs + (long)b * latent;
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; j <= latent - 16; j += 16)
                    (Vector512.Load(mu + j) + Vector512.Load(noise + j) * VectorMath.Exp(0.5f * Vector512.Load(logvar + j))).Store(code + j);
            }
            for (; j < latent; j++)
                code[j] = mu[j] + noise[j] * MathF.Exp(0.5f * logvar[j]);
        }
    }

    /// <inheritdoc />
    public void ReparameterizeBackward(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> dz,
        ArrayView<float> dstats, int latent)
    {
        OpsChecks.Latent(stats, eps, dz, latent);
        OpsChecks.SameLength(stats, dstats, nameof(dstats));
        float* s = Pointer(stats), e = Pointer(eps), g = Pointer(dz), ds = Pointer(dstats);
        int rows = dz.IntLength / latent;
        for (int b = 0; b < rows; b++)
        {
            long row = (long)b * 2 * latent, at = (long)b * latent;
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; j <= latent - 16; j += 16)
                {
                    var gj = Vector512.Load(g + at + j);
                    (Vector512.Load(ds + row + j) + gj).Store(ds + row + j);
                    var sigma = VectorMath.Exp(0.5f * Vector512.Load(s + row + latent + j));
                    (Vector512.Load(ds + row + latent + j) + gj * Vector512.Load(e + at + j) * 0.5f * sigma).Store(ds + row + latent + j);
                }
            }
            for (; j < latent; j++)
            {
                ds[row + j] += g[at + j];
                ds[row + latent + j] += g[at + j] * e[at + j] * 0.5f * MathF.Exp(0.5f * s[row + latent + j]);
            }
        }
    }

    /// <inheritdoc />
    public void KlDivergence(ArrayView<float> stats, ArrayView<float> kl, ArrayView<float> dstats, int latent, float scale)
    {
        OpsChecks.Rows(stats, 2L * latent, nameof(stats));
        OpsChecks.SameLength(stats, dstats, nameof(dstats));
        if (kl.Length * 2L * latent != stats.Length)
            throw new ArgumentException($"kl has {kl.Length} rows but stats has {stats.Length / (2L * latent)}", nameof(kl));
        float* s = Pointer(stats), k = Pointer(kl), ds = Pointer(dstats);
        for (int b = 0; b < kl.IntLength; b++)
        {
            long row = (long)b * 2 * latent;
            float sum = 0f;
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                var acc = Vector512<float>.Zero;
                for (; j <= latent - 16; j += 16)
                {
                    var mu = Vector512.Load(s + row + j);
                    var logvar = Vector512.Load(s + row + latent + j);
                    var variance = VectorMath.Exp(logvar);
                    acc += Vector512<float>.One + logvar - mu * mu - variance;
                    (scale * mu).Store(ds + row + j);
                    (scale * 0.5f * (variance - Vector512<float>.One)).Store(ds + row + latent + j);
                }
                sum = Vector512.Sum(acc);
            }
            for (; j < latent; j++)
            {
                float mu = s[row + j], logvar = s[row + latent + j], variance = MathF.Exp(logvar);
                sum += 1f + logvar - mu * mu - variance;
                ds[row + j] = scale * mu;
                ds[row + latent + j] = scale * 0.5f * (variance - 1f);
            }
            k[b] = -0.5f * sum;
        }
    }

    /// <inheritdoc />
    public void BceWithLogits(ArrayView<float> logits, ArrayView<float> targets, ArrayView<float> loss,
        ArrayView<float> dlogits, float scale, ArrayView<float> totals = default, int slot = -1)
    {
        OpsChecks.SameLength(logits, dlogits, nameof(dlogits));
        int cols = OpsChecks.RepeatedTargets(logits, targets, loss);
        int rows = loss.IntLength, targetRows = targets.IntLength / cols;
        float* px = Pointer(logits), pt = Pointer(targets), pl = Pointer(loss), pd = Pointer(dlogits);
        ForRows(rows, cols, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
                pl[r] = BceRow(px + (long)r * cols, pt + (long)(r % targetRows) * cols, pd + (long)r * cols, cols, scale);
        });
        if (slot >= 0)
            SumInto(loss, totals, slot);
    }

    // One row of the fused BCE: returns sum(max(x, 0) - x t + log(1 + exp(-|x|))) and writes
    // d = scale (sigmoid(x) - t), with sigmoid from the same e = exp(-|x|) (stable for either sign).
    private static float BceRow(float* x, float* t, float* d, int cols, float scale)
    {
        int i = 0;
        float sum = 0f;
        if (Vector512.IsHardwareAccelerated)
        {
            var acc = Vector512<float>.Zero;
            var one = Vector512<float>.One;
            var s = Vector512.Create(scale);
            for (; i <= cols - 16; i += 16)
            {
                var xi = Vector512.Load(x + i);
                var ti = Vector512.Load(t + i);
                var e = VectorMath.ExpNonPositive(-Vector512.Abs(xi));
                acc += Vector512.Max(xi, Vector512<float>.Zero) - xi * ti + VectorMath.LogOneToTwo(one + e);
                var r = one / (one + e);
                var sigmoid = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(xi, Vector512<float>.Zero), r, e * r);
                (s * (sigmoid - ti)).Store(d + i);
            }
            sum = Vector512.Sum(acc);
        }
        for (; i < cols; i++)
        {
            float xi = x[i], ti = t[i], e = MathF.Exp(-MathF.Abs(xi));
            sum += MathF.Max(xi, 0f) - xi * ti + MathF.Log(1f + e);
            float sigmoid = xi >= 0f ? 1f / (1f + e) : e / (1f + e);
            d[i] = scale * (sigmoid - ti);
        }
        return sum;
    }

    /// <inheritdoc />
    public void SoftmaxCrossEntropy(ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> loss,
        ArrayView<float> dlogits, float scale)
    {
        OpsChecks.SameLength(logits, dlogits, nameof(dlogits));
        int classes = OpsChecks.Rows(logits, loss.Length, nameof(logits));
        if (labels.Length != loss.Length)
            throw new ArgumentException($"{labels.Length} labels for {loss.Length} rows", nameof(labels));
        var x = Span(logits);
        var y = Span(labels);
        var l = Span(loss);
        var d = Span(dlogits);
        for (int b = 0; b < l.Length; b++)
        {
            var row = x.Slice(b * classes, classes);
            var drow = d.Slice(b * classes, classes);
            float max = TensorPrimitives.Max(row);
            float sum = 0f;
            for (int c = 0; c < classes; c++)
                sum += MathF.Exp(row[c] - max);
            l[b] = max + MathF.Log(sum) - row[y[b]];
            for (int c = 0; c < classes; c++)
            {
                float p = MathF.Exp(row[c] - max) / sum;
                drow[c] = scale * (c == y[b] ? p - 1f : p);
            }
        }
    }

    /// <inheritdoc />
    public void RowSum(ArrayView<float> x, ArrayView<float> output, int cols, bool accumulate)
    {
        if (x.Length != output.Length * cols)
            throw new ArgumentException($"x has {x.Length} elements, not {output.Length} x {cols}", nameof(x));
        float* xs = Pointer(x), o = Pointer(output);
        for (int r = 0; r < output.IntLength; r++)
        {
            float sum = HostVector.Sum(xs + (long)r * cols, cols);
            o[r] = accumulate ? o[r] + sum : sum;
        }
    }

    /// <inheritdoc />
    public void SumInto(ArrayView<float> x, ArrayView<float> totals, int slot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, totals.IntLength);
        Pointer(totals)[slot] += HostVector.Sum(Pointer(x), x.Length);
    }

    /// <inheritdoc />
    public void Adam(ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> m, ArrayView<float> v,
        AdamStep step)
    {
        OpsChecks.SameLength(parameters, gradients, nameof(gradients));
        OpsChecks.SameLength(parameters, m, nameof(m));
        OpsChecks.SameLength(parameters, v, nameof(v));
        float* p = Pointer(parameters), g = Pointer(gradients), pm = Pointer(m), pv = Pointer(v);
        int length = parameters.IntLength;
        const int block = 4096;
        ForRows((length + block - 1) / block, block, (r0, r1) =>
        {
            int begin = r0 * block, end = Math.Min(length, r1 * block);
            if (begin < end)
                AdamRange(p + begin, g + begin, pm + begin, pv + begin, end - begin, step);
        });
    }

    private static void AdamRange(float* p, float* g, float* m, float* v, int length, AdamStep s)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var b1 = Vector512.Create(s.Beta1);
            var c1 = Vector512.Create(1f - s.Beta1);
            var b2 = Vector512.Create(s.Beta2);
            var c2 = Vector512.Create(1f - s.Beta2);
            var size = Vector512.Create(s.StepSize);
            var bias2 = Vector512.Create(s.InverseSqrtBias2);
            var eps = Vector512.Create(s.Epsilon);
            for (; i <= length - 16; i += 16)
            {
                var gi = Vector512.Load(g + i);
                var mi = b1 * Vector512.Load(m + i) + c1 * gi;
                var vi = b2 * Vector512.Load(v + i) + c2 * gi * gi;
                mi.Store(m + i);
                vi.Store(v + i);
                (Vector512.Load(p + i) - size * mi / (Vector512.Sqrt(vi) * bias2 + eps)).Store(p + i);
                Vector512<float>.Zero.Store(g + i);
            }
        }
        for (; i < length; i++)
        {
            float gi = g[i];
            float mi = s.Beta1 * m[i] + (1f - s.Beta1) * gi;
            float vi = s.Beta2 * v[i] + (1f - s.Beta2) * gi * gi;
            m[i] = mi;
            v[i] = vi;
            p[i] -= s.StepSize * mi / (MathF.Sqrt(vi) * s.InverseSqrtBias2 + s.Epsilon);
            g[i] = 0f;
        }
    }

    /// <inheritdoc />
    public void ImportanceLogWeight(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z,
        ArrayView<float> reconstruction, ArrayView<float> logWeights, int latent, int column)
    {
        int columns = OpsChecks.LogWeights(stats, eps, z, reconstruction, logWeights, latent, column);
        var s = Span(stats);
        var e = Span(eps);
        var zs = Span(z);
        var recon = Span(reconstruction);
        var w = Span(logWeights);
        for (int b = 0; b < recon.Length; b++)
        {
            // sum_j (logvar_j + eps_j^2 - z_j^2) as three vector reductions over the row.
            var logvar = s.Slice(b * 2 * latent + latent, latent);
            var noise = e.Slice(b * latent, latent);
            var sample = zs.Slice(b * latent, latent);
            float sum = TensorPrimitives.Sum(logvar) + TensorPrimitives.SumOfSquares(noise) - TensorPrimitives.SumOfSquares(sample);
            w[b * columns + column] = 0.5f * sum - recon[b];
        }
    }

    /// <inheritdoc />
    public void RowLogSumExp(ArrayView<float> x, ArrayView<float> output, int cols)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        if (x.Length != output.Length * cols)
            throw new ArgumentException($"x has {x.Length} elements, not {output.Length} x {cols}", nameof(x));
        float* px = Pointer(x), po = Pointer(output);
        int rows = output.IntLength;
        ForRows(rows, cols, (r0, r1) =>
        {
            var shifted = new float[cols];
            for (int r = r0; r < r1; r++)
            {
                var row = new ReadOnlySpan<float>(px + (long)r * cols, cols);
                float max = TensorPrimitives.Max(row);
                if (max == float.NegativeInfinity)
                {
                    po[r] = max;
                    continue;
                }
                // M + log sum exp(x - M): every exponent <= 0, the sum >= 1.
                TensorPrimitives.Subtract(row, max, shifted);
                TensorPrimitives.Exp(shifted, shifted);
                po[r] = max + MathF.Log(TensorPrimitives.Sum(shifted));
            }
        });
    }

    /// <inheritdoc />
    public void ImportanceSample(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z, ArrayView<float> logRatio,
        int latent, NoiseSource noise, ulong seed, ulong step)
    {
        var (images, _) = OpsChecks.Samples(stats, eps, z, logRatio, latent);
        if (noise == NoiseSource.Draw)
            Normal(eps, seed, step);
        else if (noise == NoiseSource.Zero)
            Fill(eps, 0f);
        float* s = Pointer(stats), e = Pointer(eps), code = Pointer(z), ratio = Pointer(logRatio);
        // Rows are independent: split over the workers, each row's arithmetic as before.
        ForRows(logRatio.IntLength, latent, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                long source = (long)(r % images) * 2 * latent, row = (long)r * latent;
                float sum = 0f;
                for (int j = 0; j < latent; j++)
                {
                    float n = e[row + j], logvar = s[source + latent + j];
                    float value = s[source + j] + MathF.Exp(0.5f * logvar) * n;
                    code[row + j] = value;
                    sum += 0.5f * (n * n - value * value + logvar);
                }
                ratio[r] = sum;
            }
        });
    }

    /// <inheritdoc />
    public void ImportanceWeights(ArrayView<float> bce, ArrayView<float> logRatio, ArrayView<float> weights,
        ArrayView<float> reconstruction, ArrayView<float> rest, bool importance)
    {
        int samples = OpsChecks.ImportanceWeights(bce, logRatio, weights, reconstruction, rest);
        int images = reconstruction.IntLength;
        float* l = Pointer(bce), q = Pointer(logRatio), w = Pointer(weights), rec = Pointer(reconstruction), o = Pointer(rest);
        for (int b = 0; b < images; b++)
        {
            if (!importance)
            {
                float total = 0f;
                for (int k = 0; k < samples; k++)
                {
                    total += l[k * images + b];
                    w[k * images + b] = 1f / samples;
                }
                rec[b] = total / samples;
                continue;
            }
            float max = float.NegativeInfinity;
            for (int k = 0; k < samples; k++)
                max = MathF.Max(max, q[k * images + b] - l[k * images + b]);
            float sum = 0f;
            for (int k = 0; k < samples; k++)
                sum += MathF.Exp(q[k * images + b] - l[k * images + b] - max);
            float inverse = 1f / sum, weighted = 0f;
            for (int k = 0; k < samples; k++)
            {
                int r = k * images + b;
                float omega = MathF.Exp(q[r] - l[r] - max) * inverse;
                w[r] = omega;
                weighted += omega * l[r];
            }
            rec[b] = weighted;
            o[b] = MathF.Log(samples) - (max + MathF.Log(sum)) - weighted;
        }
    }

    /// <inheritdoc />
    public void ScaleRows(ArrayView<float> x, ArrayView<float> weights)
    {
        int cols = OpsChecks.Rows(x, weights.Length, nameof(x));
        float* px = Pointer(x), w = Pointer(weights);
        ForRows(weights.IntLength, cols, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
                TensorPrimitives.Multiply(new ReadOnlySpan<float>(px + (long)r * cols, cols), w[r], new Span<float>(px + (long)r * cols, cols));
        });
    }

    /// <inheritdoc />
    public void PriorLogRatio(ArrayView<float> prior, ArrayView<float> z, ArrayView<float> inner, ArrayView<float> logRatio, int latent)
    {
        OpsChecks.PriorRatio(prior, z, inner, logRatio, latent);
        float* p = Pointer(prior), code = Pointer(z), add = Pointer(inner), ratio = Pointer(logRatio);
        ForRows(logRatio.IntLength, latent, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                long at = (long)r * 2 * latent, row = (long)r * latent;
                float sum = 0f;
                for (int j = 0; j < latent; j++)
                {
                    float value = code[row + j], logvar = p[at + latent + j], d = value - p[at + j];
                    sum += 0.5f * (value * value - logvar - d * d * MathF.Exp(-logvar));
                }
                ratio[r] += add[r] + sum;
            }
        });
    }

    /// <inheritdoc />
    public void PriorLogRatioBackward(ArrayView<float> prior, ArrayView<float> z, ArrayView<float> weights, ArrayView<float> dprior,
        ArrayView<float> dz, int latent)
    {
        OpsChecks.PriorRatio(prior, z, weights, weights, latent);
        OpsChecks.SameLength(prior, dprior, nameof(dprior));
        OpsChecks.SameLength(z, dz, nameof(dz));
        float* p = Pointer(prior), code = Pointer(z), w = Pointer(weights), dp = Pointer(dprior), g = Pointer(dz);
        ForRows(weights.IntLength, latent, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
                for (int j = 0; j < latent; j++)
                {
                    long i = (long)r * latent + j, at = (long)r * 2 * latent + j;
                    float weight = w[r], logvar = p[at + latent], precision = MathF.Exp(-logvar);
                    float value = code[i], d = value - p[at];
                    dp[at] = -weight * d * precision;
                    dp[at + latent] = 0.5f * weight * (1f - d * d * precision);
                    g[i] += -weight * (value - d * precision);
                }
        });
    }

    /// <inheritdoc />
    public void LogWeightColumn(ArrayView<float> logRatio, ArrayView<float> reconstruction, ArrayView<float> logWeights, int column)
    {
        int columns = OpsChecks.LogWeightColumn(logRatio, reconstruction, logWeights, column);
        float* q = Pointer(logRatio), rec = Pointer(reconstruction), w = Pointer(logWeights);
        for (int b = 0; b < logRatio.IntLength; b++)
            w[(long)b * columns + column] = q[b] - rec[b];
    }

    /// <inheritdoc />
    public void ImportanceSampleBackward(ArrayView<float> stats, ArrayView<float> eps, ArrayView<float> z, ArrayView<float> dz,
        ArrayView<float> weights, ArrayView<float> dstats, int latent, SampleGradient mode)
    {
        var (images, samples) = OpsChecks.Samples(stats, eps, z, weights, latent);
        OpsChecks.SameLength(z, dz, nameof(dz));
        OpsChecks.SameLength(stats, dstats, nameof(dstats));
        if (!Enum.IsDefined(mode))
            throw new ArgumentOutOfRangeException(nameof(mode), $"unknown sample gradient {(int)mode}");
        float* s = Pointer(stats), e = Pointer(eps), code = Pointer(z), g = Pointer(dz), w = Pointer(weights), ds = Pointer(dstats);
        for (int b = 0; b < images; b++)
        {
            for (int j = 0; j < latent; j++)
            {
                long at = (long)b * 2 * latent + j;
                float logvar = s[at + latent];
                float inverseSigma = mode == SampleGradient.DoublyReparameterized ? MathF.Exp(-0.5f * logvar) : 0f;
                float dmu = 0f, dlv = 0f, total = 0f;
                for (int k = 0; k < samples; k++)
                {
                    int r = k * images + b;
                    long i = (long)r * latent + j;
                    float grad = g[i];
                    if (mode == SampleGradient.ImportanceWeighted)
                    {
                        grad += w[r] * code[i];
                    }
                    else if (mode == SampleGradient.Weighted)
                    {
                        grad += w[r] * code[i];
                        total += w[r];
                    }
                    else if (mode == SampleGradient.DoublyReparameterized)
                    {
                        // -omega^2 d log w / dz with log q's parameters held: dz already carries one omega.
                        float omega = w[r];
                        grad = omega * (grad + omega * (code[i] - e[i] * inverseSigma));
                    }
                    dmu += grad;
                    dlv += grad * e[i];
                }
                dlv *= 0.5f * MathF.Exp(0.5f * logvar);
                if (mode == SampleGradient.ImportanceWeighted)
                {
                    ds[at] = dmu;
                    ds[at + latent] = dlv - 0.5f;
                }
                else if (mode == SampleGradient.DoublyReparameterized)
                {
                    ds[at] = dmu;
                    ds[at + latent] = dlv;
                }
                else if (mode == SampleGradient.Weighted)
                {
                    ds[at] = dmu;
                    ds[at + latent] = dlv - 0.5f * total;
                }
                else
                {
                    ds[at] += dmu;
                    ds[at + latent] += dlv;
                }
            }
        }
    }

    /// <inheritdoc />
    public void Bernoulli(ArrayView<float> x, ulong seed, ulong step)
    {
        float* px = Pointer(x);
        ulong key = RandomKernels.StreamKey(seed, step);
        ForRows(x.IntLength, 1, (i0, i1) =>
        {
            for (int i = i0; i < i1; i++)
                px[i] = ImportanceKernels.Uniform(key, (ulong)i) < px[i] ? 1f : 0f;
        });
    }

    /// <inheritdoc />
    public void Dequantize(ArrayView<float> x, ulong seed, ulong step)
    {
        float* px = Pointer(x);
        ulong key = RandomKernels.StreamKey(seed, step);
        ForRows(x.IntLength, 1, (i0, i1) =>
        {
            for (int i = i0; i < i1; i++)
                px[i] = DecoderKernels.Dequantize(px[i], ImportanceKernels.Uniform(key, (ulong)i));
        });
    }

    /// <inheritdoc />
    public void ContinuousBernoulliWithLogits(ArrayView<float> logits, ArrayView<float> targets, ArrayView<float> loss,
        ArrayView<float> dlogits, float scale)
    {
        OpsChecks.SameLength(logits, dlogits, nameof(dlogits));
        int cols = OpsChecks.RepeatedTargets(logits, targets, loss);
        int rows = loss.IntLength, targetRows = targets.IntLength / cols;
        float* px = Pointer(logits), pt = Pointer(targets), pl = Pointer(loss), pd = Pointer(dlogits);
        ForRows(rows, cols, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                // Scalar: the clamp and the normaliser's branches do not vectorise.
                float* x = px + (long)r * cols, t = pt + (long)(r % targetRows) * cols, d = pd + (long)r * cols;
                float sum = 0f;
                for (int i = 0; i < cols; i++)
                {
                    sum += DecoderKernels.ContinuousBernoulliNll(x[i], t[i], out float gradient);
                    d[i] = scale * gradient;
                }
                pl[r] = sum;
            }
        });
    }

    /// <inheritdoc />
    public void GaussianNll(ArrayView<float> means, ArrayView<float> logVariance, ArrayView<float> targets,
        ArrayView<float> loss, ArrayView<float> dmeans, ArrayView<float> dlogVariance, float scale)
    {
        int cols = OpsChecks.GaussianNll(means, logVariance, targets, loss, dmeans, dlogVariance);
        int rows = loss.IntLength, targetRows = targets.IntLength / cols;
        float* pm = Pointer(means), pv = Pointer(logVariance), pt = Pointer(targets), pl = Pointer(loss);
        float* pd = Pointer(dmeans), pdv = Pointer(dlogVariance);
        ForRows(rows, cols, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                long row = (long)r * cols;
                float* t = pt + (long)(r % targetRows) * cols;
                float sum = 0f;
                for (int i = 0; i < cols; i++)
                {
                    float precision = MathF.Exp(-pv[i]), residual = pm[row + i] - t[i];
                    float weighted = residual * residual * precision;
                    sum += DecoderKernels.GaussianLogTwoPi + pv[i] + weighted;
                    pd[row + i] = scale * residual * precision;
                    pdv[row + i] = scale * 0.5f * (1f - weighted);
                }
                pl[r] = 0.5f * sum;
            }
        });
    }

    /// <inheritdoc />
    public void ContinuousBernoulliMean(ArrayView<float> logits, ArrayView<float> means)
    {
        OpsChecks.SameLength(logits, means, nameof(means));
        float* px = Pointer(logits), pm = Pointer(means);
        ForRows(logits.IntLength, 1, (i0, i1) =>
        {
            for (int i = i0; i < i1; i++)
                pm[i] = DecoderKernels.ContinuousBernoulliMean(px[i]);
        });
    }

    /// <inheritdoc />
    public void Normal(ArrayView<float> output, ulong seed, ulong step)
    {
        var o = Span(output);
        ulong key = RandomKernels.StreamKey(seed, step);
        for (int p = 0; 2 * p < o.Length; p++)
        {
            HostRandom.NormalPair(key, (ulong)p, out float first, out float second);
            o[2 * p] = first;
            if (2 * p + 1 < o.Length)
                o[2 * p + 1] = second;
        }
    }

    /// <inheritdoc />
    public void GatherImages(ArrayView<byte> images, ArrayView<int> order, int start, ArrayView<float> batch, int features)
    {
        byte* img = Address(images);
        GatherEach(images.Length, order, start, batch, features, (source, destination) => BytesToUnit(img + source, destination, features));
    }

    /// <inheritdoc />
    public void GatherRows(ArrayView<float> rows, ArrayView<int> order, int start, ArrayView<float> batch, int features)
    {
        float* src = Pointer(rows);
        GatherEach(rows.Length, order, start, batch, features,
            (source, destination) => new ReadOnlySpan<float>(src + source, features).CopyTo(new Span<float>(destination, features)));
    }

    // Copies row order[start + r] of a source of sourceLength values (its offset given to copy) into batch row r.
    private delegate void RowCopy(long sourceOffset, float* destination);

    private void GatherEach(long sourceLength, ArrayView<int> order, int start, ArrayView<float> batch, int features, RowCopy copy)
    {
        int rows = OpsChecks.Rows(batch, features, nameof(batch));
        OpsChecks.Gather((int)(sourceLength / Math.Max(1, features)), order.Length, start, rows);
        int* ord = Address(order);
        float* o = Pointer(batch);
        ForRows(rows, features, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
                copy((long)ord[start + r] * features, o + (long)r * features);
        });
    }

    // dst[i] = src[i] / 255, sixteen pixels at a time (zero-extend bytes to ints, convert, scale).
    private static void BytesToUnit(byte* src, float* dst, int length)
    {
        const float inverse = 1f / 255f;
        int i = 0;
        if (Avx512F.IsSupported)
        {
            var scale = Vector512.Create(inverse);
            for (; i <= length - 16; i += 16)
                (Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(src + i))) * scale).Store(dst + i);
        }
        for (; i < length; i++)
            dst[i] = src[i] * inverse;
    }

    /// <inheritdoc />
    public void GatherLabels(ArrayView<byte> labels, ArrayView<int> order, int start, ArrayView<int> output)
    {
        OpsChecks.Gather(labels.Length, order.Length, start, output.IntLength);
        var l = Span(labels);
        var ord = Span(order);
        var o = Span(output);
        for (int r = 0; r < o.Length; r++)
            o[r] = l[ord[start + r]];
    }

    /// <inheritdoc />
    public void OneHotConcat(ArrayView<float> x, ArrayView<int> labels, ArrayView<float> output, int features, int classes)
    {
        int rows = OpsChecks.Rows(x, features, nameof(x));
        if (labels.Length != rows || output.Length != (long)rows * (features + classes))
            throw new ArgumentException($"one-hot concat of {rows} rows: {labels.Length} labels, output of {output.Length}");
        var xs = Span(x);
        var l = Span(labels);
        var o = Span(output);
        int width = features + classes;
        for (int r = 0; r < rows; r++)
        {
            xs.Slice(r * features, features).CopyTo(o.Slice(r * width, features));
            var hot = o.Slice(r * width + features, classes);
            hot.Clear();
            if ((uint)l[r] < (uint)classes)
                hot[l[r]] = 1f;
        }
    }

    /// <summary>
    /// im2col with the GEMM: the patches P (B OH OW, C KH KW), one row per output pixel, then
    /// <c>Y' = P W^T</c> (B OH OW, O) and Y' transposed per image into y (B, O, OH OW). Images go in chunks whose
    /// patches fit a few megabytes, so the GEMM reads them back from cache and the scratch stays small.
    /// </summary>
    /// <inheritdoc />
    public void Conv2d(ArrayView<float> x, ArrayView<float> weight, ArrayView<float> y, ConvShape shape)
    {
        OpsChecks.Conv(shape, x, weight, y);
        int patch = PatchLength(shape), o = shape.OutChannels, outPixels = shape.OutHeight * shape.OutWidth;
        long imageLength = (long)shape.InChannels * shape.InHeight * shape.InWidth;
        float* px = Pointer(x), pw = Pointer(weight), py = Pointer(y);
        foreach (var (first, count) in Chunks(shape))
        {
            int pixels = count * outPixels;
            float* patches = ImageToRows(px + first * imageLength, shape.WithBatch(count));
            float* pixelMajor = Grow(ref _pixelMajor, ref _pixelMajorLength, (long)pixels * o);
            _gemm.Run(false, true, pixels, o, patch, 1f, patches, patch, pw, patch, 0f, pixelMajor, o);
            TransposeImages(pixelMajor, py + (long)first * o * outPixels, count, outPixels, o);
        }
    }

    /// <summary>
    /// col2im with the GEMM: dy transposed per image to (B OH OW, O), <c>dP = dY' W</c> (B OH OW, C KH KW), and
    /// every patch element added back to the pixel it came from; in chunks of images like <see cref="Conv2d"/>.
    /// </summary>
    /// <inheritdoc />
    public void Conv2dTransposed(ArrayView<float> y, ArrayView<float> weight, ArrayView<float> x, ConvShape shape)
    {
        OpsChecks.Conv(shape, x, weight, y);
        int patch = PatchLength(shape), o = shape.OutChannels, outPixels = shape.OutHeight * shape.OutWidth;
        long imageLength = (long)shape.InChannels * shape.InHeight * shape.InWidth;
        float* px = Pointer(x), pw = Pointer(weight), py = Pointer(y);
        foreach (var (first, count) in Chunks(shape))
        {
            int pixels = count * outPixels;
            float* pixelMajor = Grow(ref _pixelMajor, ref _pixelMajorLength, (long)pixels * o);
            TransposeImages(py + (long)first * o * outPixels, pixelMajor, count, o, outPixels);
            float* patches = Grow(ref _patches, ref _patchesLength, (long)pixels * patch);
            _gemm.Run(false, false, pixels, patch, o, 1f, pixelMajor, o, pw, patch, 0f, patches, patch);
            RowsToImage(patches, px + first * imageLength, shape.WithBatch(count));
        }
    }

    /// <summary>
    /// The patches P of x and dy transposed per image to dY' (B OH OW, O), then <c>G = P^T dY'</c> (C KH KW, O),
    /// summed over chunks of images, and <c>dw += G^T</c>.
    /// </summary>
    /// <inheritdoc />
    public void Conv2dWeightGradient(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dweight, ConvShape shape)
    {
        OpsChecks.Conv(shape, x, dweight, dy);
        if (shape.Batch == 0)
            return;
        int patch = PatchLength(shape), o = shape.OutChannels, outPixels = shape.OutHeight * shape.OutWidth;
        long imageLength = (long)shape.InChannels * shape.InHeight * shape.InWidth;
        float* px = Pointer(x), pdy = Pointer(dy);
        float* g = Grow(ref _weightScratch, ref _weightScratchLength, (long)patch * o);
        bool firstChunk = true;
        foreach (var (first, count) in Chunks(shape))
        {
            int pixels = count * outPixels;
            float* patches = ImageToRows(px + first * imageLength, shape.WithBatch(count));
            float* pixelMajor = Grow(ref _pixelMajor, ref _pixelMajorLength, (long)pixels * o);
            TransposeImages(pdy + (long)first * o * outPixels, pixelMajor, count, o, outPixels);
            _gemm.Run(true, false, patch, o, pixels, 1f, patches, patch, pixelMajor, o, firstChunk ? 0f : 1f, g, o);
            firstChunk = false;
        }
        float* dw = Pointer(dweight);
        for (int oo = 0; oo < o; oo++)
            for (int k = 0; k < patch; k++)
                dw[(long)oo * patch + k] += g[(long)k * o + oo];
    }

    // Consecutive runs of images whose patch matrix holds at most about PatchChunkFloats (at least one image).
    private static IEnumerable<(int First, int Count)> Chunks(ConvShape s)
    {
        long perImage = (long)s.OutHeight * s.OutWidth * PatchLength(s);
        int size = (int)Math.Clamp(PatchChunkFloats / Math.Max(1, perImage), 1, Math.Max(1, s.Batch));
        for (int first = 0; first < s.Batch; first += size)
            yield return (first, Math.Min(size, s.Batch - first));
    }

    /// <inheritdoc />
    public void ChannelBiasActivation(ArrayView<float> x, ArrayView<float> bias, int spatial, Activation activation)
    {
        int channels = bias.IntLength;
        int planes = OpsChecks.Channels(x, channels, spatial, nameof(x)) * channels;
        float* px = Pointer(x), pb = Pointer(bias);
        ForRows(planes, spatial, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                float* plane = px + (long)r * spatial;
                AddScalar(plane, pb[r % channels], spatial, activation == Activation.Relu);
                if (activation is not (Activation.Relu or Activation.Identity))
                    ApplyActivation(new Span<float>(plane, spatial), new Span<float>(plane, spatial), activation);
            }
        });
    }

    /// <inheritdoc />
    public void ChannelBiasGradient(ArrayView<float> dy, ArrayView<float> dbias, int spatial)
    {
        int channels = dbias.IntLength;
        int planes = OpsChecks.Channels(dy, channels, spatial, nameof(dy)) * channels;
        float* pd = Pointer(dy), pb = Pointer(dbias);
        for (int r = 0; r < planes; r++)
            pb[r % channels] += HostVector.Sum(pd + (long)r * spatial, spatial);
    }

    /// <inheritdoc />
    public void Synchronize()
    {
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _gemm.Dispose();
        _workers.Dispose();
        NativeMemory.AlignedFree(_patches);
        NativeMemory.AlignedFree(_pixelMajor);
        NativeMemory.AlignedFree(_weightScratch);
        _patches = _pixelMajor = _weightScratch = null;
    }

    private static int PatchLength(ConvShape s) => s.InChannels * s.KernelHeight * s.KernelWidth;

    // Grow-only native scratch; ops run one at a time, so one buffer per role suffices.
    private static float* Grow(ref float* buffer, ref long capacity, long length)
    {
        if (length > capacity)
        {
            NativeMemory.AlignedFree(buffer);
            buffer = (float*)NativeMemory.AlignedAlloc((nuint)(length * sizeof(float)), 64);
            capacity = length;
        }
        return buffer;
    }

    // im2col as rows: P[(b, u, v), (c, i, j)] = x[b, c, u S - P + i, v S - P + j], zero outside. Images in parallel.
    private float* ImageToRows(float* x, ConvShape s)
    {
        int patch = PatchLength(s), outPixels = s.OutHeight * s.OutWidth, imageLength = s.InChannels * s.InHeight * s.InWidth;
        float* patches = Grow(ref _patches, ref _patchesLength, (long)s.Batch * outPixels * patch);
        ForRows(s.Batch, outPixels * patch, (b0, b1) =>
        {
            for (int b = b0; b < b1; b++)
            {
                float* image = x + (long)b * imageLength;
                float* row = patches + (long)b * outPixels * patch;
                for (int u = 0; u < s.OutHeight; u++)
                {
                    for (int v = 0; v < s.OutWidth; v++, row += patch)
                    {
                        int top = u * s.Stride - s.Padding, left = v * s.Stride - s.Padding;
                        bool inside = left >= 0 && left + s.KernelWidth <= s.InWidth;
                        float* r = row;
                        for (int c = 0; c < s.InChannels; c++)
                        {
                            float* plane = image + (long)c * s.InHeight * s.InWidth;
                            for (int i = 0; i < s.KernelHeight; i++, r += s.KernelWidth)
                            {
                                int h = top + i;
                                if (h < 0 || h >= s.InHeight)
                                {
                                    new Span<float>(r, s.KernelWidth).Clear();
                                    continue;
                                }
                                float* source = plane + (long)h * s.InWidth + left;
                                if (inside && s.KernelWidth == 4)
                                {
                                    // The conv VAE's kernel: one 128-bit copy per kernel row.
                                    Vector128.Load(source).Store(r);
                                }
                                else if (inside)
                                {
                                    for (int j = 0; j < s.KernelWidth; j++)
                                        r[j] = source[j];
                                }
                                else
                                {
                                    for (int j = 0; j < s.KernelWidth; j++)
                                        r[j] = (uint)(left + j) < (uint)s.InWidth ? source[j] : 0f;
                                }
                            }
                        }
                    }
                }
            }
        });
        return patches;
    }

    // col2im from rows: x[b, c, h, q] = sum of the patch elements taken from it (assigned). Images in parallel.
    private void RowsToImage(float* patches, float* x, ConvShape s)
    {
        int patch = PatchLength(s), outPixels = s.OutHeight * s.OutWidth, imageLength = s.InChannels * s.InHeight * s.InWidth;
        ForRows(s.Batch, outPixels * patch, (b0, b1) =>
        {
            for (int b = b0; b < b1; b++)
            {
                float* image = x + (long)b * imageLength;
                new Span<float>(image, imageLength).Clear();
                float* row = patches + (long)b * outPixels * patch;
                for (int u = 0; u < s.OutHeight; u++)
                {
                    for (int v = 0; v < s.OutWidth; v++, row += patch)
                    {
                        int top = u * s.Stride - s.Padding, left = v * s.Stride - s.Padding;
                        bool inside = left >= 0 && left + s.KernelWidth <= s.InWidth;
                        float* r = row;
                        for (int c = 0; c < s.InChannels; c++)
                        {
                            float* plane = image + (long)c * s.InHeight * s.InWidth;
                            for (int i = 0; i < s.KernelHeight; i++, r += s.KernelWidth)
                            {
                                int h = top + i;
                                if (h < 0 || h >= s.InHeight)
                                    continue;
                                float* target = plane + (long)h * s.InWidth + left;
                                if (inside && s.KernelWidth == 4)
                                {
                                    (Vector128.Load(target) + Vector128.Load(r)).Store(target);
                                    continue;
                                }
                                for (int j = 0; j < s.KernelWidth; j++)
                                    if ((uint)(left + j) < (uint)s.InWidth)
                                        target[j] += r[j];
                            }
                        }
                    }
                }
            }
        });
    }

    // dst[b, c, r] = src[b, r, c] for every image b of a (rows, cols) matrix. Images in parallel.
    private void TransposeImages(float* src, float* dst, int batch, int rows, int cols)
    {
        long size = (long)rows * cols;
        ForRows(batch, (int)size, (b0, b1) =>
        {
            for (int b = b0; b < b1; b++)
                Transpose(src + b * size, dst + b * size, rows, cols);
        });
    }

    // d[c * rows + r] = s[r * cols + c]: 8 x 8 blocks through registers, the edges element by element.
    private static void Transpose(float* s, float* d, int rows, int cols)
    {
        int r0 = 0;
        if (Avx.IsSupported)
        {
            for (; r0 <= rows - 8; r0 += 8)
            {
                int c0 = 0;
                for (; c0 <= cols - 8; c0 += 8)
                    CpuGemm.Transpose8x8(s + (long)r0 * cols + c0, cols, d + (long)c0 * rows + r0, rows);
                for (; c0 < cols; c0++)
                    for (int r = r0; r < r0 + 8; r++)
                        d[(long)c0 * rows + r] = s[(long)r * cols + c0];
            }
        }
        for (int r = r0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                d[(long)c * rows + r] = s[(long)r * cols + c];
    }

    private static void AddScalar(float* x, float bias, int length, bool relu)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var b = Vector512.Create(bias);
            for (; i <= length - 16; i += 16)
            {
                var v = Vector512.Load(x + i) + b;
                (relu ? Vector512.Max(v, Vector512<float>.Zero) : v).Store(x + i);
            }
        }
        for (; i < length; i++)
        {
            float v = x[i] + bias;
            x[i] = relu && v < 0f ? 0f : v;
        }
    }

    private static void ApplyActivation(ReadOnlySpan<float> x, Span<float> y, Activation activation)
    {
        switch (activation)
        {
            case Activation.Relu:
                fixed (float* px = x, py = y)
                    HostVector.Relu(px, py, x.Length);
                break;
            case Activation.Sigmoid:
                TensorPrimitives.Sigmoid(x, y);
                break;
            case Activation.Tanh:
                TensorPrimitives.Tanh(x, y);
                break;
            default:
                x.CopyTo(y);
                break;
        }
    }

    private static void ReluBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            fixed (float* py = y, pdy = dy, pdx = dx)
            {
                for (; i <= y.Length - 16; i += 16)
                {
                    var mask = Vector512.GreaterThan(Vector512.Load(py + i), Vector512<float>.Zero);
                    (Vector512.Load(pdy + i) & mask).Store(pdx + i);
                }
            }
        }
        for (; i < y.Length; i++)
            dx[i] = y[i] > 0f ? dy[i] : 0f;
    }

    // Splits rows into chunks for the team when the work is large enough to pay for the hand-off.
    private void ForRows(int rows, int cols, Action<int, int> body)
    {
        if ((long)rows * cols < ParallelElements || _workers.Count == 1)
        {
            body(0, rows);
            return;
        }
        int chunks = Math.Min(rows, 4 * _workers.Count);
        _workers.For(chunks, chunk => body(rows * chunk / chunks, rows * (chunk + 1) / chunks));
    }

    private static float* Pointer(ArrayView<float> view) => Address(view);

    private static Span<T> Span<T>(ArrayView<T> view) where T : unmanaged => new(Address(view), view.IntLength);

    // The view's buffer and index are explicit interface members; a constrained generic call reads them
    // without boxing the view.
    private static T* Address<T>(ArrayView<T> view) where T : unmanaged => (T*)BufferOf(view).NativePtr + IndexOf(view);

    private static MemoryBuffer BufferOf<TView>(TView view) where TView : IArrayView => view.Buffer;

    private static long IndexOf<TView>(TView view) where TView : IContiguousArrayView => view.Index;
}
