using IlgpuVae.Analysis;
using Xunit;

namespace IlgpuVae.Tests.Analysis;

/// <summary>NMI, ARI, best-match accuracy and silhouette against hand-computed and independent reference values.</summary>
public sealed class ClusterMetricsTests
{
    private static readonly int[] Irregular1 = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2];
    private static readonly int[] Irregular2 = [5, 5, 7, 7, 7, 7, 9, 9, 9, 9, 5, 7];

    /// <summary>A labeling compared with itself scores 1 on every external metric.</summary>
    [Fact]
    public void IdenticalLabelings_ScoreOne()
    {
        int[] labels = AnalysisData.RandomLabels(500, 10, 1);
        Assert.Equal(1.0, ClusterMetrics.NormalizedMutualInformation(labels, labels), 12);
        Assert.Equal(1.0, ClusterMetrics.AdjustedRandIndex(labels, labels), 12);
        Assert.Equal(1.0, ClusterMetrics.BestMatchAccuracy(labels, labels), 12);
    }

    /// <summary>Renaming the clusters (a permutation of label values, plus arbitrary integers) changes nothing.</summary>
    [Fact]
    public void PermutedLabelNames_ScoreOne()
    {
        int[] labels = AnalysisData.RandomLabels(500, 10, 2);
        int[] rename = [7, 3, 9, 0, 1, -4, 100, 5, 2, 8];
        int[] renamed = labels.Select(l => rename[l]).ToArray();
        Assert.Equal(1.0, ClusterMetrics.NormalizedMutualInformation(labels, renamed), 12);
        Assert.Equal(1.0, ClusterMetrics.AdjustedRandIndex(labels, renamed), 12);
        Assert.Equal(1.0, ClusterMetrics.BestMatchAccuracy(renamed, labels), 12);
        Assert.Equal(rename[4], ClusterMetrics.BestMatchMapping(labels, renamed)[4]);
    }

    /// <summary>Independent random labelings: ARI near 0 (it is adjusted for chance), NMI small.</summary>
    [Fact]
    public void IndependentLabelings_AriNearZero()
    {
        int[] a = AnalysisData.RandomLabels(20000, 10, 3);
        int[] b = AnalysisData.RandomLabels(20000, 10, 4);
        Assert.InRange(ClusterMetrics.AdjustedRandIndex(a, b), -0.005, 0.005);
        Assert.InRange(ClusterMetrics.NormalizedMutualInformation(a, b), 0.0, 0.01);
    }

    /// <summary>
    /// [0,0,0,1,1,1] vs [0,0,1,1,2,2] by hand. ARI: sum C(n_ij,2) = 2, sum C(a_i,2) = 6, sum C(b_j,2) = 3,
    /// C(6,2) = 15, expected = 6*3/15 = 1.2, max = 4.5, ARI = 0.8 / 3.3 = 8/33. NMI: MI = (2/3) ln 2,
    /// H(a) = ln 2, H(b) = ln 3, NMI = (2/3) ln 2 / ((ln 2 + ln 3) / 2).
    /// </summary>
    [Fact]
    public void HandExample_MatchesHandComputation()
    {
        int[] a = [0, 0, 0, 1, 1, 1];
        int[] b = [0, 0, 1, 1, 2, 2];
        Assert.Equal(8.0 / 33.0, ClusterMetrics.AdjustedRandIndex(a, b), 12);
        double nmi = 2.0 / 3.0 * Math.Log(2) / ((Math.Log(2) + Math.Log(3)) / 2);
        Assert.Equal(nmi, ClusterMetrics.NormalizedMutualInformation(a, b), 12);
        Assert.Equal(0.5158037429793888, nmi, 12);
    }

    /// <summary>An irregular example; expected values from an independent stdlib-Python script (combinatorial ARI, entropy NMI).</summary>
    [Fact]
    public void IrregularExample_MatchesReferenceScript()
    {
        Assert.Equal(0.039193729003359, ClusterMetrics.AdjustedRandIndex(Irregular1, Irregular2), 12);
        Assert.Equal(0.270457014145985, ClusterMetrics.NormalizedMutualInformation(Irregular1, Irregular2), 12);
    }

    /// <summary>Both scores are symmetric in their arguments.</summary>
    [Fact]
    public void Scores_AreSymmetric()
    {
        Assert.Equal(
            ClusterMetrics.AdjustedRandIndex(Irregular1, Irregular2),
            ClusterMetrics.AdjustedRandIndex(Irregular2, Irregular1),
            14);
        Assert.Equal(
            ClusterMetrics.NormalizedMutualInformation(Irregular1, Irregular2),
            ClusterMetrics.NormalizedMutualInformation(Irregular2, Irregular1),
            14);
    }

    /// <summary>scikit-learn's limit cases: one cluster in both scores 1; one cluster versus several scores 0 (NMI).</summary>
    [Fact]
    public void TrivialPartitions_FollowScikitLearn()
    {
        int[] one = [4, 4, 4, 4];
        int[] split = [0, 0, 1, 1];
        Assert.Equal(1.0, ClusterMetrics.NormalizedMutualInformation(one, one));
        Assert.Equal(1.0, ClusterMetrics.AdjustedRandIndex(one, one));
        Assert.Equal(0.0, ClusterMetrics.NormalizedMutualInformation(one, split));
        Assert.Equal(0.0, ClusterMetrics.AdjustedRandIndex(one, split), 12);
    }

    /// <summary>
    /// Cluster 0 holds labels {x:4, y:3}, cluster 1 holds {x:3, z:1}. Per-cluster majority would map both to x (7/11),
    /// but one-to-one the best is 0->y, 1->x: (3 + 3) / 11.
    /// </summary>
    [Fact]
    public void BestMatch_IsOneToOne()
    {
        int[] clusters = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1];
        int[] labels = [10, 10, 10, 10, 20, 20, 20, 10, 10, 10, 30];
        Assert.Equal(6.0 / 11.0, ClusterMetrics.BestMatchAccuracy(clusters, labels), 12);
        IReadOnlyDictionary<int, int> map = ClusterMetrics.BestMatchMapping(clusters, labels);
        Assert.Equal(20, map[0]);
        Assert.Equal(10, map[1]);
    }

    /// <summary>The irregular example by hand: 0->5 (2), 1->7 (2), 2->9 (3) is optimal, 7/12.</summary>
    [Fact]
    public void BestMatch_IrregularExample()
    {
        Assert.Equal(7.0 / 12.0, ClusterMetrics.BestMatchAccuracy(Irregular1, Irregular2), 12);
    }

    /// <summary>More clusters than labels: only one cluster can take the single label.</summary>
    [Fact]
    public void BestMatch_MoreClustersThanLabels()
    {
        Assert.Equal(1.0 / 3.0, ClusterMetrics.BestMatchAccuracy([0, 1, 2], [0, 0, 0]), 12);
        Assert.Equal(2.0 / 3.0, ClusterMetrics.BestMatchAccuracy([0, 0, 1], [0, 1, 2]), 12);
    }

    /// <summary>Mismatched lengths and empty input are rejected.</summary>
    [Fact]
    public void InvalidInput_Throws()
    {
        Assert.Throws<ArgumentException>(() => ClusterMetrics.AdjustedRandIndex([0, 1], [0]));
        Assert.Throws<ArgumentException>(() => ClusterMetrics.NormalizedMutualInformation([], []));
    }

    /// <summary>Two tight blobs far apart: every point's a is tiny relative to b, so the silhouette is near 1.</summary>
    [Fact]
    public void Silhouette_FarApartTightBlobs_NearOne()
    {
        (float[] points, int[] labels, _) = AnalysisData.Blobs(400, 5, 2, 100, 0.1, 5);
        double s = ClusterMetrics.Silhouette(points, 5, labels);
        Assert.InRange(s, 0.99, 1.0);
    }

    /// <summary>
    /// 1-D points 0, 1 (cluster A) and 4, 6 (cluster B), by hand: s(0) = (5 - 1) / 5, s(1) = (4 - 1) / 4,
    /// s(4) = (3.5 - 2) / 3.5, s(6) = (5.5 - 2) / 5.5; mean 0.6537337662...
    /// </summary>
    [Fact]
    public void Silhouette_HandExample()
    {
        double expected = ((4.0 / 5) + (3.0 / 4) + (1.5 / 3.5) + (3.5 / 5.5)) / 4;
        Assert.Equal(0.6537337662337662, expected, 14);
        Assert.Equal(expected, ClusterMetrics.Silhouette([0f, 1f, 4f, 6f], 1, [0, 0, 1, 1]), 6);
    }

    /// <summary>2-D example with a singleton cluster (scores 0); expected from the independent Python script.</summary>
    [Fact]
    public void Silhouette_WithSingleton_MatchesReferenceScript()
    {
        float[] points = [0, 0, 1, 0, 0, 2, 5, 5, 6, 4, 10, 0];
        int[] labels = [3, 3, 3, 8, 8, 1];
        Assert.Equal(0.6198327428490326, ClusterMetrics.Silhouette(points, 2, labels), 6);
    }

    /// <summary>Subsampling is deterministic per seed and close to the exact full value on homogeneous data.</summary>
    [Fact]
    public void Silhouette_Subsample_DeterministicAndClose()
    {
        (float[] points, int[] labels, _) = AnalysisData.Blobs(3000, 4, 5, 3, 1.0, 6);
        double full = ClusterMetrics.Silhouette(points, 4, labels, maxSamples: 3000);
        double a = ClusterMetrics.Silhouette(points, 4, labels, maxSamples: 1000, seed: 9);
        double b = ClusterMetrics.Silhouette(points, 4, labels, maxSamples: 1000, seed: 9);
        Assert.Equal(a, b);
        Assert.InRange(a - full, -0.03, 0.03);
    }

    /// <summary>Silhouette is undefined for a single cluster (as scikit-learn, it throws).</summary>
    [Fact]
    public void Silhouette_SingleCluster_Throws()
    {
        Assert.Throws<ArgumentException>(() => ClusterMetrics.Silhouette([0f, 1f, 2f], 1, [1, 1, 1]));
    }
}
