using IlgpuVae.Analysis;
using Xunit;

namespace IlgpuVae.Tests.Analysis;

/// <summary>Principal component analysis.</summary>
public sealed class PcaTests
{
    [Fact]
    public void PrincipalPlane_Project_IsThePcaProjection()
    {
        // LatentPlane.Project is the public path to Pca.Project (the plots and t-SNE's initialisation use it): the same
        // numbers, bit for bit.
        var rng = new Random(3);
        const int dims = 5;
        float[] points = [.. Enumerable.Range(0, 300 * dims).Select(i => (float)(AnalysisData.Gaussian(rng) * (1 + (i % dims))))];
        var pca = Pca.Fit(points, dims, 2);
        var plane = LatentPlane.Principal(points, dims);
        Assert.Equal(pca.Project(points), plane.Project(points));
        Assert.Equal(pca.ExplainedVarianceRatio, plane.ExplainedVarianceRatio);
        // A plane through the origin projects without centring.
        Assert.Equal([3f, 1f], LatentPlane.OfAxes(3, 2, 0).Project([1f, 2f, 3f]));
    }

    /// <summary>
    /// Anisotropic Gaussian in 6-D: standard deviation 5 along a random unit direction u plus isotropic noise of
    /// standard deviation 0.5. PC1 must be +-u, its variance about 25.25 and its ratio 25.25 / (25.25 + 5 * 0.25).
    /// </summary>
    [Fact]
    public void RecoversDominantDirection()
    {
        const int dims = 6;
        const int n = 20000;
        var rng = new Random(7);
        double[] u = [.. Enumerable.Range(0, dims).Select(_ => AnalysisData.Gaussian(rng))];
        double norm = Math.Sqrt(u.Sum(x => x * x));
        u = [.. u.Select(x => x / norm)];
        float[] offset = [3f, -2f, 10f, 0f, 1f, 5f];
        var points = new float[n * dims];
        for (int i = 0; i < n; i++)
        {
            double t = 5 * AnalysisData.Gaussian(rng);
            for (int d = 0; d < dims; d++)
            {
                points[(i * dims) + d] = offset[d] + (float)((t * u[d]) + (0.5 * AnalysisData.Gaussian(rng)));
            }
        }

        Pca pca = Pca.Fit(points, dims, components: 2);

        double dot = 0;
        for (int d = 0; d < dims; d++)
        {
            dot += pca.Components[d] * u[d];
            Assert.Equal(offset[d], pca.Mean[d], 0.1);
        }

        Assert.InRange(Math.Abs(dot), 0.999, 1.0001);
        Assert.Equal(25.25, pca.ExplainedVariance[0], 25.25 * 0.04);
        Assert.Equal(0.25, pca.ExplainedVariance[1], 0.25 * 0.1);
        Assert.Equal(25.25 / (25.25 + (5 * 0.25)), pca.ExplainedVarianceRatio[0], 0.01);

        // Components are orthonormal.
        double norm0 = 0, norm1 = 0, cross = 0;
        for (int d = 0; d < dims; d++)
        {
            norm0 += pca.Components[d] * pca.Components[d];
            norm1 += pca.Components[dims + d] * pca.Components[dims + d];
            cross += pca.Components[d] * pca.Components[dims + d];
        }

        Assert.Equal(1.0, norm0, 5);
        Assert.Equal(1.0, norm1, 5);
        Assert.Equal(0.0, cross, 5);

        // Projections are centred and their variance equals the explained variance.
        float[] projected = pca.Project(points);
        Assert.Equal(n * 2, projected.Length);
        double mean = 0, variance = 0;
        for (int i = 0; i < n; i++)
        {
            mean += projected[2 * i];
        }

        mean /= n;
        for (int i = 0; i < n; i++)
        {
            variance += (projected[2 * i] - mean) * (projected[2 * i] - mean);
        }

        variance /= n - 1;
        Assert.Equal(0.0, mean, 2);
        Assert.Equal(pca.ExplainedVariance[0], variance, pca.ExplainedVariance[0] * 1e-3);
    }

    /// <summary>
    /// Points (0,0), (2,2), (1,-1), (3,1): covariance [[5/3, 1], [1, 5/3]] by hand, eigenvalues 8/3 and 2/3 with
    /// directions (1,1)/sqrt2 and (1,-1)/sqrt2.
    /// </summary>
    [Fact]
    public void HandExample()
    {
        Pca pca = Pca.Fit([0f, 0f, 2f, 2f, 1f, -1f, 3f, 1f], 2, components: 2);
        Assert.Equal(8.0 / 3, pca.ExplainedVariance[0], 9);
        Assert.Equal(2.0 / 3, pca.ExplainedVariance[1], 9);
        Assert.Equal(0.8, pca.ExplainedVarianceRatio[0], 9);
        double h = Math.Sqrt(0.5);
        Assert.Equal(h, pca.Components[0], 6);
        Assert.Equal(h, pca.Components[1], 6);
        Assert.Equal(h, Math.Abs(pca.Components[2]), 6);
        Assert.Equal(-pca.Components[2], pca.Components[3], 6);
        Assert.Equal([1.5f, 0.5f], pca.Mean);

        // (0,0) - mean = (-1.5, -0.5) -> PC1 = -2 / sqrt2.
        Assert.Equal(-2 * h, pca.Project([0f, 0f])[0], 5);
    }

    /// <summary>The Jacobi solver reproduces a known 3x3 spectrum (diag(1,2,3) rotated).</summary>
    [Fact]
    public void Jacobi_KnownSpectrum()
    {
        // A = Q diag(1,2,3) Q^T with Q a rotation about (1,1,1); symmetric with eigenvalues 1, 2, 3.
        double c = Math.Cos(0.7), s = Math.Sin(0.7), k = 1 / Math.Sqrt(3);
        double[] axis = [k, k, k];
        var q = new double[3, 3];
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                double cross = i == j ? 0 : (((j - i + 3) % 3) == 1 ? -axis[3 - i - j] : axis[3 - i - j]);
                q[i, j] = ((i == j ? c : 0) + ((1 - c) * axis[i] * axis[j])) + (s * cross);
            }
        }

        var a = new double[3, 3];
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                for (int m = 0; m < 3; m++)
                {
                    a[i, j] += q[i, m] * (m + 1) * q[j, m];
                }
            }
        }

        (double[] values, double[,] vectors) = Pca.Jacobi(a);
        Assert.Equal([1.0, 2.0, 3.0], values.Order().Select(v => Math.Round(v, 10)));
        for (int col = 0; col < 3; col++)
        {
            // A v = lambda v
            for (int i = 0; i < 3; i++)
            {
                double av = 0;
                for (int j = 0; j < 3; j++)
                {
                    av += a[i, j] * vectors[j, col];
                }

                Assert.Equal(values[col] * vectors[i, col], av, 10);
            }
        }
    }

    /// <summary>Components must lie in 1..dims.</summary>
    [Fact]
    public void InvalidComponents_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Pca.Fit([0f, 1f, 2f, 3f], 2, components: 3));
        Assert.Throws<ArgumentException>(() => Pca.Fit([0f, 1f], 2));
    }
}
