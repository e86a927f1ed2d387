using Xunit;
using static IlgpuVae.Tests.Compute.OpsHarness;

namespace IlgpuVae.Tests.Compute;

/// <summary>Double-precision references of the importance-weighting ops, written from the densities themselves.</summary>
public static class LikelihoodReference
{
    /// <summary>
    /// log p(x|z) + log p(z) - log q(z|x) with each Gaussian log density written out in full (log 2 pi terms
    /// included), z = mu + eps sigma, and log p(x|z) = -reconstruction.
    /// </summary>
    public static double[] LogWeights(float[] stats, float[] eps, float[] reconstruction, int latent)
    {
        int rows = reconstruction.Length;
        var result = new double[rows];
        double log2Pi = Math.Log(2 * Math.PI);
        for (int b = 0; b < rows; b++)
        {
            double prior = 0, posterior = 0;
            for (int j = 0; j < latent; j++)
            {
                double mu = stats[b * 2 * latent + j], logvar = stats[b * 2 * latent + latent + j];
                double sigma = Math.Exp(logvar / 2);
                double z = mu + eps[b * latent + j] * sigma;
                prior += -0.5 * log2Pi - 0.5 * z * z;
                posterior += -0.5 * log2Pi - Math.Log(sigma) - 0.5 * (z - mu) * (z - mu) / (sigma * sigma);
            }
            result[b] = -reconstruction[b] + prior - posterior;
        }
        return result;
    }

    /// <summary>log sum exp per row, summed in double after subtracting the row maximum.</summary>
    public static double[] RowLogSumExp(float[] x, int cols)
    {
        int rows = x.Length / cols;
        var result = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity;
            for (int c = 0; c < cols; c++)
                max = Math.Max(max, x[r * cols + c]);
            double sum = 0;
            for (int c = 0; c < cols; c++)
                sum += Math.Exp(x[r * cols + c] - max);
            result[r] = max + Math.Log(sum);
        }
        return result;
    }
}

