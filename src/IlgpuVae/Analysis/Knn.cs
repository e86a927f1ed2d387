using System.Numerics;

namespace IlgpuVae.Analysis;

/// <summary>
/// Brute-force k-nearest-neighbour classification in Euclidean space, blocked and vectorised for many
/// low-dimensional points (for example 10,000 test x 60,000 training latent codes of 2-20 dimensions).
/// </summary>
internal static class Knn
{
    private const int TestTile = 64;

    /// <summary>
    /// Predicts a label for every test point by majority vote of its <paramref name="k"/> nearest training points.
    /// </summary>
    /// <remarks>
    /// Neighbours are ranked by squared Euclidean distance; equal distances rank the lower training index first.
    /// When several labels share the highest vote count, the one held by the nearest of their neighbours wins
    /// (so with k = 1, or when all k labels differ, the nearest neighbour's label is returned).
    /// If <paramref name="k"/> exceeds the number of training points, all training points vote.
    /// </remarks>
    /// <param name="trainPoints">Row-major training points, nTrain x <paramref name="dims"/>, finite, nTrain at least 1.</param>
    /// <param name="trainLabels">Training labels, nTrain entries.</param>
    /// <param name="testPoints">Row-major test points, nTest x <paramref name="dims"/>, finite.</param>
    /// <param name="dims">Values per point, at least 1.</param>
    /// <param name="k">Number of neighbours, at least 1.</param>
    /// <param name="cancellationToken">Checked before each tile of test points.</param>
    /// <returns>The predicted label of each test point.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static int[] Predict(float[] trainPoints, int[] trainLabels, float[] testPoints, int dims, int k = 5,
        CancellationToken cancellationToken = default)
    {
        int nTrain = AnalysisInput.Rows(trainPoints, dims, nameof(trainPoints));
        AnalysisInput.Labels(trainLabels, nTrain, nameof(trainLabels));
        int nTest = AnalysisInput.Rows(testPoints, dims, nameof(testPoints));
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (nTrain == 0)
        {
            throw new ArgumentException("At least one training point is required.", nameof(trainPoints));
        }

        int kk = Math.Min(k, nTrain);
        var train = new PanelMatrix(trainPoints, nTrain, dims);
        var predictions = new int[nTest];
        int tiles = (nTest + TestTile - 1) / TestTile;

        Parallel.For(0, tiles, new ParallelOptions { CancellationToken = cancellationToken }, tile =>
        {
            int first = tile * TestTile;
            int rows = Math.Min(TestTile, nTest - first);
            var bestDist = new float[rows * kk];
            var bestIndex = new int[rows * kk];
            bestDist.AsSpan().Fill(float.PositiveInfinity);
            bestIndex.AsSpan().Fill(-1);
            Span<float> queries = stackalloc float[PanelMatrix.QueryRows * dims];
            Span<float> dist = stackalloc float[PanelMatrix.QueryRows * PanelMatrix.Width];
            SearchTile(train, testPoints, dims, first, rows, kk, bestDist, bestIndex, queries, dist);

            for (int r = 0; r < rows; r++)
            {
                predictions[first + r] = Vote(bestIndex.AsSpan(r * kk, kk), trainLabels);
            }
        });

        return predictions;
    }

    /// <summary>
    /// Fraction of test points whose <see cref="Predict"/> label equals their true label.
    /// </summary>
    /// <param name="trainPoints">Row-major training points, nTrain x <paramref name="dims"/>.</param>
    /// <param name="trainLabels">Training labels, nTrain entries.</param>
    /// <param name="testPoints">Row-major test points, nTest x <paramref name="dims"/>, nTest at least 1.</param>
    /// <param name="testLabels">True test labels, nTest entries.</param>
    /// <param name="dims">Values per point, at least 1.</param>
    /// <param name="k">Number of neighbours, at least 1.</param>
    /// <param name="cancellationToken">Checked before each tile of test points.</param>
    /// <returns>Accuracy in [0, 1].</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static double Accuracy(
        float[] trainPoints, int[] trainLabels, float[] testPoints, int[] testLabels, int dims, int k = 5,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(testPoints);
        ArgumentOutOfRangeException.ThrowIfLessThan(dims, 1);
        int nTest = testPoints.Length / dims;
        AnalysisInput.Labels(testLabels, nTest, nameof(testLabels));
        if (nTest == 0)
        {
            throw new ArgumentException("At least one test point is required.", nameof(testPoints));
        }

        int[] predicted = Predict(trainPoints, trainLabels, testPoints, dims, k, cancellationToken);
        int correct = 0;
        for (int i = 0; i < nTest; i++)
        {
            if (predicted[i] == testLabels[i])
            {
                correct++;
            }
        }

        return (double)correct / nTest;
    }

    private static void SearchTile(
        PanelMatrix train,
        float[] testPoints,
        int dims,
        int first,
        int rows,
        int k,
        float[] bestDist,
        int[] bestIndex,
        Span<float> queries,
        Span<float> dist)
    {
        int w = PanelMatrix.Width;
        int vc = Vector<float>.Count;
        int nTest = first + rows;

        // About 64 KiB of packed training points per chunk, so a chunk stays in L2 while a tile's queries sweep it.
        int panelsPerChunk = Math.Max(1, 16384 / (dims * w));
        for (int chunkStart = 0; chunkStart < train.PanelCount; chunkStart += panelsPerChunk)
        {
            int chunkEnd = Math.Min(train.PanelCount, chunkStart + panelsPerChunk);
            for (int m = 0; m < rows; m += PanelMatrix.QueryRows)
            {
                int real = PanelMatrix.GatherQueries(testPoints, dims, first + m, nTest, queries);
                for (int panel = chunkStart; panel < chunkEnd; panel++)
                {
                    train.Distances(queries, panel, dist);
                    for (int r = 0; r < real; r++)
                    {
                        int slot = (m + r) * k;
                        float threshold = bestDist[slot + k - 1];
                        var limit = new Vector<float>(threshold);
                        ReadOnlySpan<float> row = dist.Slice(r * w, w);
                        if (!Vector.LessThanAny(new Vector<float>(row), limit) &&
                            !Vector.LessThanAny(new Vector<float>(row.Slice(vc)), limit))
                        {
                            continue;
                        }

                        for (int lane = 0; lane < w; lane++)
                        {
                            float d = row[lane];
                            if (d < bestDist[slot + k - 1])
                            {
                                Insert(bestDist.AsSpan(slot, k), bestIndex.AsSpan(slot, k), d, (panel * w) + lane);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Inserts into ascending lists, after any equal distances (so earlier indices stay ahead).</summary>
    private static void Insert(Span<float> dist, Span<int> index, float d, int i)
    {
        int pos = dist.Length - 1;
        while (pos > 0 && dist[pos - 1] > d)
        {
            dist[pos] = dist[pos - 1];
            index[pos] = index[pos - 1];
            pos--;
        }

        dist[pos] = d;
        index[pos] = i;
    }

    /// <summary>Majority label of the neighbours (nearest first); ties go to the label seen first.</summary>
    private static int Vote(ReadOnlySpan<int> neighbours, int[] labels)
    {
        int bestLabel = labels[neighbours[0]];
        int bestCount = 0;
        for (int i = 0; i < neighbours.Length; i++)
        {
            int label = labels[neighbours[i]];
            int count = 0;
            for (int j = 0; j < neighbours.Length; j++)
            {
                if (labels[neighbours[j]] == label)
                {
                    count++;
                }
            }

            if (count > bestCount)
            {
                bestCount = count;
                bestLabel = label;
            }
        }

        return bestLabel;
    }
}
