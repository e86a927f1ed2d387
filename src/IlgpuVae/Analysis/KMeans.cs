namespace IlgpuVae.Analysis;

/// <summary>The outcome of <see cref="KMeans.Fit"/>.</summary>
internal sealed class KMeansResult
{
    internal KMeansResult(int[] assignments, float[] centroids, double inertia, int k, int dims, int iterations, int restart)
    {
        Assignments = assignments;
        Centroids = centroids;
        Inertia = inertia;
        K = k;
        Dims = dims;
        Iterations = iterations;
        Restart = restart;
    }

    /// <summary>Cluster index in [0, K) of each point.</summary>
    public int[] Assignments { get; }

    /// <summary>Row-major K x Dims cluster centres.</summary>
    public float[] Centroids { get; }

    /// <summary>Sum over points of the squared Euclidean distance to their assigned centre.</summary>
    public double Inertia { get; }

    /// <summary>Number of clusters.</summary>
    public int K { get; }

    /// <summary>Values per point and per centre.</summary>
    public int Dims { get; }

    /// <summary>Lloyd iterations (centre updates) the winning restart ran before converging or reaching the limit.</summary>
    public int Iterations { get; }

    /// <summary>Zero-based index of the winning restart.</summary>
    public int Restart { get; }
}

/// <summary>
/// k-means clustering: greedy k-means++ seeding (as scikit-learn: 2 + floor(ln k) candidates per centre, the one
/// that most reduces the potential is kept), Lloyd iterations until no assignment changes, best of several
/// restarts by inertia. Fully deterministic for a given seed, independent of thread scheduling.
/// </summary>
internal static class KMeans
{
    private const int AssignChunk = 512;