public sealed class LikelihoodOpsTests
{
    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void ImportanceLogWeight_IntoEveryColumn_MatchesReference(string impl)
    {
        foreach (var (rows, latent, columns) in new[] { (1, 1, 1), (7, 3, 5), (33, 20, 4), (500, 2, 3) })
            With(impl, (acc, ops) =>
            {
                var table = acc.Poisoned(rows * columns);
                var expected = new double[rows * columns];
                for (int k = 0; k < columns; k++)
                {
                    // Log-variances over [-6, 3] cover near-deterministic and broad posteriors.
                    var stats = Random(rows * 2 * latent, 11 + k, -3, 3);
                    for (int b = 0; b < rows; b++)
                        for (int j = 0; j < latent; j++)
                            stats[b * 2 * latent + latent + j] = -1.5f + 4.5f * stats[b * 2 * latent + latent + j] / 3f;
                    var eps = Random(rows * latent, 21 + k, -3, 3);
                    var recon = Random(rows, 31 + k, 50, 250);
                    var z = new float[rows * latent];
                    for (int b = 0; b < rows; b++)
                        for (int j = 0; j < latent; j++)
                            z[b * latent + j] = stats[b * 2 * latent + j] + eps[b * latent + j] * MathF.Exp(stats[b * 2 * latent + latent + j] / 2);
                    using var ds = acc.Upload(stats);
                    using var de = acc.Upload(eps);
                    using var dz = acc.Upload(z);
                    using var dr = acc.Upload(recon);
                    ops.ImportanceLogWeight(ds.V(), de.V(), dz.V(rows * latent), dr.V(rows), table.V(rows * columns), latent, k);
                    var column = LikelihoodReference.LogWeights(stats, eps, recon, latent);
                    for (int b = 0; b < rows; b++)
                        expected[b * columns + k] = column[b];
                }
                // Float sums of Z terms of size up to ~20 beside a BCE of ~100: relative 1e-5 of the row is ample.
                Close(expected, table.Read(ops, rows * columns), 1e-5, 1, "log w");
                table.Dispose();
            });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void RowLogSumExp_VeryNegativeAndSpreadRows_MatchesReference(string impl)
    {
        foreach (var (rows, cols) in new[] { (1, 1), (7, 5), (33, 50), (500, 17), (3, 5000) })
            With(impl, (acc, ops) =>
            {
                // Log weights of a VAE: around -100 nats and below, where exp underflows float.
                var x = Random(rows * cols, rows + cols, -400, -90);
                if (x.Length > 3) { x[0] = -1e4f; x[1] = -90f; x[2] = -90f; }
                using var dx = acc.Upload(x);
                using var output = acc.Poisoned(rows);
                ops.RowLogSumExp(dx.V(), output.V(rows), cols);
                Close(LikelihoodReference.RowLogSumExp(x, cols), output.Read(ops, rows), 1e-6, 1, "logsumexp");
            });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void RowLogSumExp_EqualEntries_IsEntryPlusLogCount(string impl)
    {
        With(impl, (acc, ops) =>
        {
            const int cols = 64;
            var x = Enumerable.Repeat(-500f, 2 * cols).ToArray();
            x.AsSpan(cols).Fill(float.NegativeInfinity);
            using var dx = acc.Upload(x);
            using var output = acc.Poisoned(2);
            ops.RowLogSumExp(dx.V(), output.V(2), cols);
            var values = output.Read(ops, 2);
            Assert.Equal(-500 + Math.Log(cols), values[0], 3);
            Assert.Equal(float.NegativeInfinity, values[1]);
        });
    }

    [Theory]
    [MemberData(nameof(CpuImplementations), MemberType = typeof(OpsHarness))]
    [OpenClData]
    public void LikelihoodOps_BadShapes_Throw(string impl)
    {
        With(impl, (acc, ops) =>
        {
            using var stats = acc.Allocate1D<float>(4 * 2 * 3);
            using var eps = acc.Allocate1D<float>(4 * 3);
            using var z = acc.Allocate1D<float>(4 * 3);
            using var recon = acc.Allocate1D<float>(4);
            using var table = acc.Allocate1D<float>(4 * 5);
            Assert.Throws<ArgumentOutOfRangeException>(() => ops.ImportanceLogWeight(stats.V(), eps.V(), z.V(), recon.V(), table.V(), 3, 5));
            Assert.Throws<ArgumentException>(() => ops.ImportanceLogWeight(stats.V(), eps.V(), z.V(), recon.V(3), table.V(), 3, 0));
            Assert.Throws<ArgumentException>(() => ops.ImportanceLogWeight(stats.V(), eps.V(), z.V(), recon.V(), table.V(19), 3, 0));
            Assert.Throws<ArgumentException>(() => ops.RowLogSumExp(table.V(), recon.V(), 4));
            Assert.Throws<ArgumentOutOfRangeException>(() => ops.RowLogSumExp(table.V(), recon.V(), 0));
        });
    }
    [CudaFact]
    public void Cuda_LikelihoodOps_MatchReference()
    {
        With("cuda", (acc, ops) =>
        {
            const int rows = 500, latent = 20, columns = 50;
            var stats = Random(rows * 2 * latent, 1, -2, 2);
            var eps = Random(rows * latent, 2, -3, 3);
            var recon = Random(rows, 3, 50, 250);
            var z = new float[rows * latent];
            for (int b = 0; b < rows; b++)
                for (int j = 0; j < latent; j++)
                    z[b * latent + j] = stats[b * 2 * latent + j] + eps[b * latent + j] * MathF.Exp(stats[b * 2 * latent + latent + j] / 2);
            using var ds = acc.Upload(stats);
            using var de = acc.Upload(eps);
            using var dz = acc.Upload(z);
            using var dr = acc.Upload(recon);
            using var table = acc.Poisoned(rows * columns);
            using var sums = acc.Poisoned(rows);
            for (int k = 0; k < columns; k++)
                ops.ImportanceLogWeight(ds.V(), de.V(), dz.V(), dr.V(), table.V(), latent, k);
            ops.RowLogSumExp(table.V(), sums.V(), columns);
            var logWeights = LikelihoodReference.LogWeights(stats, eps, recon, latent);
            var expected = new double[rows * columns];
            for (int i = 0; i < expected.Length; i++)
                expected[i] = logWeights[i / columns];
            Close(expected, table.Read(ops), 1e-5, 1, "log w");
            // Every column holds the same log weight w, so each row's logsumexp is w + log K.
            Close(logWeights.Select(w => w + Math.Log(columns)).ToArray(), sums.Read(ops), 1e-5, 1, "logsumexp");
        });
    }
}
