using IlgpuVae.Compute;
using IlgpuVae.Kernels;
using Xunit;
using static IlgpuVae.Tests.Compute.OpsHarness;

namespace IlgpuVae.Tests.Compute;

/// <summary>
/// The fused ops of a training step against double-precision references on awkward shapes, for every
/// implementation: the vectorised ops (which run the plain sequence), the kernels on the CPU accelerator
/// (grid-stride GEMM with epilogues), and the GPU's tiled GEMMs, 64 x 64 and 32 x 32, on the CPU accelerator.
/// </summary>
[Collection(SharedDevices.Name)]
public sealed class FusedOpsTests
{
    private static readonly Activation[] Activations = [Activation.Identity, Activation.Relu, Activation.Sigmoid, Activation.Tanh];

    // (rows, inputs, outputs): single elements, odd sizes around the 16, 32 and 64 tile edges, and a K of many tiles.
    public static TheoryData<string, int, int, int> LinearCases()
    {
        var data = new TheoryData<string, int, int, int>();
        foreach (var impl in new[] { "vectorized", "kernels", "tiled", "tiled-small" })
        {
            data.Add(impl, 1, 1, 1);
            data.Add(impl, 39, 17, 42);
            data.Add(impl, 33, 65, 7);
            data.Add(impl, 65, 20, 33);
        }
        foreach (var impl in new[] { "vectorized", "kernels" })
            data.Add(impl, 128, 784, 400);
        data.Add("tiled", 70, 130, 66);
        return data;
    }

    [Theory]
    [MemberData(nameof(LinearCases))]
    [OpenClData(nameof(LinearCases))]
    public void LinearForward_AwkwardShapes_MatchesReference(string impl, int rows, int inputs, int outputs)
    {
        foreach (var activation in Activations)
            With(impl, (acc, ops) =>
            {
                var x = Random(rows * inputs, rows + inputs, -1, 1);
                var w = Random(outputs * inputs, outputs, -1, 1);
                var b = Random(outputs, 3, -1, 1);
                using var dx = acc.Upload(x);
                using var dw = acc.Upload(w);
                using var db = acc.Upload(b);
                using var y = acc.Poisoned(rows * outputs);
                ops.LinearForward(dx.V(), dw.V(), db.V(outputs), y.V(), rows, inputs, outputs, activation);
                var product = Reference.Gemm(false, true, rows, outputs, inputs, 1, x, inputs, w, inputs, 0, new float[rows * outputs], outputs);
                var expected = product.Select((v, i) => Reference.Activation(v + b[i % outputs], activation)).ToArray();
                Close(expected, y.Read(ops, rows * outputs), 1e-5 * Math.Sqrt(inputs) + 1e-6, 1.0, $"y {activation}");
            });
    }

    [Theory]
    [MemberData(nameof(LinearCases))]
    [OpenClData(nameof(LinearCases))]
    public void LinearParameterGradient_AwkwardShapes_AddsReference(string impl, int rows, int inputs, int outputs)
    {
        With(impl, (acc, ops) =>
        {
            var dy = Random(rows * outputs, rows, -1, 1);
            var x = Random(rows * inputs, inputs, -1, 1);
            var dw0 = Random(outputs * inputs, 7, -1, 1);
            var db0 = Random(outputs, 8, -1, 1);
            using var ddy = acc.Upload(dy);
            using var dx = acc.Upload(x);
            using var dw = acc.Upload(dw0);
            using var db = acc.Upload(db0);
            ops.LinearParameterGradient(ddy.V(), dx.V(), dw.V(), db.V(outputs), rows, inputs, outputs);
            var expectedW = Reference.Gemm(true, false, outputs, inputs, rows, 1, dy, outputs, x, inputs, 1, dw0, inputs);
            var expectedB = db0.Select((v, o) => v + Enumerable.Range(0, rows).Sum(r => (double)dy[r * outputs + o])).ToArray();
            double tolerance = 1e-5 * Math.Sqrt(rows) + 1e-6;
            Close(expectedW, dw.Read(ops, outputs * inputs), tolerance, 1.0, "dW");
            Close(expectedB, db.Read(ops, outputs), tolerance, 1.0, "db");
        });
    }

    [Theory]
    [MemberData(nameof(LinearCases))]
    [OpenClData(nameof(LinearCases))]
    public void LinearInputGradient_ThroughTheActivationBelow_MatchesReference(string impl, int rows, int inputs, int outputs)
    {
        // Every column, and (a layer that reads a label) all but the last three.
        foreach (int columns in new[] { inputs, Math.Max(1, inputs - 3) })
            foreach (var activation in Activations)
                With(impl, (acc, ops) =>
                {
                    var dy = Random(rows * outputs, rows + 1, -1, 1);
                    var w = Random(outputs * inputs, inputs + 2, -1, 1);
                    // The layer below's pre-activations, and its output, which the op differentiates through.
                    var pre = Random(rows * columns, columns + 3, -3, 3);
                    var below = pre.Select(v => (float)Reference.Activation(v, activation)).ToArray();
                    using var ddy = acc.Upload(dy);
                    using var dw = acc.Upload(w);
                    using var dbelow = acc.Upload(below);
                    using var dx = acc.Poisoned(rows * columns);
                    ops.LinearInputGradient(ddy.V(), dw.V(), dx.V(), rows, inputs, outputs, columns, dbelow.V(), activation);
                    var product = Reference.Gemm(false, false, rows, columns, outputs, 1, dy, outputs, w, inputs, 0, new float[rows * columns], columns);
                    var expected = product.Select((v, i) => v * Reference.ActivationDerivative(pre[i], activation)).ToArray();
                    Close(expected, dx.Read(ops, rows * columns), 1e-5 * Math.Sqrt(outputs) + 1e-5, 1.0, $"dx {activation} {columns}");
                });
    }

