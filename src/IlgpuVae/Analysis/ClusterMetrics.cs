using System.Numerics.Tensors;

namespace IlgpuVae.Analysis;

/// <summary>
/// External clustering scores (comparing two labelings) and the internal silhouette score, following
/// scikit-learn's definitions. Label values are arbitrary integers; only equality matters.
/// </summary>
internal static class ClusterMetrics
{
    /// <summary>
    /// Normalised mutual information with arithmetic-mean normalisation, MI / ((H(a) + H(b)) / 2), natural
    /// logarithms (scikit-learn's <c>normalized_mutual_info_score</c> default). Symmetric in its arguments.
    /// </summary>
    /// <remarks>
    /// As in scikit-learn, two labelings that each put every point in one cluster score 1, and zero mutual
    /// information scores 0. The result is clamped to [0, 1] to remove rounding excursions.
    /// </remarks>
    /// <param name="a">First labeling, at least one point.</param>
    /// <param name="b">Second labeling, same length.</param>
    /// <returns>NMI in [0, 1].</returns>
    public static double NormalizedMutualInformation(int[] a, int[] b)
    {
        Contingency t = Contingency.Build(a, b);
        if (t.RowCount == 1 && t.ColumnCount == 1)
        {
            return 1.0;
        }

        double n = t.N;
        double mi = 0;
        foreach (((int row, int col), int count) in t.Cells)
        {
            mi += count / n * (Math.Log(count) + Math.Log(n) - Math.Log(t.RowSums[row]) - Math.Log(t.ColumnSums[col]));
        }

        if (mi <= 0)
        {
            return 0.0;
        }

        double normaliser = (Entropy(t.RowSums, n) + Entropy(t.ColumnSums, n)) / 2;
        return Math.Clamp(mi / normaliser, 0.0, 1.0);
    }

    /// <summary>
    /// Adjusted Rand index (Hubert and Arabie), computed like scikit-learn's <c>adjusted_rand_score</c> from the
    /// pair-confusion matrix. 1 for identical partitions (up to renaming), about 0 for independent ones, and it can
    /// be negative. Symmetric in its arguments.
    /// </summary>
    /// <param name="a">First labeling, at least one point.</param>
    /// <param name="b">Second labeling, same length.</param>
    /// <returns>The adjusted Rand index, at most 1.</returns>
    public static double AdjustedRandIndex(int[] a, int[] b)
    {
        Contingency t = Contingency.Build(a, b);
        long n = t.N;
        long sumSquares = 0;
        foreach (int count in t.Cells.Values)
        {
            sumSquares += (long)count * count;
        }

        long rowSquares = 0;
        foreach (int s in t.RowSums)
        {
            rowSquares += (long)s * s;
        }

        long colSquares = 0;
        foreach (int s in t.ColumnSums)
        {
            colSquares += (long)s * s;
        }

        // Ordered pairs: tp = same/same, fp = different in a but same in b, fn = same in a but different in b.
        double tp = sumSquares - n;
        double fp = colSquares - sumSquares;
        double fn = rowSquares - sumSquares;
        double tn = ((double)n * n) - fp - fn - sumSquares;
        if (fn == 0 && fp == 0)
        {
            return 1.0;
        }

        return 2.0 * ((tp * tn) - (fn * fp)) / (((tp + fn) * (fn + tn)) + ((tp + fp) * (fp + tn)));
    }

    /// <summary>
    /// Clustering accuracy under the best one-to-one mapping of clusters to labels: the largest fraction of
    /// points whose label equals the label mapped from their cluster, found with the Hungarian algorithm.
    /// Clusters left without a label (more clusters than labels) count as wrong.
    /// </summary>
    /// <param name="clusters">Cluster of each point, at least one point.</param>
    /// <param name="labels">True label of each point, same length.</param>
    /// <returns>Accuracy in [0, 1].</returns>
    public static double BestMatchAccuracy(int[] clusters, int[] labels)
    {
        Contingency t = Contingency.Build(clusters, labels);
        double[,] cost = NegatedCounts(t);
        int[] match = Hungarian.Solve(cost);
        return -Hungarian.TotalCost(cost, match) / t.N;
    }

