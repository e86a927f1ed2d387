using IlgpuVae.Analysis;
using Xunit;

namespace IlgpuVae.Tests.Analysis;

public sealed class LatentClusteringTests
{
    [Fact]
    public void Evaluate_SeparableClusters_ScorePerfectly()
    {
        // Ten tight, far-apart blobs in 5-D: kNN, k-means and every agreement score are perfect.
        var (reference, referenceLabels, _) = AnalysisData.Blobs(2000, 5, 10, separation: 20, spread: 0.5, seed: 1);
        var (points, labels, _) = AnalysisData.Blobs(1000, 5, 10, separation: 20, spread: 0.5, seed: 2);
        var report = LatentClustering.Evaluate(reference, referenceLabels, points, labels, 5, restarts: 5);
        Assert.Equal(1.0, report.KnnAccuracy);
        Assert.Equal(1.0, report.KMeansNmi, 12);
        Assert.Equal(1.0, report.KMeansAri, 12);
        Assert.Equal(1.0, report.KMeansAccuracy, 12);
        Assert.InRange(report.SilhouetteByLabel, 0.9, 1.0);
        Assert.Equal(report.SilhouetteByLabel, report.SilhouetteByCluster, 12);
        Assert.Equal((5, 10, 5), (report.KnnK, report.Clusters, report.Restarts));
    }

    [Fact]
    public void Evaluate_PermutedLabelNames_ScoreTheSame()
    {
        var (reference, referenceLabels, _) = AnalysisData.Blobs(1000, 3, 10, separation: 3, spread: 1, seed: 3);
        var (points, labels, _) = AnalysisData.Blobs(500, 3, 10, separation: 3, spread: 1, seed: 4);
        int[] rename = [7, 3, 9, 0, 1, 8, 2, 5, 4, 6];
        var plain = LatentClustering.Evaluate(reference, referenceLabels, points, labels, 3);
        var renamed = LatentClustering.Evaluate(reference, referenceLabels.Select(l => rename[l]).ToArray(),
            points, labels.Select(l => rename[l]).ToArray(), 3);
        Assert.Equal(plain, renamed);
        Assert.InRange(plain.KnnAccuracy, 0.2, 0.99);
    }

    [Fact]
    public void Evaluate_LabelsUnrelatedToPoints_ScoreNearChance()
    {
        var (reference, _, _) = AnalysisData.Blobs(2000, 2, 10, separation: 10, spread: 1, seed: 5);
        var (points, _, _) = AnalysisData.Blobs(1000, 2, 10, separation: 10, spread: 1, seed: 6);
        var report = LatentClustering.Evaluate(reference, AnalysisData.RandomLabels(2000, 10, 7), points,
            AnalysisData.RandomLabels(1000, 10, 8), 2, restarts: 3);
        Assert.InRange(report.KnnAccuracy, 0.05, 0.16);
        Assert.InRange(report.KMeansAri, -0.02, 0.02);
        Assert.InRange(report.KMeansNmi, 0, 0.05);
        Assert.InRange(report.SilhouetteByLabel, -0.2, 0.05);
        Assert.InRange(report.SilhouetteByCluster, 0.5, 1);
    }
}