    public static TheoryData<string, string, int, int> SampleCases()
    {
        var data = new TheoryData<string, string, int, int>();
        foreach (var impl in new[] { "vectorized", "kernels", "tiled" })
            foreach (var noise in new[] { NoiseSource.Draw, NoiseSource.Zero, NoiseSource.Keep })
            {
                data.Add(impl, noise.ToString(), 1, 1);
                // An odd Z splits noise pairs across rows; 300 rows exceed one group's threads.
                data.Add(impl, noise.ToString(), 300, 3);
                data.Add(impl, noise.ToString(), 128, 20);
            }
        return data;
    }

    [Theory]
    [MemberData(nameof(SampleCases))]
    [OpenClData(nameof(SampleCases))]
    public void GaussianSample_EveryNoiseSource_MatchesReferenceAndSumsKl(string impl, string noiseName, int rows, int latent)
    {
        var noise = Enum.Parse<NoiseSource>(noiseName);
        With(impl, (acc, ops) =>
        {
            var stats = Random(rows * 2 * latent, rows + latent, -2, 2);
            var kept = Random(rows * latent, 11, -3, 3);
            var totals0 = Random(4, 12);
            using var ds = acc.Upload(stats);
            using var eps = acc.Upload(kept);
            using var z = acc.Poisoned(rows * latent);
            using var kl = acc.Poisoned(rows);
            using var dstats = acc.Poisoned(rows * 2 * latent);
            using var totals = acc.Upload(totals0);
            using var drawn = acc.Poisoned(rows * latent);
            ops.GaussianSample(ds.V(), eps.V(), z.V(), kl.V(), dstats.V(), latent, 0.7f, noise, 5, 9, totals.V(), 2);
            ops.Normal(drawn.V(), 5, 9);
            var e = eps.Read(ops);
            var expectedEps = noise switch
            {
                NoiseSource.Draw => drawn.Read(ops),
                NoiseSource.Zero => new float[rows * latent],
                _ => kept,
            };
            // The same stream as Normal: every device within 8e-6 of every other (NoiseTests).
            for (int i = 0; i < e.Length; i++)
                Assert.True(Math.Abs(e[i] - expectedEps[i]) <= 8e-6, $"eps[{i}]: {e[i]:R} vs {expectedEps[i]:R}");
            var ez = new double[rows * latent];
            for (int b = 0; b < rows; b++)
                for (int j = 0; j < latent; j++)
                    ez[b * latent + j] = stats[b * 2 * latent + j] + e[b * latent + j] * Math.Exp(stats[b * 2 * latent + latent + j] / 2);
            var (ekl, egrad) = Reference.Kl(stats, latent, 0.7);
            Close(ez, z.Read(ops), 1e-6, 1, "z");
            Close(ekl, kl.Read(ops), 1e-5, 1, "kl");
            Close(egrad, dstats.Read(ops), 1e-6, 1, "dstats");
            var expectedTotals = totals0.Select(v => (double)v).ToArray();
            expectedTotals[2] += ekl.Sum();
            Close(expectedTotals, totals.Read(ops), 1e-5, Math.Max(1, ekl.Sum(Math.Abs)), "totals");
        });
    }

    public static TheoryData<string, int, int> BceCases() => new()
    {
        { "vectorized", 1, 1 }, { "vectorized", 7, 33 }, { "vectorized", 130, 784 },
        { "kernels", 1, 1 }, { "kernels", 7, 33 }, { "kernels", 130, 784 },
        // 256-thread groups on the CPU accelerator are slow: fewer rows, still more than one group's worth of columns.
        { "tiled", 1, 1 }, { "tiled", 7, 33 }, { "tiled", 3, 784 },
    };

    [Theory]
    [MemberData(nameof(BceCases))]
    [OpenClData(nameof(BceCases))]
    public void BceWithLogits_WithTotals_AddsTheBatchSumEveryLaunch(string impl, int rows, int cols)
    {
            With(impl, (acc, ops) =>
            {
                var logits = Random(rows * cols, rows, -8, 8);
                var targets = Random(rows * cols, cols, 0, 1);
                var totals0 = Random(3, 4);
                using var dl = acc.Upload(logits);
                using var dt = acc.Upload(targets);
                using var loss = acc.Poisoned(rows);
                using var grad = acc.Poisoned(rows * cols);
                using var totals = acc.Upload(totals0);
                // Twice: the second launch must find the first one's bookkeeping reset.
                ops.BceWithLogits(dl.V(), dt.V(), loss.V(), grad.V(), 0.5f, totals.V(), 1);
                ops.BceWithLogits(dl.V(), dt.V(), loss.V(), grad.V(), 0.5f, totals.V(), 1);
                var (eloss, egrad) = Reference.Bce(logits, targets, cols, 0.5);
                Close(eloss, loss.Read(ops), 1e-5, 1, "loss");
                Close(egrad, grad.Read(ops), 1e-6, 0.1, "dlogits");
                var expected = totals0.Select(v => (double)v).ToArray();
                expected[1] += 2 * eloss.Sum();
                Close(expected, totals.Read(ops), 1e-5, 1, "totals");
            });
    }
}