    /// <summary>The cluster-to-label mapping behind <see cref="BestMatchAccuracy"/>.</summary>
    /// <param name="clusters">Cluster of each point, at least one point.</param>
    /// <param name="labels">True label of each point, same length.</param>
    /// <returns>For each mapped cluster value, its label value; clusters left without a label are absent.</returns>
    public static IReadOnlyDictionary<int, int> BestMatchMapping(int[] clusters, int[] labels)
    {
        Contingency t = Contingency.Build(clusters, labels);
        int[] match = Hungarian.Solve(NegatedCounts(t));
        var map = new Dictionary<int, int>();
        for (int r = 0; r < match.Length; r++)
        {
            if (match[r] >= 0)
            {
                map[t.RowValues[r]] = t.ColumnValues[match[r]];
            }
        }

        return map;
    }

    /// <summary>
    /// Mean silhouette coefficient with Euclidean distances (scikit-learn's <c>silhouette_score</c>). For a point
    /// i, a = mean distance to the other points of its cluster, b = the smallest mean distance to the points of
    /// another cluster, s = (b - a) / max(a, b); a point alone in its cluster scores 0.
    /// </summary>
    /// <remarks>
    /// With more than <paramref name="maxSamples"/> points, a subset of exactly <paramref name="maxSamples"/>
    /// points is drawn without replacement by a <see cref="Random"/> seeded with <paramref name="seed"/>, and the
    /// score is computed exactly on that subset (distances only among sampled points, as scikit-learn's
    /// <c>sample_size</c>). Cost is O(m^2 dims) for m evaluated points.
    /// </remarks>
    /// <param name="points">Row-major n x <paramref name="dims"/> points, finite.</param>
    /// <param name="dims">Values per point, at least 1.</param>
    /// <param name="labels">Cluster label of each point.</param>
    /// <param name="maxSamples">Largest number of points evaluated, at least 2.</param>
    /// <param name="seed">Seed for the subsample.</param>
    /// <returns>The mean silhouette in [-1, 1].</returns>
    /// <exception cref="ArgumentException">The evaluated points do not form between 2 and m - 1 clusters.</exception>
    public static double Silhouette(float[] points, int dims, int[] labels, int maxSamples = 10000, int seed = 0)
    {
        int n = AnalysisInput.Rows(points, dims, nameof(points));
        AnalysisInput.Labels(labels, n, nameof(labels));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSamples, 2);

        int[] sample = SampleIndices(n, maxSamples, seed);
        int m = sample.Length;

        // Group the sample by cluster so each cluster's distances form one contiguous range.
        var ids = new Dictionary<int, int>();
        var compact = new int[m];
        for (int i = 0; i < m; i++)
        {
            int label = labels[sample[i]];
            if (!ids.TryGetValue(label, out int id))
            {
                id = ids.Count;
                ids.Add(label, id);
            }

            compact[i] = id;
        }

        int clusterCount = ids.Count;
        if (clusterCount < 2 || clusterCount > m - 1)
        {
            throw new ArgumentException(
                $"Silhouette needs between 2 and {m - 1} clusters among the {m} evaluated points but found {clusterCount}.",
                nameof(labels));
        }

        var start = new int[clusterCount + 1];
        foreach (int c in compact)
        {
            start[c + 1]++;
        }

        for (int c = 0; c < clusterCount; c++)
        {
            start[c + 1] += start[c];
        }

        var cluster = new int[m];
        var ordered = new float[m * dims];
        var next = (int[])start.Clone();
        for (int i = 0; i < m; i++)
        {
            int pos = next[compact[i]]++;
            cluster[pos] = compact[i];
            points.AsSpan(sample[i] * dims, dims).CopyTo(ordered.AsSpan(pos * dims, dims));
        }

        var packed = new PanelMatrix(ordered, m, dims);
        int w = PanelMatrix.Width;
        int stride = packed.PanelCount * w;
        var scores = new double[m];
        int blocks = (m + PanelMatrix.QueryRows - 1) / PanelMatrix.QueryRows;
        Parallel.For(
            0,
            blocks,
            () => new float[PanelMatrix.QueryRows * stride],
            (block, _, rows) =>
            {
                Span<float> queries = stackalloc float[PanelMatrix.QueryRows * dims];
                Span<float> tile = stackalloc float[PanelMatrix.QueryRows * w];
                int first = block * PanelMatrix.QueryRows;
                int real = PanelMatrix.GatherQueries(ordered, dims, first, m, queries);
                for (int panel = 0; panel < packed.PanelCount; panel++)
                {
                    packed.Distances(queries, panel, tile);
                    for (int r = 0; r < real; r++)
                    {
                        tile.Slice(r * w, w).CopyTo(rows.AsSpan((r * stride) + (panel * w), w));
                    }
                }

                for (int r = 0; r < real; r++)
                {
                    Span<float> row = rows.AsSpan(r * stride, m);
                    TensorPrimitives.Sqrt(row, row);
                    scores[first + r] = Score(row, cluster[first + r], start);
                }

                return rows;
            },
            _ => { });

