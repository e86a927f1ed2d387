using System.Diagnostics;
using System.Text.Json;
using IlgpuVae.Classification;
using IlgpuVae.Conditional;
using IlgpuVae.Imaging;
using IlgpuVae.Models;
using IlgpuVae.Training;

namespace IlgpuVae.Cli;

public static partial class Commands
{
    private static CommandSpec Train(TextWriter stdout, TextWriter stderr) => new("train",
        "train a VAE (or CVAE) on MNIST; writes checkpoints, metrics and images to a run directory",
        [
            DataOption,
            new("--model", "vae, or cvae (conditioned on the digit label; its defaults differ where shown)", "KIND", "vae"),
            new("--epochs", "epochs in total (with --resume: the new total) (default: 10; cvae: 20)", "N"),
            new("--batch", "images per step", "N", "128"),
            new("--lr", "Adam learning rate", "RATE", "0.001"),
            new("--hidden", "encoder hidden widths, e.g. 400 or 512,256 (the decoder mirrors them)", "LIST", "400"),
            new("--latent", "latent size Z (default: 20; cvae: 10)", "N"),
            new("--conditioning", "cvae: the decoder layers that read the label: first-layer or every-layer", "KIND", "first-layer"),
            new("--beta", "KL weight in loss = BCE + beta KL (default: 1; cvae: 2)", "B"),
            new("--kl-warmup", "epochs over which the KL weight moves linearly from --beta-start to --beta (default: 0; cvae: 10)", "N"),
            new("--beta-start", "the KL weight at the start of --kl-warmup, above --beta to anneal down (default: 0; cvae: 8)", "B"),
            new("--seed", "seed of initialisation, shuffling and noise", "N", "1"),
            new("--limit", "train on the first N training images only", "N"),
            new("--out", "run directory (default: runs/<model>-<time>)", "DIR"),
            new("--resume", "continue the run in DIR where it stopped (its options are kept)", "DIR"),
            DeviceOption,
            CpuOpsOption,
        ],
        (options, token) =>
        {
            // Given, not merely defaulted: a resumed run keeps its own count unless told otherwise.
            int? epochsGiven = options.Given("--epochs") ? options.Int("--epochs", 1) : null;
            string? resume = options.String("--resume");
            TrainingOptions training;
            string runDirectory;
            if (resume is not null)
            {
                if (!Directory.Exists(resume))
                    throw new UsageException($"--resume: no run directory '{resume}'");
                runDirectory = resume;
                training = new RunDirectory(resume).ReadConfig();
                if (epochsGiven is int e)
                    training = training with { Epochs = e };
            }
            else
            {
                string kind = options.Choice("--model", new Dictionary<string, string> { ["vae"] = "vae", ["cvae"] = "cvae" });
                var conditioning = options.Choice("--conditioning", new Dictionary<string, DecoderConditioning>
                {
                    ["first-layer"] = DecoderConditioning.FirstLayer, ["every-layer"] = DecoderConditioning.EveryLayer,
                });
                if (kind != "cvae" && options.Given("--conditioning"))
                    throw new UsageException("--conditioning is for --model cvae");
                var defaults = kind == "cvae" ? TrainingOptions.ConditionalDefaults : new TrainingOptions();
                var config = new VaeConfig(784, options.IntList("--hidden"), options.OptionalInt("--latent", 1) ?? defaults.Model.Latent,
                    defaults.Model.Classes, conditioning);
                training = new TrainingOptions
                {
                    Epochs = epochsGiven ?? defaults.Epochs,
                    BatchSize = options.Int("--batch", 1),
                    LearningRate = options.Float("--lr", 0, exclusiveMin: true),
                    Model = config,
                    Beta = options.Given("--beta") ? options.Float("--beta", 0) : defaults.Beta,
                    KlWarmupEpochs = options.OptionalInt("--kl-warmup", 0) ?? defaults.KlWarmupEpochs,
                    BetaStart = options.Given("--beta-start") ? options.Float("--beta-start", 0) : defaults.BetaStart,
                    Seed = options.Int("--seed"),
                    Limit = options.OptionalInt("--limit", 1),
                };
                runDirectory = options.String("--out") ?? Path.Combine("runs", $"{kind}-{DateTime.Now:yyyyMMdd-HHmmss}");
            }
            training.Validate();
            var data = LoadData(options, stderr, token: token);
            using var device = OpenDevice(options);
            using var trainer = resume is not null
                ? VaeTrainer.Resume(device, data, runDirectory, training.Epochs)
                : new VaeTrainer(device, data, training, runDirectory);
            trainer.EpochCompleted += TrainingPictures.EveryEpoch(data.Test);
            stdout.WriteLine($"training {training.Model} on {trainer.TrainCount} images, {training.Epochs} epochs of {trainer.StepsPerEpoch} steps (batch {training.BatchSize}, lr {training.LearningRate}, beta {(training.KlWarmupEpochs > 0 ? $"{training.BetaStart} -> {training.Beta} over {training.KlWarmupEpochs} epochs" : training.Beta)})");
            stdout.WriteLine($"device: {device.Description}");
            stdout.WriteLine($"run directory: {Path.GetFullPath(runDirectory)}");
            var result = trainer.Train(new ProgressPrinter(stdout, training.BatchSize), token);
            switch (result.Outcome)
            {
                case TrainingOutcome.Cancelled:
                    stderr.WriteLine(result.Message);
                    return 130;
                case TrainingOutcome.Diverged:
                    stderr.WriteLine($"error: {result.Message}");
                    return 1;
            }
            if (trainer.History.Count > 0)
            {
                var last = trainer.History[^1];
                stdout.WriteLine($"done: test loss {F(last.TestLoss)} (reconstruction {F(last.TestReconstruction)} + KL {F(last.TestKl)}) per image");
            }
            stdout.WriteLine($"wrote {Path.Combine(runDirectory, RunDirectory.ModelFile)}, metrics.csv, reconstructions.png, samples.png");
            return 0;
        });

