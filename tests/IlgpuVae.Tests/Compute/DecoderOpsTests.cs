using IlgpuVae.Kernels;
using Xunit;
using static IlgpuVae.Tests.Compute.OpsHarness;

namespace IlgpuVae.Tests.Compute;

/// <summary>The continuous Bernoulli, Gaussian and dequantisation ops against double-precision references.</summary>
[Collection(SharedDevices.Name)]
public sealed class DecoderOpsTests
{
    // Logits that reach every branch: l = 0, the series (|l| < 0.5) and its edge, the closed form, the clamp's
    // neighbourhood and beyond it, and saturated values.
    private static readonly float[] Special = [0f, 1e-4f, -3e-3f, 0.2f, -0.49f, 0.5f, 0.51f, -2f, 9f, 15.5f, -15.9f, 16.5f, -40f, 80f];

    private static float[] Logits(int length, int seed)
    {
        var x = Random(length, seed, -18, 18);
        for (int i = 0; i < Math.Min(length, Special.Length); i++)
            x[i] = Special[i];
        return x;
    }

    [Fact]
    public void LogNormalizer_EveryBranch_MatchesPaperFormulaInDouble()
    {
        foreach (float l in Special.Concat(Random(2000, 5, -20, 20)))
        {
            double expected = Reference.ContinuousBernoulliLogNormalizer(l);
            Assert.True(Math.Abs(DecoderKernels.LogNormalizer(l) - expected) <= 2e-6 * Math.Max(1, Math.Abs(expected)),
                $"log C({l}): expected {expected:R}, got {DecoderKernels.LogNormalizer(l):R}");
            double mean = Reference.ContinuousBernoulliMean(l);
            Assert.True(Math.Abs(DecoderKernels.ContinuousBernoulliMean(l) - mean) <= 2e-6,
                $"mean({l}): expected {mean:R}, got {DecoderKernels.ContinuousBernoulliMean(l):R}");
        }
        // At lambda = 1/2 the density is uniform: C = 2.
        Assert.Equal(Math.Log(2), DecoderKernels.LogNormalizer(0f), 6);
        Assert.Equal(0.5f, DecoderKernels.ContinuousBernoulliMean(0f));
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void ContinuousBernoulli_AwkwardShapesAndEveryBranch_MatchesReference(string impl)
    {
        foreach (var (rows, cols, targetRows) in new[] { (1, 1, 1), (7, 33, 7), (33, 7, 11), (12, 784, 4) })
            With(impl, (acc, ops) =>
            {
                var x = Logits(rows * cols, rows + cols);
                var t = Random(targetRows * cols, cols, 0, 1);
                using var dx = acc.Upload(x);
                using var dt = acc.Upload(t);
                using var loss = acc.Poisoned(rows);
                using var grad = acc.Poisoned(rows * cols);
                ops.ContinuousBernoulliWithLogits(dx.V(), dt.V(), loss.V(rows), grad.V(rows * cols), 0.5f);
                var repeated = Enumerable.Range(0, rows * cols).Select(i => t[i % t.Length]).ToArray();
                var (el, eg) = Reference.ContinuousBernoulli(x, repeated, cols, 0.5);
                Close(el, loss.Read(ops, rows), 2e-5, 1, "loss");
                // sigmoid(l) - t - d log C / d l: terms of order 1 that cancel, so the error is absolute.
                Close(eg, grad.Read(ops, rows * cols), 1e-5, 1, "dlogits");
            });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void Gaussian_AwkwardShapes_MatchesReference(string impl)
    {
        foreach (var (rows, cols, targetRows) in new[] { (1, 1, 1), (7, 33, 7), (33, 7, 11), (12, 784, 4) })
            With(impl, (acc, ops) =>
            {
                var means = Random(rows * cols, rows, -0.5f, 1.5f);
                var logVariance = Random(cols, cols, -8, 3);
                var t = Random(targetRows * cols, cols + 1, 0, 1);
                using var dm = acc.Upload(means);
                using var dv = acc.Upload(logVariance);
                using var dt = acc.Upload(t);
                using var loss = acc.Poisoned(rows);
                using var gradMeans = acc.Poisoned(rows * cols);
                using var gradVariance = acc.Poisoned(rows * cols);
                ops.GaussianNll(dm.V(), dv.V(cols), dt.V(targetRows * cols), loss.V(rows), gradMeans.V(rows * cols),
                    gradVariance.V(rows * cols), 2f);
                var (el, em, ev) = Reference.Gaussian(means, logVariance, t, 2);
                Close(el, loss.Read(ops, rows), 2e-5, 1, "loss");
                Close(em, gradMeans.Read(ops, rows * cols), 1e-5, 1e-2, "dmeans");
                // (1 - r^2 exp(-v)) / 2 cancels where the residual is about one standard deviation: an absolute error.
                Close(ev, gradVariance.Read(ops, rows * cols), 1e-5, 2, "dlogvar");
            });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void ContinuousBernoulliMean_MatchesReference(string impl)
    {
        With(impl, (acc, ops) =>
        {
            var x = Logits(1001, 9);
            using var dx = acc.Upload(x);
            using var means = acc.Poisoned(x.Length);
            ops.ContinuousBernoulliMean(dx.V(), means.V());
            Close(x.Select(l => Reference.ContinuousBernoulliMean(l)).ToArray(), means.Read(ops), 2e-6, 1, "mean");
        });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void Dequantize_StaysInItsPixelsBin_WithUniformOffsets(string impl)
    {
        const int length = 20_011;
        var pixels = Enumerable.Range(0, length).Select(i => (byte)(i * 37 % 256)).ToArray();
        var scaled = pixels.Select(p => p / 255f).ToArray();
        With(impl, (acc, ops) =>
        {
            using var x = acc.Upload(scaled);
            ops.Dequantize(x.V(), 5, 7);
            var values = x.Read(ops);
            var offsets = values.Select((v, i) => 256.0 * v - pixels[i]).ToArray();
            Assert.All(offsets, u => Assert.InRange(u, 0, 1));
            // Uniform offsets: mean 1/2 and variance 1/12, to a few standard errors over 20,011 draws.
            Assert.InRange(offsets.Average(), 0.49, 0.51);
            Assert.InRange(offsets.Select(u => (u - 0.5) * (u - 0.5)).Average(), 1 / 12.0 - 0.003, 1 / 12.0 + 0.003);
            // The same (seed, step) gives the same values on every implementation.
            var expected = scaled.Select((v, i) => (double)DecoderKernels.Dequantize(v, ImportanceKernels.Uniform(RandomKernels.StreamKey(5, 7), (ulong)i))).ToArray();
            Close(expected, values, 0, 0, "dequantised");
        });
    }
}