    /// <summary>Clusters <paramref name="points"/> into <paramref name="k"/> groups.</summary>
    /// <remarks>
    /// Each restart draws its own seed from a <see cref="Random"/> seeded with <paramref name="seed"/>. The restart
    /// with the lowest inertia wins (the earliest on ties). An empty cluster is re-seeded with the point farthest
    /// from its centre (taken from a cluster of at least two points). After the last iteration the points are
    /// assigned once more, so assignments, centres and inertia are always consistent.
    /// </remarks>
    /// <param name="points">Row-major n x <paramref name="dims"/> points, finite, n at least <paramref name="k"/>.</param>
    /// <param name="dims">Values per point, at least 1.</param>
    /// <param name="k">Number of clusters, at least 1.</param>
    /// <param name="restarts">Independent initialisations, at least 1.</param>
    /// <param name="seed">Random seed.</param>
    /// <param name="maxIterations">Maximum Lloyd iterations per restart, at least 1.</param>
    /// <param name="cancellationToken">Checked before each restart.</param>
    /// <returns>The best clustering found.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static KMeansResult Fit(float[] points, int dims, int k = 10, int restarts = 10, int seed = 0, int maxIterations = 300,
        CancellationToken cancellationToken = default)
    {
        int n = AnalysisInput.Rows(points, dims, nameof(points));
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(restarts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxIterations, 1);
        if (n < k)
        {
            throw new ArgumentException($"k-means with k = {k} needs at least {k} points but got {n}.", nameof(points));
        }

        var master = new Random(seed);
        KMeansResult? best = null;
        for (int r = 0; r < restarts; r++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var rng = new Random(master.Next());
            float[] centroids = PlusPlus(points, n, dims, k, rng);
            KMeansResult result = Lloyd(points, n, dims, k, centroids, maxIterations, r);
            if (best is null || result.Inertia < best.Inertia)
            {
                best = result;
            }
        }

        return best!;
    }

    /// <summary>Squared Euclidean distance between two equal-length vectors.</summary>
    internal static float SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float sum = 0f;
        for (int i = 0; i < a.Length; i++)
        {
            float t = a[i] - b[i];
            sum += t * t;
        }

        return sum;
    }

    private static float[] PlusPlus(float[] points, int n, int dims, int k, Random rng)
    {
        var centroids = new float[k * dims];
        int trials = 2 + (int)Math.Log(k);
        int first = rng.Next(n);
        points.AsSpan(first * dims, dims).CopyTo(centroids);

        var closest = new float[n];
        DistancesTo(points, n, dims, points.AsSpan(first * dims, dims), null, closest);
        double potential = Sum(closest);

        var candidate = new float[n];
        var bestCandidate = new float[n];
        for (int c = 1; c < k; c++)
        {
            double bestPotential = double.PositiveInfinity;
            int bestIndex = -1;
            for (int t = 0; t < trials; t++)
            {
                int index = SampleProportional(closest, potential, rng);
                DistancesTo(points, n, dims, points.AsSpan(index * dims, dims), closest, candidate);
                double p = Sum(candidate);
                if (p < bestPotential)
                {
                    bestPotential = p;
                    bestIndex = index;
                    (bestCandidate, candidate) = (candidate, bestCandidate);
                }
            }

            points.AsSpan(bestIndex * dims, dims).CopyTo(centroids.AsSpan(c * dims, dims));
            (closest, bestCandidate) = (bestCandidate, closest);
            potential = bestPotential;
        }

        return centroids;
    }

    /// <summary>Index drawn with probability proportional to <paramref name="weights"/> (uniform if all are zero).</summary>
    private static int SampleProportional(float[] weights, double total, Random rng)
    {
        if (!(total > 0))
        {
            return rng.Next(weights.Length);
        }

        double target = rng.NextDouble() * total;
        double cumulative = 0;
        int lastPositive = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            if (weights[i] > 0)
            {
                cumulative += weights[i];
                lastPositive = i;
                if (cumulative > target)
                {
                    return i;
                }
            }
        }

        return lastPositive;
    }

    /// <summary>Squared distance of every point to <paramref name="centre"/>, optionally min'ed with <paramref name="floor"/>.</summary>
    private static void DistancesTo(float[] points, int n, int dims, ReadOnlySpan<float> centre, float[]? floor, float[] output)
    {
        float[] c = centre.ToArray();
        Parallel.For(0, (n + 4095) / 4096, chunk =>
        {
            int end = Math.Min(n, (chunk + 1) * 4096);
            for (int i = chunk * 4096; i < end; i++)
            {
                float d = SquaredDistance(points.AsSpan(i * dims, dims), c);
                output[i] = floor is null ? d : Math.Min(d, floor[i]);
            }
        });
    }

    private static double Sum(float[] values)
    {
        double sum = 0;
        foreach (float v in values)
        {
            sum += v;
        }

        return sum;
    }

    private static KMeansResult Lloyd(float[] points, int n, int dims, int k, float[] centroids, int maxIterations, int restart)
    {
        var assignments = new int[n];
        assignments.AsSpan().Fill(-1);
        var distances = new float[n];
        var counts = new int[k];
        var sums = new double[k * dims];
        var packed = new PanelMatrix(k, dims);
        int iterations = 0;
        while (true)
        {
            packed.Load(centroids);
            long changed = Assign(points, n, dims, packed, assignments, distances);
            if (changed == 0 || iterations == maxIterations)
            {
                break;
            }

            iterations++;

            // Update step: means in double, in point order (deterministic).
            counts.AsSpan().Clear();
            sums.AsSpan().Clear();
            for (int i = 0; i < n; i++)
            {
                int c = assignments[i];
                counts[c]++;
                int row = i * dims;
                int dst = c * dims;
                for (int d = 0; d < dims; d++)
                {
                    sums[dst + d] += points[row + d];
                }
            }

            RelocateEmpty(points, dims, k, assignments, distances, counts, sums);
            for (int c = 0; c < k; c++)
            {
                if (counts[c] == 0)
                {
                    continue; // Only possible when every point coincides with its centre; keep the centre.
                }

                double inv = 1.0 / counts[c];
                for (int d = 0; d < dims; d++)
                {
                    centroids[(c * dims) + d] = (float)(sums[(c * dims) + d] * inv);
                }
            }
        }

        double inertia = 0;
        for (int i = 0; i < n; i++)
        {
            inertia += SquaredDistance(points.AsSpan(i * dims, dims), centroids.AsSpan(assignments[i] * dims, dims));
        }

        return new KMeansResult(assignments, centroids, inertia, k, dims, iterations, restart);
    }

    /// <summary>Moves the farthest points of multi-point clusters into empty clusters, updating counts and sums.</summary>
    private static void RelocateEmpty(float[] points, int dims, int k, int[] assignments, float[] distances, int[] counts, double[] sums)
    {
        for (int c = 0; c < k; c++)
        {
            if (counts[c] != 0)
            {
                continue;
            }

            int far = -1;
            float farDistance = 0f;
            for (int i = 0; i < assignments.Length; i++)
            {
                if (counts[assignments[i]] > 1 && distances[i] > farDistance)
                {
                    farDistance = distances[i];
                    far = i;
                }
            }

            if (far < 0)
            {
                return;
            }

            int from = assignments[far];
            counts[from]--;
            counts[c]++;
            for (int d = 0; d < dims; d++)
            {
                float v = points[(far * dims) + d];
                sums[(from * dims) + d] -= v;
                sums[(c * dims) + d] += v;
            }

            assignments[far] = c;
            distances[far] = 0f;
        }
    }

    /// <summary>Assigns every point to its nearest centre (lowest index on ties); returns how many assignments changed.</summary>
    private static long Assign(float[] points, int n, int dims, PanelMatrix centres, int[] assignments, float[] distances)
    {
        int chunks = (n + AssignChunk - 1) / AssignChunk;
        var changedPerChunk = new int[chunks];
        int w = PanelMatrix.Width;
        int k = centres.Count;
        Parallel.For(0, chunks, chunk =>
        {
            Span<float> queries = stackalloc float[PanelMatrix.QueryRows * dims];
            Span<float> dist = stackalloc float[PanelMatrix.QueryRows * w];
            int start = chunk * AssignChunk;
            int end = Math.Min(n, start + AssignChunk);
            Span<float> best = stackalloc float[PanelMatrix.QueryRows];
            Span<int> bestIndex = stackalloc int[PanelMatrix.QueryRows];
            int changed = 0;
            for (int m = start; m < end; m += PanelMatrix.QueryRows)
            {
                int real = PanelMatrix.GatherQueries(points, dims, m, end, queries);
                best.Fill(float.PositiveInfinity);
                bestIndex.Clear();
                for (int panel = 0; panel < centres.PanelCount; panel++)
                {
                    centres.Distances(queries, panel, dist);
                    int lanes = Math.Min(w, k - (panel * w));
                    for (int r = 0; r < real; r++)
                    {
                        ReadOnlySpan<float> row = dist.Slice(r * w, lanes);
                        for (int lane = 0; lane < row.Length; lane++)
                        {
                            if (row[lane] < best[r])
                            {
                                best[r] = row[lane];
                                bestIndex[r] = (panel * w) + lane;
                            }
                        }
                    }
                }

                for (int r = 0; r < real; r++)
                {
                    if (assignments[m + r] != bestIndex[r])
                    {
                        assignments[m + r] = bestIndex[r];
                        changed++;
                    }

                    distances[m + r] = best[r];
                }
            }

            changedPerChunk[chunk] = changed;
        });

        long total = 0;
        foreach (int c in changedPerChunk)
        {
            total += c;
        }

        return total;
    }
}