    private static CommandSpec Evaluate(TextWriter stdout, TextWriter stderr) => new("evaluate",
        "print a trained model's test loss per image (reconstruction and KL), its importance-weighted log-likelihood " +
        "estimate, and how the test set's latent means cluster by digit",
        [
            new("--model", "a model.safetensors written by 'train'", "FILE"),
            DataOption,
            new("--seed", "seed of the posterior samples (and of k-means)", "N", "1"),
            new("--iw-samples", "K, posterior samples per image of the log-likelihood estimate (0: skip it)", "K", "50"),
            new("--no-clustering", "skip the clustering of the latent means"),
            new("--limit", "use the first N training images as kNN's reference (default: all)", "N"),
            new("--classifier", "a CVAE: also report conditional agreement, judged by this 'classifier train' model", "FILE"),
            new("--agreement-samples", "with --classifier: generated digits per class", "N", "1000"),
            JsonOption,
            DeviceOption,
            CpuOpsOption,
        ],
        (options, token) =>
        {
            var assessmentOptions = new AssessmentOptions
            {
                Seed = options.Int("--seed"),
                ImportanceSamples = options.Int("--iw-samples", 0),
                Clustering = !options.Flag("--no-clustering"),
            };
            if (assessmentOptions.ImportanceSamples > AssessmentOptions.MaxImportanceSamples)
                throw new UsageException($"option '--iw-samples' must be at most {AssessmentOptions.MaxImportanceSamples}, got {assessmentOptions.ImportanceSamples}");
            string path = options.RequiredString("--model");
            if (!File.Exists(path))
                throw new FileNotFoundException($"{path}: no such model file");
            string? classifierPath = options.String("--classifier");
            int agreementSamples = options.Int("--agreement-samples", 1);
            if (classifierPath is not null && !File.Exists(classifierPath))
                throw new FileNotFoundException($"{classifierPath}: no such classifier file");
            var data = LoadData(options, stderr, options.OptionalInt("--limit", 1), token);
            using var device = OpenDevice(options);
            using var model = VaeModel.Load(device, path);
            if (classifierPath is not null && !model.Config.IsConditional)
                throw new UsageException($"--classifier judges a conditional model's samples; {path} holds a plain {model.Config}");
            var assessment = ModelAssessment.Run(model, data, assessmentOptions);
            ConditionalAgreement? agreement = null;
            if (classifierPath is not null)
            {
                using var classifier = Classifier.Load(device, classifierPath);
                agreement = ConditionalAgreement.Measure(model, classifier, agreementSamples, (ulong)assessmentOptions.Seed);
            }
            var result = assessment.Elbo;
            var likelihood = assessment.LogLikelihood;
            var clustering = assessment.Clustering;
            if (options.Flag("--json"))
            {
                stdout.WriteLine(JsonSerializer.Serialize(new
                {
                    model = path, config = model.Config.ToString(), test_images = data.Test.Count,
                    test_loss = result.Loss, test_reconstruction = result.Reconstruction, test_kl = result.Kl,
                    log_likelihood = likelihood?.LogLikelihood, iw_samples = likelihood?.Samples,
                    clustering = clustering is null ? null : new
                    {
                        reference_images = data.Train.Count, knn_k = clustering.KnnK, knn_accuracy = clustering.KnnAccuracy,
                        kmeans_k = clustering.Clusters, kmeans_restarts = clustering.Restarts, kmeans_nmi = clustering.KMeansNmi,
                        kmeans_ari = clustering.KMeansAri, kmeans_accuracy = clustering.KMeansAccuracy,
                        silhouette_label = clustering.SilhouetteByLabel, silhouette_kmeans = clustering.SilhouetteByCluster,
                    },
                    agreement = agreement is null ? null : new
                    {
                        classifier = classifierPath, samples_per_class = agreement.SamplesPerClass,
                        overall = agreement.Overall, per_class = agreement.PerClass,
                    },
                    seconds = assessment.Seconds,
                }));
                return 0;
            }
            stdout.WriteLine($"{model.Config} on {data.Test.Count} test images:");
            stdout.WriteLine($"  test loss      {F(result.Loss, "F4")} per image (negative ELBO, one posterior sample)");
            stdout.WriteLine($"  reconstruction {F(result.Reconstruction, "F4")} (summed BCE)");
            stdout.WriteLine($"  KL             {F(result.Kl, "F4")}");
            if (likelihood is not null)
                stdout.WriteLine($"  log p(x)       {F(likelihood.LogLikelihood, "F4")} per image (importance-weighted, K = {likelihood.Samples}; the ELBO is {F(-result.Loss, "F4")})");
            if (clustering is not null)
            {
                stdout.WriteLine("  test-set latent means, clustered by digit:");
                stdout.WriteLine($"    kNN accuracy (k = {clustering.KnnK}, on {data.Train.Count} training means)  {F(clustering.KnnAccuracy, "F4")}");
                stdout.WriteLine($"    k-means (k = {clustering.Clusters}, best of {clustering.Restarts}): NMI {F(clustering.KMeansNmi, "F4")}, ARI {F(clustering.KMeansAri, "F4")}, best-match accuracy {F(clustering.KMeansAccuracy, "F4")}");
                stdout.WriteLine($"    silhouette: by digit {F(clustering.SilhouetteByLabel, "F4")}, by k-means cluster {F(clustering.SilhouetteByCluster, "F4")}");
            }
            if (agreement is not null)
            {
                stdout.WriteLine($"  conditional agreement ({agreement.SamplesPerClass} samples per digit from the prior, judged by {classifierPath}):");
                stdout.WriteLine($"    overall {F(100 * agreement.Overall, "F1")}%; per digit " +
                    string.Join(" ", agreement.PerClass.Select((a, c) => $"{c}:{F(100 * a, "F1")}%")));
            }
            else if (model.Config.IsConditional)
                stdout.WriteLine("  (a CVAE: pass --classifier FILE to measure how often its samples show the requested digit)");
            return 0;
        });

