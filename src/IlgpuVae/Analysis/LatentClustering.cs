namespace IlgpuVae.Analysis;

/// <summary>How well digit classes cluster in a latent space (all scores in [0, 1] except the silhouettes, in [-1, 1]).</summary>
/// <param name="KnnAccuracy">Accuracy of a k-nearest-neighbour vote over the reference (training) means.</param>
/// <param name="KnnK">k of the vote.</param>
/// <param name="KMeansNmi">NMI between k-means clusters and the labels.</param>
/// <param name="KMeansAri">Adjusted Rand index between k-means clusters and the labels.</param>
/// <param name="KMeansAccuracy">Accuracy under the best one-to-one cluster-to-label mapping.</param>
/// <param name="SilhouetteByLabel">Mean silhouette of the points grouped by their true label.</param>
/// <param name="SilhouetteByCluster">Mean silhouette of the points grouped by their k-means cluster.</param>
/// <param name="Clusters">k of k-means.</param>
/// <param name="Restarts">k-means restarts (the lowest inertia wins).</param>
public sealed record ClusteringReport(double KnnAccuracy, int KnnK, double KMeansNmi, double KMeansAri,
    double KMeansAccuracy, double SilhouetteByLabel, double SilhouetteByCluster, int Clusters, int Restarts);

/// <summary>
/// Scores how digits cluster in a latent space, on the host, from latent means computed on the device: kNN
/// accuracy (fitted on reference points, e.g. the training set's means), k-means scored against the labels by
/// NMI, ARI and best-match accuracy, and silhouettes (by label, and by k-means cluster).
/// </summary>
internal static class LatentClustering
{
    /// <summary>Scores the clustering of <paramref name="points"/>.</summary>
    /// <param name="reference">Row-major reference points (e.g. training means), nRef x <paramref name="dims"/>.</param>
    /// <param name="referenceLabels">Their labels.</param>
    /// <param name="points">Row-major points to score (e.g. test means), n x <paramref name="dims"/>.</param>
    /// <param name="labels">Their labels.</param>
    /// <param name="dims">Values per point.</param>
    /// <param name="knnK">Neighbours in the vote.</param>
    /// <param name="clusters">k of k-means.</param>
    /// <param name="restarts">k-means restarts.</param>
    /// <param name="seed">Seed of k-means and of the silhouette's subsample.</param>
    /// <param name="silhouetteSamples">Most points the (quadratic) silhouette evaluates.</param>
    /// <param name="cancellationToken">Checked between kNN's tiles of points, between k-means restarts and before
    /// each silhouette.</param>
    /// <returns>The scores.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static ClusteringReport Evaluate(float[] reference, int[] referenceLabels, float[] points, int[] labels,
        int dims, int knnK = 5, int clusters = 10, int restarts = 10, int seed = 0, int silhouetteSamples = 10000,
        CancellationToken cancellationToken = default)
    {
        double knn = Knn.Accuracy(reference, referenceLabels, points, labels, dims, knnK, cancellationToken);
        var kmeans = KMeans.Fit(points, dims, clusters, restarts, seed, cancellationToken: cancellationToken);
        var assignments = kmeans.Assignments;
        double nmi = ClusterMetrics.NormalizedMutualInformation(assignments, labels);
        double ari = ClusterMetrics.AdjustedRandIndex(assignments, labels);
        double matched = ClusterMetrics.BestMatchAccuracy(assignments, labels);
        cancellationToken.ThrowIfCancellationRequested();
        double byLabel = ClusterMetrics.Silhouette(points, dims, labels, silhouetteSamples, seed);
        cancellationToken.ThrowIfCancellationRequested();
        double byCluster = ClusterMetrics.Silhouette(points, dims, assignments, silhouetteSamples, seed);
        return new ClusteringReport(knn, knnK, nmi, ari, matched, byLabel, byCluster, clusters, restarts);
    }
}