        double total = 0;
        foreach (double s in scores)
        {
            total += s;
        }

        return total / m;
    }

    /// <summary>Silhouette of one point from its distances to all points (grouped by cluster).</summary>
    private static double Score(ReadOnlySpan<float> distances, int own, int[] start)
    {
        int ownSize = start[own + 1] - start[own];
        if (ownSize == 1)
        {
            return 0.0;
        }

        double a = 0;
        double b = double.PositiveInfinity;
        for (int c = 0; c + 1 < start.Length; c++)
        {
            int size = start[c + 1] - start[c];
            double sum = TensorPrimitives.Sum(distances.Slice(start[c], size));
            if (c == own)
            {
                a = sum / (size - 1); // the point's own zero distance is in the sum
            }
            else
            {
                b = Math.Min(b, sum / size);
            }
        }

        double denominator = Math.Max(a, b);
        return denominator > 0 ? (b - a) / denominator : 0.0;
    }

    /// <summary>All indices when n &lt;= max, else max distinct indices (partial Fisher-Yates), ascending.</summary>
    private static int[] SampleIndices(int n, int max, int seed)
    {
        var all = new int[n];
        for (int i = 0; i < n; i++)
        {
            all[i] = i;
        }

        if (n <= max)
        {
            return all;
        }

        var rng = new Random(seed);
        for (int i = 0; i < max; i++)
        {
            int j = rng.Next(i, n);
            (all[i], all[j]) = (all[j], all[i]);
        }

        int[] sample = all[..max];
        Array.Sort(sample);
        return sample;
    }

    private static double Entropy(int[] counts, double n)
    {
        double h = 0;
        foreach (int c in counts)
        {
            if (c > 0)
            {
                double p = c / n;
                h -= p * Math.Log(p);
            }
        }

        return h;
    }

    private static double[,] NegatedCounts(Contingency t)
    {
        var cost = new double[t.RowCount, t.ColumnCount];
        foreach (((int row, int col), int count) in t.Cells)
        {
            cost[row, col] = -count;
        }

        return cost;
    }

    /// <summary>Sparse contingency table of two labelings, values compacted in order of first appearance.</summary>
    private sealed class Contingency
    {
        private Contingency(int n, int[] rowValues, int[] columnValues, int[] rowSums, int[] columnSums, Dictionary<(int, int), int> cells)
        {
            N = n;
            RowValues = rowValues;
            ColumnValues = columnValues;
            RowSums = rowSums;
            ColumnSums = columnSums;
            Cells = cells;
        }

        public int N { get; }

        public int[] RowValues { get; }

        public int[] ColumnValues { get; }

        public int[] RowSums { get; }

        public int[] ColumnSums { get; }

        public int RowCount => RowValues.Length;

        public int ColumnCount => ColumnValues.Length;

        public Dictionary<(int Row, int Column), int> Cells { get; }

        public static Contingency Build(int[] a, int[] b)
        {
            ArgumentNullException.ThrowIfNull(a);
            ArgumentNullException.ThrowIfNull(b);
            if (a.Length != b.Length)
            {
                throw new ArgumentException($"Labelings differ in length: {a.Length} vs {b.Length}.", nameof(b));
            }

            if (a.Length == 0)
            {
                throw new ArgumentException("Labelings must contain at least one point.", nameof(a));
            }

            var rowIds = new Dictionary<int, int>();
            var colIds = new Dictionary<int, int>();
            var rowValues = new List<int>();
            var colValues = new List<int>();
            var rowSums = new List<int>();
            var colSums = new List<int>();
            var cells = new Dictionary<(int, int), int>();
            for (int i = 0; i < a.Length; i++)
            {
                int r = Id(rowIds, rowValues, rowSums, a[i]);
                int c = Id(colIds, colValues, colSums, b[i]);
                rowSums[r]++;
                colSums[c]++;
                cells[(r, c)] = cells.GetValueOrDefault((r, c)) + 1;
            }

            return new Contingency(a.Length, [.. rowValues], [.. colValues], [.. rowSums], [.. colSums], cells);
        }

        private static int Id(Dictionary<int, int> ids, List<int> values, List<int> sums, int value)
        {
            if (!ids.TryGetValue(value, out int id))
            {
                id = values.Count;
                ids.Add(value, id);
                values.Add(value);
                sums.Add(0);
            }

            return id;
        }
    }
}
