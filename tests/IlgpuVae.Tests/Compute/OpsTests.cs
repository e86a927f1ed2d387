using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;
using Xunit;
using static IlgpuVae.Tests.Compute.OpsHarness;

namespace IlgpuVae.Tests.Compute;

[Collection(SharedDevices.Name)]
public sealed class OpsTests
{
    public static TheoryData<string, bool, bool, int, int, int> GemmCases()
    {
        var data = new TheoryData<string, bool, bool, int, int, int>();
        foreach (var impl in new[] { "vectorized", "kernels", "tiled", "tiled-small" })
            foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
            {
                data.Add(impl, ta, tb, 39, 42, 17);
                data.Add(impl, ta, tb, 1, 7, 33);
                data.Add(impl, ta, tb, 33, 1, 7);
            }
        // The VAE's shapes: forward NT, input gradient NN, weight gradient TN.
        foreach (var impl in new[] { "vectorized", "kernels" })
        {
            data.Add(impl, false, true, 1, 400, 784);
            data.Add(impl, false, true, 128, 400, 784);
            data.Add(impl, false, false, 128, 784, 400);
            data.Add(impl, true, false, 400, 784, 128);
        }
        data.Add("tiled", false, true, 65, 70, 130);
        data.Add("tiled-small", false, true, 65, 70, 130);
        data.Add("tiled-small", true, false, 33, 47, 35);
        return data;
    }