    /// <summary>A live progress bar on a terminal; plain lines, one per epoch, when output is redirected.</summary>
    internal sealed class ProgressPrinter(TextWriter output, int batchSize) : IProgress<TrainingProgress>
    {
        private readonly bool _live = !Console.IsOutputRedirected && ReferenceEquals(output, Console.Out);
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public void Report(TrainingProgress p)
        {
            if (p.Completed is { } m)
            {
                if (_live)
                    output.Write("\r" + new string(' ', Console.WindowWidth > 0 ? Console.WindowWidth - 1 : 100) + "\r");
                output.WriteLine($"epoch {m.Epoch}/{p.Epochs}  train {F(m.TrainLoss)}  test {F(m.TestLoss)} (recon {F(m.TestReconstruction)}, KL {F(m.TestKl)})  {F(m.EpochSeconds)} s  {F(m.SamplesPerSecond, "F0")} samples/s");
                return;
            }
            if (!_live)
                return;
            if (p.TrainLoss is not double loss)
                return;
            const int width = 24;
            int filled = (int)Math.Round(width * p.Step / (double)p.StepsPerEpoch);
            double remainingSteps = (p.Epochs - p.Epoch) * (double)p.StepsPerEpoch + (p.StepsPerEpoch - p.Step);
            double stepsPerSecond = p.SamplesPerSecond / batchSize;
            var eta = TimeSpan.FromSeconds(stepsPerSecond > 0 ? remainingSteps / stepsPerSecond : 0);
            output.Write($"\repoch {p.Epoch}/{p.Epochs} [{new string('#', filled)}{new string('.', width - filled)}] {p.Step}/{p.StepsPerEpoch}  loss {F(loss)}  {F(p.SamplesPerSecond, "F0")} samples/s  ETA {eta:hh\\:mm\\:ss} ");
            output.Flush();
        }
    }
}
