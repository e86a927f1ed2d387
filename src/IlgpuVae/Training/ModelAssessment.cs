using System.Diagnostics;
using IlgpuVae.Analysis;
using IlgpuVae.Data;
using IlgpuVae.Models;

namespace IlgpuVae.Training;

/// <summary>
/// A trained model's figures on MNIST's test set: the ELBO split into reconstruction and KL, the
/// importance-weighted log-likelihood estimate, and how the test set's latent means cluster by digit.
/// </summary>
/// <param name="Elbo">Test loss per image (negative ELBO, one posterior sample), reconstruction and KL.</param>
/// <param name="LogLikelihood">The importance-weighted estimate of log p(x) per image (nats), or null when skipped.</param>
/// <param name="ImportanceSamples">K, the posterior samples per image of <paramref name="LogLikelihood"/>; 0 when skipped.</param>
/// <param name="Clustering">The clustering scores of the test means (kNN fitted on the training means), or null.</param>
/// <param name="TestMeans">The test set's posterior means (N x Z), computed for the clustering, else null.</param>
/// <param name="TestLabels">The test labels.</param>
/// <param name="Seconds">Wall-clock seconds per part: "elbo", "log_likelihood", "encode", "clustering".</param>
public sealed record ModelAssessment(Evaluation Elbo, double? LogLikelihood, int ImportanceSamples, ClusteringReport? Clustering,
    float[]? TestMeans, int[] TestLabels, IReadOnlyDictionary<string, double> Seconds)
{
    /// <summary>Neighbours in the kNN vote of the clustering scores.</summary>
    public const int KnnNeighbours = 5;

    /// <summary>k of the clustering's k-means: MNIST's ten digits.</summary>
    public const int KMeansClusters = 10;

    /// <summary>k-means restarts (the best of them is scored).</summary>
    public const int KMeansRestarts = 10;

    /// <summary>
    /// Measures <paramref name="model"/> on <paramref name="data"/>. Images go to the device once as bytes; the ELBO,
    /// the log-likelihood and the latent means are computed there in batches; only the means (N x Z floats) and a few
    /// totals come back to the host, where kNN, k-means and silhouettes run.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="data">The test set is measured; the training set (as given, e.g. cut) is kNN's reference. Without
    /// labels there is no clustering.</param>
    /// <param name="importanceSamples">K of the importance-weighted log-likelihood estimate, 0 to
    /// <see cref="VaeModel.MaxImportanceSamples"/>; 0 skips it.</param>
    /// <param name="clustering">Whether to score how the test set's latent means cluster by label (kNN with
    /// <see cref="KnnNeighbours"/> neighbours, k-means with <see cref="KMeansClusters"/> clusters, best of
    /// <see cref="KMeansRestarts"/>).</param>
    /// <param name="seed">The seed of the posterior samples (ELBO and log-likelihood) and of k-means.</param>
    /// <param name="progress">
    /// Receives <see cref="WorkProgress"/> after each device batch of the "elbo" and "log_likelihood" parts, and at the
    /// start and end of "encode" and "clustering"; null for none.
    /// </param>
    /// <param name="cancellationToken">Checked after each device batch, between parts, and in the clustering between
    /// kNN's tiles of points, k-means restarts and silhouettes.</param>
    /// <returns>The figures.</returns>
    /// <exception cref="ArgumentException"><paramref name="importanceSamples"/> is out of range.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    /// <example>
    /// <code>
    /// using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(1));
    /// var progress = new Progress&lt;WorkProgress&gt;(p =&gt; Console.Write($"\r{p.Part} {p.Done}/{p.Total}"));
    /// var assessment = ModelAssessment.Run(model, data, importanceSamples: 50, progress: progress, cancellationToken: cancel.Token);
    /// Console.WriteLine($"test loss {assessment.Elbo.Loss:F2}, log p(x) {assessment.LogLikelihood:F2}");
    /// </code>
    /// </example>
    public static ModelAssessment Run(VaeModel model, ImageData data, int importanceSamples = 50, bool clustering = true,
        int seed = 1, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (importanceSamples < 0 || importanceSamples > VaeModel.MaxImportanceSamples)
            throw new ArgumentException($"importance samples must be in 0-{VaeModel.MaxImportanceSamples}, got {importanceSamples}");
        cancellationToken.ThrowIfCancellationRequested();
        var device = model.Network.Device;
        var seconds = new Dictionary<string, double>();
        var clock = Stopwatch.StartNew();
        Evaluation elbo;
        double? likelihood = null;
        int[] testLabels;
        float[]? testMeans = null, trainMeans = null;
        int[]? trainLabels = null;
        // The device is the model's alone while it is measured; the host-side clustering runs without it.
        using (model.Use())
        {
            // A model of binary images is measured on the fixed binarisation of the test set: the number the
            // binarised-MNIST literature reports.
            using var test = new DeviceDataset(device, model.ImagesAsTrained(data.Test), model.Config);
            using (var evaluator = new Evaluator(model.Network, test))
            {
                int batches = evaluator.Batches;
                elbo = evaluator.Evaluate((ulong)seed, 0, done =>
                {
                    progress?.Report(new WorkProgress("elbo", done, batches));
                    cancellationToken.ThrowIfCancellationRequested();
                });
            }
            model.CheckFinite(elbo.Loss, "test loss");
            seconds["elbo"] = clock.Elapsed.TotalSeconds;

            if (importanceSamples > 0)
            {
                clock.Restart();
                using var estimator = new LikelihoodEstimator(model.Network, test);
                likelihood = estimator.Estimate(importanceSamples, (ulong)seed,
                    progress is null ? null : (done, total) => progress.Report(new WorkProgress("log_likelihood", done, total)),
                    cancellationToken);
                model.CheckFinite(likelihood.Value, "log-likelihood estimate");
                seconds["log_likelihood"] = clock.Elapsed.TotalSeconds;
            }

            testLabels = LatentCodes.Labels(test);
            // Clustering scores the means against the labels: unlabelled data has nothing to score them by.
            if (clustering && data.HasLabels)
            {
                clock.Restart();
                progress?.Report(new WorkProgress("encode", 0, 2));
                testMeans = LatentCodes.Means(model.Network, test, cancellationToken);
                progress?.Report(new WorkProgress("encode", 1, 2));
                cancellationToken.ThrowIfCancellationRequested();
                using (var train = new DeviceDataset(device, data.Train, model.Config))
                {
                    trainMeans = LatentCodes.Means(model.Network, train, cancellationToken);
                    trainLabels = LatentCodes.Labels(train);
                }
                model.CheckFinite(testMeans, model.Config.Latent, "latent means");
                model.CheckFinite(trainMeans, model.Config.Latent, "latent means of the training images");
                progress?.Report(new WorkProgress("encode", 2, 2));
                seconds["encode"] = clock.Elapsed.TotalSeconds;
            }
        }
        if (!clustering || !data.HasLabels)
            return new ModelAssessment(elbo, likelihood, importanceSamples, null, null, testLabels, seconds);
        cancellationToken.ThrowIfCancellationRequested();
        clock.Restart();
        progress?.Report(new WorkProgress("clustering", 0, 1));
        var scores = LatentClustering.Evaluate(trainMeans!, trainLabels!, testMeans!, testLabels, model.Config.Latent,
            KnnNeighbours, KMeansClusters, KMeansRestarts, seed, cancellationToken: cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        progress?.Report(new WorkProgress("clustering", 1, 1));
        seconds["clustering"] = clock.Elapsed.TotalSeconds;
        return new ModelAssessment(elbo, likelihood, importanceSamples, scores, testMeans, testLabels, seconds);
    }
}
