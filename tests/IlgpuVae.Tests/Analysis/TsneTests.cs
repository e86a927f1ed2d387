using IlgpuVae.Analysis;
using IlgpuVae.Imaging;
using Xunit;

namespace IlgpuVae.Tests.Analysis;

/// <summary>Exact t-SNE.</summary>
public sealed class TsneTests
{
    /// <summary>Three separated blobs in 10-D stay separated in 2-D (k-means on the embedding recovers them) and the run is deterministic.</summary>
    [Fact]
    public void SeparatedBlobs_StaySeparated_Deterministic()
    {
        (float[] points, int[] labels, _) = AnalysisData.Blobs(150, 10, 3, 10, 1, 9);
        float[] a = Tsne.Embed(points, 10, perplexity: 20, iterations: 400);
        float[] b = Tsne.Embed(points, 10, perplexity: 20, iterations: 400);
        Assert.Equal(a, b);
        Assert.Equal(300, a.Length);
        Assert.All(a, v => Assert.True(float.IsFinite(v)));

        KMeansResult clusters = KMeans.Fit(a, 2, k: 3, restarts: 3);
        Assert.Equal(1.0, ClusterMetrics.NormalizedMutualInformation(clusters.Assignments, labels), 9);
        Assert.Equal(1.0, Knn.Accuracy(a, labels, a, labels, 2, 1));
        Assert.True(ClusterMetrics.Silhouette(a, 2, labels) > 0.7);
    }

    /// <summary>Perplexity must be below the number of points.</summary>
    [Fact]
    public void InvalidPerplexity_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Tsne.Embed(new float[20], 2, perplexity: 10));
    }
}