    [Theory]
    [MemberData(nameof(GemmCases))]
    [OpenClData(nameof(GemmCases))]
    public void Gemm_OddShapes_MatchesReference(string impl, bool transA, bool transB, int m, int n, int k)
    {
        With(impl, (acc, ops) =>
        {
            foreach (var (alpha, beta) in new[] { (1f, 0f), (0.5f, 1f), (-2f, 0.25f) })
            {
                int lda = transA ? m : k, ldb = transB ? k : n;
                var a = Random(m * k, 1 + m, -1, 1);
                var b = Random(k * n, 2 + n, -1, 1);
                var c0 = Random(m * n, 3 + k, -1, 1);
                using var da = acc.Upload(a);
                using var db = acc.Upload(b);
                // With beta = 0 the old C must not be read: poison it.
                var cStart = beta == 0f ? Enumerable.Repeat(float.NaN, m * n).ToArray() : c0;
                using var dc = acc.Upload(cStart);
                ops.Gemm(transA, transB, m, n, k, alpha, da.V(m * k), lda, db.V(k * n), ldb, beta, dc.V(m * n), n);
                var expected = Reference.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c0, n);
                // Float accumulation over k terms of size <= 1: error grows like sqrt(k) ulps of the sum.
                Close(expected, dc.Read(ops, m * n), 1e-5 * Math.Sqrt(k) + 1e-6, floor: 1.0, what: $"C a={alpha} b={beta}");
            }
        });
    }

    [Theory]
    [MemberData(nameof(Implementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void Gemm_LeadingDimensionSubBlock_MatchesReference(string impl)
    {
        // dz = dy W[:, :Z] with W (H, Z + C): the conditional decoder's input gradient reads a column block.
        const int rows = 7, hidden = 33, latent = 5, width = 15;
        With(impl, (acc, ops) =>
        {
            var dy = Random(rows * hidden, 5);
            var w = Random(hidden * width, 6);
            using var ddy = acc.Upload(dy);
            using var dw = acc.Upload(w);
            using var dz = acc.Poisoned(rows * latent);
            ops.Gemm(false, false, rows, latent, hidden, 1f, ddy.V(), hidden, dw.V(), width, 0f, dz.V(), latent);
            Close(Reference.Gemm(false, false, rows, latent, hidden, 1, dy, hidden, w, width, 0, new float[rows * latent], latent),
                dz.Read(ops, rows * latent), 1e-5);
        });
    }

    public static TheoryData<string, string, int> ActivationCases()
    {
        var data = new TheoryData<string, string, int>();
        foreach (var impl in new[] { "vectorized", "kernels" })
            foreach (var act in new[] { Activation.Relu, Activation.Sigmoid, Activation.Tanh, Activation.Identity })
                foreach (var length in new[] { 1, 7, 33, 1000 })
                    data.Add(impl, act.ToString(), length);
        return data;
    }

    [Theory]
    [MemberData(nameof(ActivationCases))]
    [OpenClData(nameof(ActivationCases))]
    public void Activation_ForwardAndBackward_MatchReference(string impl, string activationName, int length)
    {
        var activation = Enum.Parse<Activation>(activationName);
        With(impl, (acc, ops) =>
        {
            var x = Random(length, length, -6, 6);
            var dy = Random(length, length + 1);
            using var dx_ = acc.Upload(x);
            using var y = acc.Poisoned(length);
            using var ddy = acc.Upload(dy);
            using var dx = acc.Poisoned(length);
            ops.Activate(dx_.V(), y.V(length), activation);
            ops.ActivationBackward(y.V(length), ddy.V(), dx.V(length), activation);
            Close(x.Select(v => Reference.Activation(v, activation)).ToArray(), y.Read(ops, length), 1e-5, 1e-2, "y");
            Close(x.Select((v, i) => dy[i] * Reference.ActivationDerivative(v, activation)).ToArray(), dx.Read(ops, length), 1e-5, 0.1, "dx");
        });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void BiasActivation_AndBiasGradient_MatchReference(string impl)
    {
        foreach (var (rows, cols) in new[] { (1, 1), (7, 33), (33, 7), (128, 400) })
            With(impl, (acc, ops) =>
            {
                var x = Random(rows * cols, rows, -2, 2);
                var bias = Random(cols, cols);
                var dbias0 = Random(cols, cols + 1);
                using var dx = acc.Upload(x);
                using var db = acc.Upload(bias);
                using var dg = acc.Upload(dbias0);
                ops.BiasActivation(dx.V(), db.V(), Activation.Relu);
                ops.BiasGradient(dx.V(), dg.V());
                var y = x.Select((v, i) => Math.Max(0, (double)v + bias[i % cols])).ToArray();
                Close(y, dx.Read(ops), 1e-6, 1e-3, "y");
                var grad = dbias0.Select((v, c) => v + Enumerable.Range(0, rows).Sum(r => y[r * cols + c])).ToArray();
                Close(grad, dg.Read(ops), 1e-5, 1, "dbias");
            });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void Reparameterize_ForwardBackward_MatchReference(string impl)
    {
        foreach (var (rows, latent) in new[] { (1, 1), (7, 3), (33, 20) })
            With(impl, (acc, ops) =>
            {
                var stats = Random(rows * 2 * latent, rows + latent, -2, 2);
                var eps = Random(rows * latent, latent, -3, 3);
                var dz = Random(rows * latent, 9);
                var dstats0 = Random(rows * 2 * latent, 10);
                using var ds = acc.Upload(stats);
                using var de = acc.Upload(eps);
                using var z = acc.Poisoned(rows * latent);
                using var ddz = acc.Upload(dz);
                using var dd = acc.Upload(dstats0);
                ops.Reparameterize(ds.V(), de.V(), z.V(rows * latent), latent);
                ops.ReparameterizeBackward(ds.V(), de.V(), ddz.V(), dd.V(), latent);
                var ez = new double[rows * latent];
                var eg = dstats0.Select(v => (double)v).ToArray();
                for (int b = 0; b < rows; b++)
                    for (int j = 0; j < latent; j++)
                    {
                        int i = b * latent + j, m = b * 2 * latent + j, v = m + latent;
                        ez[i] = stats[m] + eps[i] * Math.Exp(stats[v] / 2);
                        eg[m] += dz[i];
                        eg[v] += dz[i] * eps[i] * 0.5 * Math.Exp(stats[v] / 2);
                    }
                Close(ez, z.Read(ops, rows * latent), 1e-6, 1, "z");
                Close(eg, dd.Read(ops), 1e-6, 1, "dstats");
            });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void KlDivergence_FusedGradient_MatchesReference(string impl)
    {
        foreach (var (rows, latent) in new[] { (1, 1), (7, 33), (128, 20) })
            With(impl, (acc, ops) =>
            {
                var stats = Random(rows * 2 * latent, rows * latent, -3, 3);
                using var ds = acc.Upload(stats);
                using var kl = acc.Poisoned(rows);
                using var grad = acc.Poisoned(rows * 2 * latent);
                ops.KlDivergence(ds.V(), kl.V(rows), grad.V(rows * 2 * latent), latent, 0.7f);
                var (ekl, egrad) = Reference.Kl(stats, latent, 0.7);
                Close(ekl, kl.Read(ops, rows), 1e-5, 1, "kl");
                Close(egrad, grad.Read(ops, rows * 2 * latent), 1e-6, 1, "dstats");
            });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void KlDivergence_StandardNormal_IsZero(string impl)
    {
        With(impl, (acc, ops) =>
        {
            using var ds = acc.Upload(new float[3 * 2 * 4]);
            using var kl = acc.Poisoned(3);
            using var grad = acc.Poisoned(24);
            ops.KlDivergence(ds.V(), kl.V(3), grad.V(24), 4, 1f);
            Assert.All(kl.Read(ops, 3), v => Assert.Equal(0f, v));
            Assert.All(grad.Read(ops, 24), v => Assert.Equal(0f, v));
        });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void BceWithLogits_IncludingSaturatedLogits_MatchesReference(string impl)
    {
        foreach (var (rows, cols) in new[] { (1, 1), (7, 33), (33, 7), (128, 784) })
            With(impl, (acc, ops) =>
            {
                var x = Random(rows * cols, rows + cols, -12, 12);
                if (x.Length > 4) { x[0] = 80f; x[1] = -80f; x[2] = 0f; x[3] = 1e-4f; }
                var t = Random(rows * cols, cols, 0, 1);
                using var dx = acc.Upload(x);
                using var dt = acc.Upload(t);
                using var loss = acc.Poisoned(rows);
                using var grad = acc.Poisoned(rows * cols);
                ops.BceWithLogits(dx.V(), dt.V(), loss.V(rows), grad.V(rows * cols), 0.5f);
                var (el, eg) = Reference.Bce(x, t, cols, 0.5);
                Close(el, loss.Read(ops, rows), 2e-5, 1, "loss");
                Close(eg, grad.Read(ops, rows * cols), 1e-5, 1e-2, "dlogits");
            });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void SoftmaxCrossEntropy_MatchesReference(string impl)
    {
        foreach (var (rows, classes) in new[] { (1, 1), (7, 10), (33, 3) })
            With(impl, (acc, ops) =>
            {
                var x = Random(rows * classes, rows, -20, 20);
                var labels = Enumerable.Range(0, rows).Select(i => (i * 7) % classes).ToArray();
                using var dx = acc.Upload(x);
                using var dl = acc.Upload(labels);
                using var loss = acc.Poisoned(rows);
                using var grad = acc.Poisoned(rows * classes);
                ops.SoftmaxCrossEntropy(dx.V(), dl.V(), loss.V(rows), grad.V(rows * classes), 2f);
                var (el, eg) = Reference.SoftmaxCrossEntropy(x, labels, classes, 2);
                Close(el, loss.Read(ops, rows), 1e-5, 1, "loss");
                Close(eg, grad.Read(ops, rows * classes), 1e-5, 1e-2, "dlogits");
            });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void RowSumAndSumInto_MatchReference(string impl)
    {
        foreach (var (rows, cols) in new[] { (1, 1), (7, 33), (1000, 7) })
            With(impl, (acc, ops) =>
            {
                var x = Random(rows * cols, rows, 0, 2);
                using var dx = acc.Upload(x);
                using var sums = acc.Poisoned(rows);
                using var totals = acc.Upload(new float[] { 1f, 10f });
                ops.RowSum(dx.V(), sums.V(rows), cols, accumulate: false);
                ops.SumInto(dx.V(), totals.V(), 1);
                ops.SumInto(dx.V(), totals.V(), 1);
                var expected = Enumerable.Range(0, rows).Select(r => Enumerable.Range(0, cols).Sum(c => (double)x[r * cols + c])).ToArray();
                Close(expected, sums.Read(ops, rows), 1e-5, 1, "rows");
                Close(new[] { 1.0, 10 + 2 * expected.Sum() }, totals.Read(ops, 2), 1e-5, 1, "totals");
            });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void Adam_SeveralSteps_MatchesPyTorchFormula(string impl)
    {
        foreach (var length in new[] { 1, 7, 33, 1000 })
            With(impl, (acc, ops) =>
            {
                var p = Random(length, length);
                var m = Random(length, 1, -0.1f, 0.1f);
                var v = Random(length, 2, 0, 0.1f);
                var g = Random(length, 3);
                using var dp = acc.Upload(p);
                using var dg = acc.Upload(g);
                using var dm = acc.Upload(m);
                using var dv = acc.Upload(v);
                ops.Adam(dp.V(), dg.V(), dm.V(), dv.V(), AdamStep.Create(1e-3f, 0.9f, 0.999f, 1e-8f, 3));
                var (ep, em, ev) = Reference.Adam(p, g, m, v, 1e-3, 0.9, 0.999, 1e-8, 3);
                Close(ep, dp.Read(ops), 1e-6, 1, "p");
                Close(em, dm.Read(ops), 1e-6, 0.1, "m");
                Close(ev, dv.Read(ops), 1e-6, 0.1, "v");
                Assert.All(dg.Read(ops), x => Assert.Equal(0f, x));
            });
    }

    [Fact]
    public void Normal_SameSeedStepIndex_SameNumbersOnBothImplementations()
    {
        float[]? first = null;
        foreach (var impl in new[] { "vectorized", "kernels" })
            With(impl, (acc, ops) =>
            {
                using var output = acc.Poisoned(1001);
                ops.Normal(output.V(1001), 42, 7);
                var values = output.Read(ops, 1001);
                first ??= values;
                // Each draw is within 4e-6 of the exact value on every device (NoiseTests), so two agree to 8e-6.
                for (int i = 0; i < values.Length; i++)
                    Assert.True(Math.Abs(values[i] - first[i]) <= 8e-6, $"{impl}[{i}]: {values[i]:R} vs {first[i]:R}");
            });
        // Deterministic: recomputed on the host from the hash, element by element.
        ulong key = RandomKernels.StreamKey(42, 7);
        for (int p = 0; p < 500; p++)
        {
            HostRandom.NormalPair(key, (ulong)p, out float a, out float b);
            Assert.Equal(a, first![2 * p], 5);
            Assert.Equal(b, first[2 * p + 1], 5);
        }
    }

    [Fact]
    public void Normal_Moments_AreStandard_AndStreamsDiffer()
    {
        With("vectorized", (acc, ops) =>
        {
            const int n = 200_000;
            using var a = acc.Poisoned(n);
            using var b = acc.Poisoned(n);
            ops.Normal(a.V(), 1, 0);
            ops.Normal(b.V(), 1, 1);
            var x = a.Read(ops);
            var y = b.Read(ops);
            double mean = x.Average(v => (double)v), variance = x.Average(v => (v - mean) * (v - mean));
            double kurtosis = x.Average(v => Math.Pow(v - mean, 4)) / (variance * variance);
            Assert.InRange(mean, -0.01, 0.01);
            Assert.InRange(variance, 0.98, 1.02);
            Assert.InRange(kurtosis, 2.9, 3.1);
            double correlation = x.Zip(y, (p, q) => (double)p * q).Average();
            Assert.InRange(correlation, -0.01, 0.01);
        });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void GatherRows_CopiesRealValuesUnscaled(string impl)
    {
        // Unbounded values (standardised vectors): copied exactly, never scaled by 1/255. 35 = two 16-wide vectors and 3.
        foreach (var features in new[] { 1, 7, 35 })
        With(impl, (acc, ops) =>
        {
            const int count = 9, rows = 5;
            var values = Enumerable.Range(0, count * features).Select(i => (float)((i * 37 % 101 - 50) * 0.173)).ToArray();
            var order = new[] { 8, 3, 5, 0, 1, 2, 4, 6, 7 };
            using var dv = acc.Upload(values);
            using var dord = acc.Upload(order);
            using var batch = acc.Poisoned(rows * features + 3);
            ops.GatherRows(dv.V(), dord.V(), 3, batch.V(rows * features), features);
            var x = batch.Read(ops);
            for (int r = 0; r < rows; r++)
                for (int f = 0; f < features; f++)
                    Assert.Equal((double)values[order[3 + r] * features + f], x[r * features + f]);
            // Past the batch: untouched (still the poison).
            for (int i = rows * features; i < x.Length; i++)
                Assert.True(float.IsNaN(x[i]));
        });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void GatherAndOneHotConcat_MatchReference(string impl)
    {
        // 35 features = two 16-wide vectors and a tail of 3.
        foreach (var features in new[] { 7, 35 })
        With(impl, (acc, ops) =>
        {
            const int count = 9, rows = 4, classes = 10;
            var images = Enumerable.Range(0, count * features).Select(i => (byte)(i * 37 % 256)).ToArray();
            var labels = Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray();
            var order = new[] { 8, 3, 5, 0, 1, 2, 4, 6, 7 };
            using var di = acc.Upload(images);
            using var dl = acc.Upload(labels);
            using var dord = acc.Upload(order);
            using var batch = acc.Poisoned(rows * features);
            var outLabels = acc.Upload(new int[rows]);
            using var concat = acc.Poisoned(rows * (features + classes));
            ops.GatherImages(di.V(), dord.V(), 2, batch.V(rows * features), features);
            ops.GatherLabels(dl.V(), dord.V(), 2, outLabels.V(rows));
            ops.OneHotConcat(batch.V(rows * features), outLabels.V(rows), concat.V(), features, classes);
            var x = batch.Read(ops, rows * features);
            ops.Synchronize();
            var y = outLabels.GetAsArray1D();
            var c = concat.Read(ops);
            for (int r = 0; r < rows; r++)
            {
                int source = order[2 + r];
                Assert.Equal(labels[source], y[r]);
                for (int f = 0; f < features; f++)
                {
                    Assert.Equal(images[source * features + f] / 255.0, x[r * features + f], 1e-6);
                    Assert.Equal(x[r * features + f], c[r * (features + classes) + f]);
                }
                for (int k = 0; k < classes; k++)
                    Assert.Equal(k == labels[source] ? 1f : 0f, c[r * (features + classes) + features + k]);
            }
            outLabels.Dispose();
        });
    }

    [CudaFact]
    public void Cuda_Gemm_MatchesReference()
    {
        With("cuda", (acc, ops) =>
        {
            const int m = 128, n = 400, k = 784;
            var a = Random(m * k, 1);
            var b = Random(n * k, 2);
            using var da = acc.Upload(a);
            using var db = acc.Upload(b);
            using var dc = acc.Poisoned(m * n);
            ops.Gemm(false, true, m, n, k, 1f, da.V(), k, db.V(), k, 0f, dc.V(), n);
            Close(Reference.Gemm(false, true, m, n, k, 1, a, k, b, k, 0, new float[m * n], n), dc.Read(ops), 1e-4);
        });
    }

    [CudaFact]
    public void Cuda_BceAndKl_MatchReference()
    {
        With("cuda", (acc, ops) =>
        {
            var x = Random(128 * 784, 3, -10, 10);
            var t = Random(128 * 784, 4, 0, 1);
            using var dx = acc.Upload(x);
            using var dt = acc.Upload(t);
            using var loss = acc.Poisoned(128);
            using var grad = acc.Poisoned(128 * 784);
            ops.BceWithLogits(dx.V(), dt.V(), loss.V(), grad.V(), 1f);
            var (el, eg) = Reference.Bce(x, t, 784, 1);
            Close(el, loss.Read(ops), 2e-5, 1, "loss");
            Close(eg, grad.Read(ops), 1e-5, 1e-2, "grad");
        });
    }
}
