using Xunit;
using static IlgpuVae.Tests.Compute.OpsHarness;

namespace IlgpuVae.Tests.Compute;

/// <summary>
/// The ops of two stochastic layers (the conditional prior's part of the log ratio and its gradient, and the estimator's
/// log-weight column) against double-precision references on awkward shapes (one row, Z = 1, odd sizes), on every
/// implementation.
/// </summary>
public sealed class TwoLayerOpsTests
{
    private static readonly (int Rows, int Latent)[] Shapes = [(1, 1), (3, 7), (17, 50), (5, 1), (2, 3)];

    // [pmu | plv] with log-variances in [-3, 1.5].
    private static float[] Prior(int rows, int latent, int seed)
    {
        var prior = Random(rows * 2 * latent, seed, -2, 2);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < latent; j++)
                prior[r * 2 * latent + latent + j] = -0.75f + 1.125f * prior[r * 2 * latent + latent + j];
        return prior;
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void PriorLogRatio_AddsTheConditionalPriorAndInner_MatchesReference(string impl)
    {
        foreach (var (rows, latent) in Shapes)
            With(impl, (acc, ops) =>
            {
                var prior = Prior(rows, latent, rows + latent);
                var z = Random(rows * latent, 3, -3, 3);
                var inner = Random(rows, 4, -40, 5);
                var start = Random(rows, 5, -40, 5);
                using var dp = acc.Upload(prior);
                using var dz = acc.Upload(z);
                using var di = acc.Upload(inner);
                using var ratio = acc.Upload(start);
                ops.PriorLogRatio(dp.V(), dz.V(), di.V(), ratio.V(), latent);
                var expected = Reference.PriorLogRatio(prior, z, latent).Select((v, r) => start[r] + inner[r] + v).ToArray();
                Close(expected, ratio.Read(ops), 1e-5, 1, "log ratio");
            });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void PriorLogRatioBackward_IsTheWeightedNegativeGradient_MatchesCentralDifferences(string impl)
    {
        foreach (var (rows, latent) in Shapes)
            With(impl, (acc, ops) =>
            {
                var prior = Prior(rows, latent, 2 * rows + latent);
                var z = Random(rows * latent, 6, -3, 3);
                var w = Random(rows, 7, 0, 1);
                var dzStart = Random(rows * latent, 8, -2, 2);
                using var dp = acc.Upload(prior);
                using var dz = acc.Upload(z);
                using var dw = acc.Upload(w);
                using var dprior = acc.Poisoned(rows * 2 * latent);
                using var dzv = acc.Upload(dzStart);
                ops.PriorLogRatioBackward(dp.V(), dz.V(), dw.V(), dprior.V(), dzv.V(), latent);
                // L = -sum_r w_r [log N(z_r; pmu_r, exp(plv_r)) - log N(z_r; 0, I)], differentiated numerically in double.
                double Loss(float[] p, float[] code) => -Reference.PriorLogRatio(p, code, latent).Select((v, r) => w[r] * v).Sum();
                var expectedPrior = new double[prior.Length];
                var expectedZ = new double[z.Length];
                const float h = 1e-2f;
                for (int i = 0; i < prior.Length; i++)
                {
                    var plus = (float[])prior.Clone();
                    var minus = (float[])prior.Clone();
                    plus[i] += h;
                    minus[i] -= h;
                    expectedPrior[i] = (Loss(plus, z) - Loss(minus, z)) / (plus[i] - (double)minus[i]);
                }
                for (int i = 0; i < z.Length; i++)
                {
                    var plus = (float[])z.Clone();
                    var minus = (float[])z.Clone();
                    plus[i] += h;
                    minus[i] -= h;
                    expectedZ[i] = dzStart[i] + (Loss(prior, plus) - Loss(prior, minus)) / (plus[i] - (double)minus[i]);
                }
                // Central differences of a smooth function with step 1e-2: exact to ~1e-4 relative.
                Close(expectedPrior, dprior.Read(ops), 2e-3, 1e-2, "dprior");
                Close(expectedZ, dzv.Read(ops), 2e-3, 1e-2, "dz (added)");
            });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void LogWeightColumn_WritesOneColumn_MatchesReference(string impl)
    {
        foreach (var (rows, columns) in new[] { (1, 1), (7, 3), (33, 5) })
            With(impl, (acc, ops) =>
            {
                var ratio = Random(rows, 1, -40, 5);
                var recon = Random(rows, 2, 50, 250);
                var table = Random(rows * columns, 3);
                using var dr = acc.Upload(ratio);
                using var dc = acc.Upload(recon);
                using var dt = acc.Upload(table);
                int column = columns - 1;
                ops.LogWeightColumn(dr.V(), dc.V(), dt.V(), column);
                var expected = table.Select((v, i) => i % columns == column ? ratio[i / columns] - (double)recon[i / columns] : v).ToArray();
                Close(expected, dt.Read(ops), 1e-6, 1, "log weights");
                Assert.Throws<ArgumentOutOfRangeException>(() => ops.LogWeightColumn(dr.V(), dc.V(), dt.V(), columns));
            });
    }
}
