using IlgpuVae.Kernels;
using Xunit;
using static IlgpuVae.Tests.Compute.OpsHarness;

namespace IlgpuVae.Tests.Compute;

/// <summary>
/// The multi-sample ops (K posterior samples per image, sample-major) and dynamic binarisation against
/// double-precision references written from their definitions, on awkward shapes (odd Z splits the noise's pairs
/// across rows; K = 1; one image).
/// </summary>
public sealed class ImportanceOpsTests
{
    private static readonly (int Images, int Samples, int Latent)[] Shapes = [(1, 1, 1), (3, 5, 7), (17, 4, 50), (2, 3, 1), (5, 1, 3)];

    // Posterior statistics with log-variances in [-3, 1.5]: near-deterministic to broad.
    private static float[] Stats(int images, int latent, int seed)
    {
        var stats = Random(images * 2 * latent, seed, -2, 2);
        for (int b = 0; b < images; b++)
            for (int j = 0; j < latent; j++)
                stats[b * 2 * latent + latent + j] = -0.75f + 1.125f * stats[b * 2 * latent + latent + j];
        return stats;
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void ImportanceSample_KeptNoise_MatchesReference(string impl)
    {
        foreach (var (images, samples, latent) in Shapes)
            With(impl, (acc, ops) =>
            {
                int rows = images * samples;
                var stats = Stats(images, latent, images + latent);
                var eps = Random(rows * latent, 7 * samples, -3, 3);
                using var ds = acc.Upload(stats);
                using var de = acc.Upload(eps);
                using var dz = acc.Poisoned(rows * latent);
                using var ratio = acc.Poisoned(rows);
                ops.ImportanceSample(ds.V(), de.V(), dz.V(), ratio.V(), latent, NoiseSource.Keep, 1, 2);
                var z = new double[rows * latent];
                var expandedStats = new float[rows * 2 * latent];
                for (int r = 0; r < rows; r++)
                {
                    int b = r % images;
                    Array.Copy(stats, b * 2 * latent, expandedStats, r * 2 * latent, 2 * latent);
                    for (int j = 0; j < latent; j++)
                        z[r * latent + j] = stats[b * 2 * latent + j] + eps[r * latent + j] * Math.Exp(stats[b * 2 * latent + latent + j] / 2);
                }
                Close(z, dz.Read(ops), 1e-6, 1, "z");
                // log p(z) - log q(z|x), every density written out: the log weight of a zero reconstruction term.
                Close(LikelihoodReference.LogWeights(expandedStats, eps, new float[rows], latent), ratio.Read(ops), 1e-5, 1, "log ratio");
                Assert.Equal(eps, de.Read(ops));
            });
    }

    [Fact]
    public void ImportanceSample_DrawnNoise_IsTheNormalStream_AndAgreesAcrossImplementations()
    {
        const int images = 3, samples = 5, latent = 7;
        var results = new List<float[]>();
        foreach (var impl in new[] { "vectorized", "kernels" })
            With(impl, (acc, ops) =>
            {
                using var ds = acc.Upload(Stats(images, latent, 3));
                using var de = acc.Poisoned(images * samples * latent);
                using var dz = acc.Poisoned(images * samples * latent);
                using var ratio = acc.Poisoned(images * samples);
                using var normal = acc.Poisoned(images * samples * latent);
                ops.ImportanceSample(ds.V(), de.V(), dz.V(), ratio.V(), latent, NoiseSource.Draw, 42, 9);
                ops.Normal(normal.V(), 42, 9);
                var eps = de.Read(ops);
                Assert.Equal(normal.Read(ops), eps);
                results.Add(eps);
            });
        // Box-Muller on the host and on the device agree to within 8e-6 (docs of RandomKernels).
        Close(results[0].Select(v => (double)v).ToArray(), results[1], 8e-6, 1, "eps");
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void ImportanceWeights_BothObjectives_MatchReference(string impl)
    {
        foreach (var (images, samples, _) in Shapes)
            foreach (bool importance in new[] { true, false })
                With(impl, (acc, ops) =>
                {
                    int rows = images * samples;
                    // Summed BCE of a binarised image (50-250 nats) and log ratios of a 50-dimensional code.
                    var bce = Random(rows, images + samples, 50, 250);
                    var logRatio = Random(rows, 3 * samples, -40, 5);
                    using var db = acc.Upload(bce);
                    using var dr = acc.Upload(logRatio);
                    using var weights = acc.Poisoned(rows);
                    using var recon = acc.Poisoned(images);
                    var restStart = Random(images, 5);
                    using var rest = acc.Upload(restStart);
                    ops.ImportanceWeights(db.V(), dr.V(), weights.V(), recon.V(), rest.V(), importance);
                    var expectedWeights = new double[rows];
                    var expectedRecon = new double[images];
                    var expectedRest = restStart.Select(v => (double)v).ToArray();
                    for (int b = 0; b < images; b++)
                    {
                        var w = Enumerable.Range(0, samples).Select(k => importance ? logRatio[k * images + b] - (double)bce[k * images + b] : 0).ToArray();
                        double max = w.Max(), sum = w.Sum(v => Math.Exp(v - max));
                        for (int k = 0; k < samples; k++)
                        {
                            double omega = Math.Exp(w[k] - max) / sum;
                            expectedWeights[k * images + b] = omega;
                            expectedRecon[b] += omega * bce[k * images + b];
                        }
                        if (importance)
                            expectedRest[b] = Math.Log(samples) - (max + Math.Log(sum)) - expectedRecon[b];
                    }
                    Close(expectedWeights, weights.Read(ops), 1e-5, 1e-6, "omega");
                    Close(expectedRecon, recon.Read(ops), 1e-5, 1, "reconstruction");
                    Close(expectedRest, rest.Read(ops), 1e-5, 1, "rest");
                });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void ImportanceWeights_FarApartLogWeights_StayFinite(string impl)
    {
        With(impl, (acc, ops) =>
        {
            // One sample 1,000 nats likelier than the other: exp of either log weight underflows float.
            using var db = acc.Upload([1000f, 2000f]);
            using var dr = acc.Upload([0f, 0f]);
            using var weights = acc.Poisoned(2);
            using var recon = acc.Poisoned(1);
            using var rest = acc.Poisoned(1);
            ops.ImportanceWeights(db.V(), dr.V(), weights.V(), recon.V(), rest.V(), true);
            Assert.Equal([1f, 0f], weights.Read(ops));
            Assert.Equal(1000f, recon.Read(ops)[0]);
            // log 2 beside two terms of 1,000 nats that cancel: float keeps it to 1e-3.
            Close([Math.Log(2)], rest.Read(ops), 1e-6, 1000, "rest");
        });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void ScaleRows_MatchesReference(string impl)
    {
        foreach (var (rows, cols) in new[] { (1, 1), (7, 13), (40, 784) })
            With(impl, (acc, ops) =>
            {
                var x = Random(rows * cols, rows, -3, 3);
                var w = Random(rows, cols, 0, 1);
                using var dx = acc.Upload(x);
                using var dw = acc.Upload(w);
                ops.ScaleRows(dx.V(), dw.V());
                Close(x.Select((v, i) => (double)v * w[i / cols]).ToArray(), dx.Read(ops), 1e-6, 1e-6, "scaled");
            });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void ImportanceSampleBackward_EveryGradient_MatchesReference(string impl)
    {
        foreach (var (images, samples, latent) in Shapes)
            foreach (var mode in Enum.GetValues<SampleGradient>())
                With(impl, (acc, ops) =>
                {
                    int rows = images * samples;
                    var stats = Stats(images, latent, 2 * images);
                    var eps = Random(rows * latent, 3, -3, 3);
                    var z = Random(rows * latent, 4, -3, 3);
                    var dz = Random(rows * latent, 5, -2, 2);
                    var w = Random(rows, 6, 0, 1);
                    var start = Random(images * 2 * latent, 7);
                    using var ds = acc.Upload(stats);
                    using var de = acc.Upload(eps);
                    using var dzv = acc.Upload(z);
                    using var ddz = acc.Upload(dz);
                    using var dw = acc.Upload(w);
                    using var dstats = acc.Upload(start);
                    ops.ImportanceSampleBackward(ds.V(), de.V(), dzv.V(), ddz.V(), dw.V(), dstats.V(), latent, mode);
                    var expected = new double[images * 2 * latent];
                    for (int b = 0; b < images; b++)
                        for (int j = 0; j < latent; j++)
                        {
                            double dmu = 0, dlv = 0, sigma = Math.Exp(stats[b * 2 * latent + latent + j] / 2);
                            for (int k = 0; k < samples; k++)
                            {
                                int r = k * images + b, e = r * latent + j;
                                // d/dz of the decoder's path, plus omega z from -log p(z) for the importance-weighted bound.
                                double g = dz[e] + (mode is SampleGradient.ImportanceWeighted or SampleGradient.Weighted ? w[r] * (double)z[e] : 0);
                                // DReG: -omega^2 d/dz [log p(x|z) + log p(z) - log q(z; mu, sigma held)], where dz is
                                // omega dBCE/dz, d(-log p(z))/dz = z and d log q/dz = -(z - mu) / sigma^2 = -eps / sigma.
                                if (mode == SampleGradient.DoublyReparameterized)
                                    g = w[r] * (double)dz[e] + w[r] * (double)w[r] * (z[e] - eps[e] / sigma);
                                dmu += g;
                                dlv += g * eps[e] * sigma / 2;
                            }
                            int at = b * 2 * latent + j;
                            expected[at] = mode == SampleGradient.Average ? start[at] + dmu : dmu;
                            // log q's own -1/2 log-variance, weighted by omega, which sums to 1 over the samples; DReG
                            // drops it with the rest of the score-function term.
                            expected[at + latent] = mode switch
                            {
                                SampleGradient.Average => start[at + latent] + dlv,
                                SampleGradient.ImportanceWeighted => dlv - 0.5,
                                // Weights that need not sum to 1 (two stochastic layers): log q's -1/2 weighted by their sum.
                                SampleGradient.Weighted => dlv - 0.5 * Enumerable.Range(0, samples).Sum(k => (double)w[k * images + b]),
                                _ => dlv,
                            };
                        }
                    Close(expected, dstats.Read(ops), 1e-5, 1, $"dstats ({mode})");
                });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void ImportanceSampleBackward_UnknownGradient_IsRefused(string impl)
    {
        With(impl, (acc, ops) =>
        {
            using var stats = acc.Poisoned(2);
            using var eps = acc.Poisoned(1);
            using var z = acc.Poisoned(1);
            using var dz = acc.Poisoned(1);
            using var w = acc.Poisoned(1);
            using var dstats = acc.Poisoned(2);
            Assert.Throws<ArgumentOutOfRangeException>(() =>
                ops.ImportanceSampleBackward(stats.V(), eps.V(), z.V(), dz.V(), w.V(), dstats.V(), 1, (SampleGradient)4));
        });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void BceWithLogits_RepeatedTargets_MatchesReference(string impl)
    {
        foreach (var (images, samples, cols) in new[] { (1, 3, 1), (3, 5, 7), (4, 2, 784) })
            With(impl, (acc, ops) =>
            {
                int rows = images * samples;
                var logits = Random(rows * cols, 1, -8, 8);
                var targets = Random(images * cols, 2, 0, 1);
                using var dl = acc.Upload(logits);
                using var dt = acc.Upload(targets);
                using var loss = acc.Poisoned(rows);
                using var grad = acc.Poisoned(rows * cols);
                ops.BceWithLogits(dl.V(), dt.V(), loss.V(), grad.V(), 0.5f);
                var expectedLoss = new double[rows];
                var expectedGrad = new double[rows * cols];
                for (int r = 0; r < rows; r++)
                    for (int c = 0; c < cols; c++)
                    {
                        double x = logits[r * cols + c], t = targets[(r % images) * cols + c], s = 1 / (1 + Math.Exp(-x));
                        expectedLoss[r] -= t * Math.Log(s) + (1 - t) * Math.Log(1 - s);
                        expectedGrad[r * cols + c] = 0.5 * (s - t);
                    }
                Close(expectedLoss, loss.Read(ops), 1e-5, 1, "bce");
                Close(expectedGrad, grad.Read(ops), 1e-6, 1, "dlogits");
            });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void BceWithLogits_TargetsThatDoNotRepeat_AreRefused(string impl)
    {
        With(impl, (acc, ops) =>
        {
            using var logits = acc.Poisoned(3 * 4);
            using var targets = acc.Poisoned(2 * 4);
            using var loss = acc.Poisoned(3);
            using var grad = acc.Poisoned(3 * 4);
            Assert.Throws<ArgumentException>(() => ops.BceWithLogits(logits.V(), targets.V(), loss.V(), grad.V(), 1f));
        });
    }

    [Fact]
    public void Bernoulli_IsTheUniformDefinition_OnEveryImplementation_AndHasTheIntensityAsItsMean()
    {
        const int n = 1 << 20;
        // Intensities of every byte value, as the gather makes them, the ends included.
        var x = Enumerable.Range(0, n).Select(i => (i % 256) * (1f / 255f)).ToArray();
        var expected = new double[n];
        ulong key = RandomKernels.StreamKey(7, 3);
        for (int i = 0; i < n; i++)
            expected[i] = ImportanceKernels.Uniform(key, (ulong)i) < x[i] ? 1 : 0;
        foreach (var impl in new[] { "vectorized", "kernels" })
            With(impl, (acc, ops) =>
            {
                using var dx = acc.Upload(x);
                ops.Bernoulli(dx.V(), 7, 3);
                var result = dx.Read(ops);
                Close(expected, result, 0, 0, impl);
            });
        // P(1) is the intensity: per byte value, the frequency over its 4,096 pixels within 4 standard deviations.
        for (int v = 0; v < 256; v += 17)
        {
            double p = v / 255.0;
            double frequency = Enumerable.Range(0, n / 256).Average(i => expected[i * 256 + v]);
            Assert.InRange(frequency, p - 4 * Math.Sqrt(p * (1 - p) / 4096) - 1e-9, p + 4 * Math.Sqrt(p * (1 - p) / 4096) + 1e-9);
        }
        // Another step is another draw.
        Assert.NotEqual(ImportanceKernels.Uniform(key, 5), ImportanceKernels.Uniform(RandomKernels.StreamKey(7, 4), 5));
    }
}
