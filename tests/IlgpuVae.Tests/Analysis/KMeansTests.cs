using IlgpuVae.Analysis;
using Xunit;

namespace IlgpuVae.Tests.Analysis;

/// <summary>k-means with k-means++ seeding.</summary>
public sealed class KMeansTests
{
    /// <summary>Ten well-separated blobs are recovered exactly (NMI = ARI = 1) and the centres land on the true ones.</summary>
    [Theory]
    [InlineData(2)]
    [InlineData(10)]
    [InlineData(20)]
    public void WellSeparatedBlobs_Recovered(int dims)
    {
        (float[] points, int[] labels, float[] centres) = AnalysisData.Blobs(2000, dims, 10, 30, 1, 3);
        KMeansResult result = KMeans.Fit(points, dims, k: 10, restarts: 5, seed: 1);

        Assert.Equal(1.0, ClusterMetrics.NormalizedMutualInformation(result.Assignments, labels), 9);
        Assert.Equal(1.0, ClusterMetrics.AdjustedRandIndex(result.Assignments, labels), 9);
        Assert.Equal((10, dims), (result.K, result.Dims));
        Assert.Equal(10 * dims, result.Centroids.Length);

        IReadOnlyDictionary<int, int> map = ClusterMetrics.BestMatchMapping(result.Assignments, labels);
        for (int c = 0; c < 10; c++)
        {
            int truth = map[c];
            for (int d = 0; d < dims; d++)
            {
                Assert.InRange(result.Centroids[(c * dims) + d] - centres[(truth * dims) + d], -0.25f, 0.25f);
            }
        }
    }

    /// <summary>Same seed, same result; inertia equals the recomputed sum of squared distances.</summary>
    [Fact]
    public void Deterministic_AndInertiaConsistent()
    {
        (float[] points, _, _) = AnalysisData.Blobs(1500, 6, 8, 2, 1, 4);
        KMeansResult a = KMeans.Fit(points, 6, k: 8, restarts: 4, seed: 11);
        KMeansResult b = KMeans.Fit(points, 6, k: 8, restarts: 4, seed: 11);
        Assert.Equal(a.Assignments, b.Assignments);
        Assert.Equal(a.Centroids, b.Centroids);
        Assert.Equal(a.Inertia, b.Inertia);

        double inertia = 0;
        for (int i = 0; i < 1500; i++)
        {
            double best = double.PositiveInfinity;
            for (int c = 0; c < 8; c++)
            {
                double sum = 0;
                for (int d = 0; d < 6; d++)
                {
                    double t = points[(i * 6) + d] - a.Centroids[(c * 6) + d];
                    sum += t * t;
                }

                best = Math.Min(best, sum);
            }

            inertia += best;
        }

        Assert.Equal(inertia, a.Inertia, inertia * 1e-5);
    }

    /// <summary>More restarts never give a worse inertia than the first restart alone (same seed stream).</summary>
    [Fact]
    public void MoreRestarts_NotWorse()
    {
        (float[] points, _, _) = AnalysisData.Blobs(1000, 3, 10, 1.5, 1, 5);
        KMeansResult one = KMeans.Fit(points, 3, k: 10, restarts: 1, seed: 2);
        KMeansResult many = KMeans.Fit(points, 3, k: 10, restarts: 8, seed: 2);
        Assert.True(many.Inertia <= one.Inertia);
    }

    /// <summary>With k = 1 the centre is the mean.</summary>
    [Fact]
    public void SingleCluster_IsMean()
    {
        KMeansResult result = KMeans.Fit([1f, 2f, 3f, 6f, 5f, 10f], 2, k: 1, restarts: 1);
        Assert.Equal(3f, result.Centroids[0], 5);
        Assert.Equal(6f, result.Centroids[1], 5);
        Assert.All(result.Assignments, a => Assert.Equal(0, a));
    }

    /// <summary>Fewer distinct points than clusters: no failure, zero inertia, every assignment valid.</summary>
    [Fact]
    public void DuplicatePoints_Handled()
    {
        float[] points = [.. Enumerable.Range(0, 30).Select(i => (float)(i % 3))];
        KMeansResult result = KMeans.Fit(points, 1, k: 5, restarts: 2, seed: 3);
        Assert.Equal(0.0, result.Inertia);
        Assert.All(result.Assignments, a => Assert.InRange(a, 0, 4));
    }

    /// <summary>Fewer points than clusters is rejected.</summary>
    [Fact]
    public void TooFewPoints_Throws()
    {
        Assert.Throws<ArgumentException>(() => KMeans.Fit([0f, 1f], 1, k: 3));
    }
}
