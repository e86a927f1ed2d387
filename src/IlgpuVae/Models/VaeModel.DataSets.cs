using IlgpuVae.Data;
using IlgpuVae.Training;

namespace IlgpuVae.Models;

/// <summary>Whole-set operations: the set goes to the device once and is run in batches of the network's capacity.</summary>
public sealed partial class VaeModel
{
    /// <summary>
    /// The most posterior samples per image (K) that <see cref="Score(ImageSet, int, int, CancellationToken)"/>, <see cref="EstimateLogLikelihood"/> and
    /// <see cref="ModelAssessment.Run"/> take.
    /// </summary>
    public const int MaxImportanceSamples = LikelihoodEstimator.MaxSamples;

    /// <summary>The posterior mean of every image in a set (encoded with its label when the model is conditional).</summary>
    /// <param name="set">The images, e.g. the test set.</param>
    /// <example>
    /// <code>
    /// ImageData data = ImageData.Load(MnistFetcher.ResolveDataDirectory(null));
    /// float[] means = model.LatentMeans(data.Test);                 // 10000 x Z, for kNN, k-means or a plot
    /// </code>
    /// </example>
    /// <returns>Row-major set.Count x Z means, in the set's order.</returns>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public float[] LatentMeans(ImageSet set)
    {
        CheckCompatible(set);
        using var held = Use();
        using var onDevice = new DeviceDataset(Network.Device, set, Config);
        var means = LatentCodes.Means(Network, onDevice);
        CheckFinite(means, Config.Latent, "latent means");
        return means;
    }

    /// <summary>The loss per image over a set: summed BCE + KL with one posterior sample (the negative ELBO).</summary>
    /// <param name="set">The images, e.g. the test set.</param>
    /// <param name="seed">Seed of the posterior samples.</param>
    /// <param name="stream">Distinguishes evaluations with the same seed.</param>
    /// <returns>Loss, reconstruction and KL per image.</returns>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public Evaluation Evaluate(ImageSet set, int seed, int stream = 0)
    {
        CheckCompatible(set);
        using var held = Use();
        using var onDevice = new DeviceDataset(Network.Device, set, Config);
        using var evaluator = new Evaluator(Network, onDevice);
        var evaluation = evaluator.Evaluate((ulong)seed, (ulong)stream);
        CheckFinite(evaluation.Loss, "test loss");
        return evaluation;
    }

    /// <summary>
    /// An anomaly score per image of a set, in the set's order: its negative ELBO with one posterior sample (the
    /// numbers <see cref="Evaluate"/> averages, same seed and stream 0), or with <paramref name="importanceSamples"/>
    /// K &gt; 0 its importance-weighted negative log-likelihood (those <see cref="EstimateLogLikelihood"/> averages).
    /// In nats; high means unlike the training data. A Gaussian model's images are dequantised as in evaluation.
    /// </summary>
    /// <example>
    /// <code>
    /// float[] scores = model.Score(data.Test, importanceSamples: 50);   // one -log p(x) per test image
    /// </code>
    /// </example>
    /// <param name="set">The images.</param>
    /// <param name="importanceSamples">0 for the negative ELBO, else K, 1 to <see cref="MaxImportanceSamples"/>.</param>
    /// <param name="seed">The noise seed.</param>
    /// <param name="cancellationToken">Checked before each batch.</param>
    /// <returns>set.Count scores.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public float[] Score(ImageSet set, int importanceSamples = 0, int seed = 1, CancellationToken cancellationToken = default)
    {
        CheckCompatible(set);
        ArgumentOutOfRangeException.ThrowIfNegative(importanceSamples);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(importanceSamples, MaxImportanceSamples);
        using var held = Use();
        using var onDevice = new DeviceDataset(Network.Device, set, Config);
        var scores = new float[set.Count];
        if (importanceSamples == 0)
        {
            using var evaluator = new Evaluator(Network, onDevice);
            evaluator.Evaluate((ulong)seed, 0, _ => cancellationToken.ThrowIfCancellationRequested(), scores);
        }
        else
        {
            using var estimator = new LikelihoodEstimator(Network, onDevice);
            estimator.Estimate(importanceSamples, (ulong)seed, cancellationToken: cancellationToken, images: scores);
            for (int i = 0; i < scores.Length; i++)
                scores[i] = -scores[i];
        }
        CheckFinite(scores, 1, "scores");
        return scores;
    }

    /// <summary>
    /// The importance-weighted estimate of log p(x) per image over a set (Burda et al.), with <paramref name="samples"/>
    /// posterior samples per image, computed on the device (which it holds until done or cancelled).
    /// </summary>
    /// <example>
    /// <code>
    /// var progress = new Progress&lt;WorkProgress&gt;(p =&gt; Console.Write($"\r{p.Done}/{p.Total}"));
    /// double logLikelihood = model.EstimateLogLikelihood(data.Test, samples: 50, seed: 1, progress, token);
    /// Console.WriteLine($"log p(x) ~ {logLikelihood:F2} nats per image");
    /// </code>
    /// </example>
    /// <param name="set">The images.</param>
    /// <param name="samples">K, 1 to <see cref="MaxImportanceSamples"/>.</param>
    /// <param name="seed">The noise seed.</param>
    /// <param name="progress">Receives (batches done, batches) after each batch; null for none.</param>
    /// <param name="cancellationToken">Checked before each batch.</param>
    /// <returns>The mean over images of logsumexp_k(log w_k) - log K, in nats per image: the estimate of log p(x).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="samples"/> is not in 1 to <see cref="MaxImportanceSamples"/>.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public double EstimateLogLikelihood(ImageSet set, int samples, int seed,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        using var held = Use();
        using var onDevice = new DeviceDataset(Network.Device, set, Config);
        using var estimator = new LikelihoodEstimator(Network, onDevice);
        var estimate = estimator.Estimate(samples, (ulong)seed, progress is null ? null : (done, total) =>
            progress.Report(new WorkProgress("log_likelihood", done, total)), cancellationToken);
        CheckFinite(estimate, "log-likelihood estimate");
        return estimate;
    }
}
