using System.CommandLine;
using System.Text.Json;
using IlgpuVae.Classification;
using IlgpuVae.Models;
using IlgpuVae.Training;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>evaluate</c>: a model's test loss, log-likelihood estimate, clustering and (CVAE) agreement.</summary>
public static class EvaluateCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Create("evaluate",
        "print a trained model's test loss per image (reconstruction and KL), its importance-weighted log-likelihood " +
        "estimate, and how the test set's latent means cluster by digit",
        [
            ModelOption,
            .. DataOptions,
            SeedOption("seed of the posterior samples (and of k-means)", "1"),
            new("--iw-samples", "K, posterior samples per image of the log-likelihood estimate (0: skip it)", "K", "50"),
            new("--no-clustering", "skip the clustering of the latent means"),
            new("--limit", "use the first N training images as kNN's reference (default: all)", "N"),
            new("--classifier", "a CVAE: also report conditional agreement, judged by this 'classifier train' model", "FILE"),
            new("--agreement-samples", "with --classifier: generated digits per class", "N", "1000"),
            JsonOption,
            DeviceOption,
            CpuOpsOption,
        ],
        options => Run(options, cli));

    private static int Run(ParsedOptions options, CliContext cli)
    {
        var (stdout, stderr, token) = cli;
        int seed = options.Int("--seed"), importanceSamples = options.Int("--iw-samples", 0, VaeModel.MaxImportanceSamples);
        int agreementSamples = options.Int("--agreement-samples", 1, MaxAgreementSamples);
        bool clustering = !options.Flag("--no-clustering");
        string path = options.RequiredString("--model");
        RequireInputFile(path, "model");
        string? classifierPath = options.String("--classifier");
        if (classifierPath is not null)
            RequireInputFile(classifierPath, "classifier");
        using var device = OpenDevice(options);
        var data = LoadData(options, stderr, options.OptionalInt("--limit", 1), token);
        using var model = VaeModel.Load(device, path);
        model.CheckCompatible(data.Test);
        if (classifierPath is not null && !model.Config.IsConditional)
            throw new UsageException($"--classifier judges a conditional model's samples; {path} holds a plain {model.Config}");
        var assessment = ModelAssessment.Run(model, data, importanceSamples, clustering, seed, cancellationToken: token);
        Models.Evaluation? agreement = null;
        if (classifierPath is not null)
        {
            using var classifier = Classifier.Load(device, classifierPath);
            classifier.CheckCompatible(data.Test);
            agreement = classifier.Agreement(model, agreementSamples, seed,
                cancellationToken: token);
        }
        var result = assessment.Elbo;
        double? likelihood = assessment.LogLikelihood;
        int? samples = likelihood is null ? null : assessment.ImportanceSamples;
        var scores = assessment.Clustering;
        if (options.Flag("--json"))
        {
            stdout.WriteLine(JsonSerializer.Serialize(new
            {
                model = path, config = model.Config.ToString(), dataset = data.Name, test_images = data.Test.Count,
                binarized_test_set = model.TrainedOnBinaryImages,
                test_loss = result.Loss, test_reconstruction = result.Reconstruction, test_kl = result.Kl,
                log_likelihood = likelihood, iw_samples = samples,
                likelihood = VaeConfig.LikelihoodName(model.Config.Likelihood),
                test_nll_nats = -(likelihood ?? -result.Loss),
                test_nll_bits_per_dim = model.Config.BitsPerDimension(-(likelihood ?? -result.Loss)),
                clustering = scores is null ? null : new
                {
                    reference_images = data.Train.Count, knn_k = scores.KnnK, knn_accuracy = scores.KnnAccuracy,
                    kmeans_k = scores.Clusters, kmeans_restarts = scores.Restarts, kmeans_nmi = scores.KMeansNmi,
                    kmeans_ari = scores.KMeansAri, kmeans_accuracy = scores.KMeansAccuracy,
                    silhouette_label = scores.SilhouetteByLabel, silhouette_kmeans = scores.SilhouetteByCluster,
                },
                agreement = agreement is null ? null : new
                {
                    classifier = classifierPath, samples_per_class = agreementSamples,
                    overall = agreement.Accuracy, per_class = agreement.PerClassAccuracy,
                },
                seconds = assessment.Seconds,
            }));
            return 0;
        }
        bool vectors = model.Config.InputMean is not null;
        stdout.WriteLine($"{model.Config} on {data.Test.Count} test {(vectors ? "rows" : "images")}" + (model.TrainedOnBinaryImages
            ? $" (binarised by seed {Data.ImageSet.TestBinarizationSeed}: the model was trained on dynamically binarised images):" : ":"));
        stdout.WriteLine($"  test loss      {F(result.Loss, "F4")} per image (negative ELBO, one posterior sample)");
        stdout.WriteLine($"  reconstruction {F(result.Reconstruction, "F4")} ({(vectors ? "summed Gaussian negative log density of the standardised rows" : ReconstructionName(model.Config.Likelihood))})");
        stdout.WriteLine($"  KL             {F(result.Kl, "F4")}");
        if (likelihood is double logLikelihood)
            stdout.WriteLine($"  log p(x)       {F(logLikelihood, "F4")} per image (importance-weighted, K = {samples}; the ELBO is {F(-result.Loss, "F4")})" +
                (model.TrainedOnBinaryImages ? $"; test NLL {F(-logLikelihood, "F2")} nats" : ""));
        // The test NLL: the importance-weighted estimate where there is one, else the negative ELBO (an upper bound).
        double nll = -(likelihood ?? -result.Loss);
        stdout.WriteLine($"  test NLL       {F(nll, "F4")} nats, {F(model.Config.BitsPerDimension(nll), "F4")} bits/dim " +
            $"({(likelihood is null ? "negative ELBO" : "importance-weighted")}; {(vectors ? "NLL / (D ln 2) of the rows standardised by the training set's column means and standard deviations" : BitsConvention(model.Config.Likelihood, model.TrainedOnBinaryImages))})");
        if (scores is null && !data.HasLabels && clustering)
            stdout.WriteLine($"  (the {data.Name} images have no labels: the clustering of the latent means by class is skipped)");
        if (scores is not null)
        {
            stdout.WriteLine($"  test-set latent means, clustered by {(vectors ? "label" : "digit")}:");
            stdout.WriteLine($"    kNN accuracy (k = {scores.KnnK}, on {data.Train.Count} training means)  {F(scores.KnnAccuracy, "F4")}");
            stdout.WriteLine($"    k-means (k = {scores.Clusters}, best of {scores.Restarts}): NMI {F(scores.KMeansNmi, "F4")}, ARI {F(scores.KMeansAri, "F4")}, best-match accuracy {F(scores.KMeansAccuracy, "F4")}");
            stdout.WriteLine($"    silhouette: by {(vectors ? "label" : "digit")} {F(scores.SilhouetteByLabel, "F4")}, by k-means cluster {F(scores.SilhouetteByCluster, "F4")}");
        }
        if (agreement is not null)
        {
            stdout.WriteLine($"  conditional agreement ({agreementSamples} samples per digit from the prior, judged by {classifierPath}):");
            stdout.WriteLine($"    overall {F(100 * agreement.Accuracy, "F1")}%; per digit " +
                string.Join(" ", agreement.PerClassAccuracy.Select((a, c) => $"{c}:{F(100 * a, "F1")}%")));
        }
        else if (model.Config.IsConditional)
            stdout.WriteLine("  (a CVAE: pass --classifier FILE to measure how often its samples show the requested digit)");
        return 0;
    }

    private static string ReconstructionName(DecoderLikelihood likelihood) => likelihood switch
    {
        DecoderLikelihood.ContinuousBernoulli => "summed continuous-Bernoulli negative log density",
        DecoderLikelihood.Gaussian => "summed Gaussian negative log density of the dequantised pixels",
        _ => "summed BCE",
    };

    private static string BitsConvention(DecoderLikelihood likelihood, bool binary) =>
        likelihood == DecoderLikelihood.Gaussian ? "NLL / (D ln 2) + 8: the density of dequantised 8-bit pixels, comparable with published bits/dim"
        // Binarised test images are binary data, and the Bernoulli decoder gives them a probability mass, not a density.
        : binary ? "NLL / (D ln 2) of the binarised pixels: bits per binary pixel"
        : "NLL / (D ln 2) of the grey levels in [0, 1]; not a density of 8-bit data";
}
