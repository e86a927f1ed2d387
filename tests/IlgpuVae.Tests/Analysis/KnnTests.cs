using IlgpuVae.Analysis;
using Xunit;

namespace IlgpuVae.Tests.Analysis;

/// <summary>k-nearest-neighbour classification.</summary>
public sealed class KnnTests
{
    /// <summary>Well-separated clusters are classified perfectly.</summary>
    [Theory]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(20)]
    public void WellSeparatedClusters_Perfect(int dims)
    {
        (float[] train, int[] trainLabels, _) = AnalysisData.Blobs(1003, dims, 10, 20, 1, 1);
        (float[] test, int[] testLabels, _) = AnalysisData.Blobs(301, dims, 10, 20, 1, 2);
        Assert.Equal(1.0, Knn.Accuracy(train, trainLabels, test, testLabels, dims, 5));
    }

    /// <summary>
    /// Matches a brute-force reference exactly, including tie-breaking: integer coordinates make every distance
    /// exact in float, so many exact ties occur; the reference ranks by (distance, index) and breaks vote ties by
    /// the nearest neighbour holding a tied label. Sizes are not multiples of the SIMD panel or the test tile.
    /// </summary>
    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 5)]
    [InlineData(5, 4)]
    [InlineData(20, 7)]
    public void MatchesBruteForce(int dims, int k)
    {
        var rng = new Random(dims * 31 + k);
        int nTrain = 517;
        int nTest = 133;
        float[] train = Enumerable.Range(0, nTrain * dims).Select(_ => (float)rng.Next(-3, 4)).ToArray();
        float[] test = Enumerable.Range(0, nTest * dims).Select(_ => (float)rng.Next(-3, 4)).ToArray();
        int[] trainLabels = AnalysisData.RandomLabels(nTrain, 4, dims);

        int[] predicted = Knn.Predict(train, trainLabels, test, dims, k);

        for (int i = 0; i < nTest; i++)
        {
            int[] order = Enumerable.Range(0, nTrain)
                .OrderBy(j => Distance(test, i, train, j, dims))
                .ThenBy(j => j)
                .Take(k)
                .ToArray();
            int[] votes = order.Select(j => trainLabels[j]).ToArray();
            int expected = votes.OrderByDescending(l => votes.Count(v => v == l)).ThenBy(l => Array.IndexOf(votes, l)).First();
            Assert.Equal(expected, predicted[i]);
        }
    }

    /// <summary>
    /// Query at 0; training points 1 (label 7), -2 (3), 2.5 (3), -3 (7). With k = 4 the vote is 2-2 and the
    /// nearest neighbour's label (7) wins; moving the label-3 point to 0.5 makes 3 the nearest and the winner.
    /// </summary>
    [Fact]
    public void VoteTie_GoesToNearestNeighbour()
    {
        Assert.Equal([7], Knn.Predict([1f, -2f, 2.5f, -3f], [7, 3, 3, 7], [0f], 1, 4));
        Assert.Equal([3], Knn.Predict([1f, -0.5f, 2.5f, -3f], [7, 3, 3, 7], [0f], 1, 4));
    }

    /// <summary>k = 1 returns the nearest point's label, and k beyond the training size lets everyone vote.</summary>
    [Fact]
    public void EdgeValuesOfK()
    {
        float[] train = [0f, 10f, 11f];
        int[] labels = [1, 2, 2];
        Assert.Equal([1, 2], Knn.Predict(train, labels, [1f, 9f], 1, 1));
        Assert.Equal([2, 2], Knn.Predict(train, labels, [1f, 9f], 1, 50));
    }

    /// <summary>Bad shapes and non-finite values are rejected.</summary>
    [Fact]
    public void InvalidInput_Throws()
    {
        Assert.Throws<ArgumentException>(() => Knn.Accuracy([0f, 1f, 2f], [0], [0f, 1f], [0], 2));
        Assert.Throws<ArgumentException>(() => Knn.Accuracy([0f, 1f], [0, 1], [float.NaN], [0], 1));
        Assert.Throws<ArgumentException>(() => Knn.Predict([], [], [0f], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Knn.Predict([0f], [0], [0f], 1, 0));
    }

    private static double Distance(float[] a, int i, float[] b, int j, int dims)
    {
        double sum = 0;
        for (int d = 0; d < dims; d++)
        {
            double t = a[(i * dims) + d] - b[(j * dims) + d];
            sum += t * t;
        }

        return sum;
    }
}
