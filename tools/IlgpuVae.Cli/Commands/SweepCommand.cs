using System.CommandLine;
using System.Text.Json;
using IlgpuVae.Imaging;
using IlgpuVae.Models;
using IlgpuVae.Training;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>sweep</c>: one model per latent size, evaluated and tabulated.</summary>
public static class SweepCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Create("sweep",
        "train one VAE per latent size and tabulate test loss, reconstruction, KL, log-likelihood estimate and clustering",
        [
            .. DataOptions,
            new("--latent", "latent sizes, e.g. 2,5,10,20", "LIST", "2,5,10,20"),
            EpochsOption("epochs per model", "10"),
            new("--kind", "vae, or conv-vae (convolutions before the dense layers)", "KIND", "vae") { Aliases = ["-k"] },
            new("--hidden", "encoder hidden widths (the decoder mirrors them; conv-vae: the dense layers after the convolutions)", "LIST", "400"),
            TrainCommand.ChannelsOption,
            new("--limit", "train on the first N training images only (also kNN's reference)", "N"),
            SeedOption("seed of initialisation, shuffling, noise and k-means", "1"),
            new("--iw-samples", "K of the log-likelihood estimate (0: skip it)", "K", "50"),
            new("--tsne", "for Z>2, also a t-SNE plot of this many random test means (0: none)", "N", "0"),
            OutOption("sweep directory: one run directory per size, sweep.md, sweep.csv (default: runs/sweep-<time>)") with { ValueName = "DIR" },
            JsonOption,
            DeviceOption,
            CpuOpsOption,
        ],
        options => Run(options, cli));

    private static int Run(ParsedOptions options, CliContext cli)
    {
        var (stdout, stderr, token) = cli;
        var sizes = options.IntList("--latent");
        if (sizes.Distinct().Count() != sizes.Length)
            throw new UsageException($"--latent lists a size twice: '{options.String("--latent")}'");
        int epochs = options.Int("--epochs", 1, TrainingSettings.MaxEpochs), seed = options.Int("--seed"), tsne = options.Int("--tsne", 0);
        int? limit = options.OptionalInt("--limit", 1);
        var hidden = options.IntList("--hidden");
        string kind = options.Choice("--kind", new Dictionary<string, string> { ["vae"] = "vae", ["conv-vae"] = "conv-vae" });
        if (kind != "conv-vae" && options.Given("--channels"))
            throw new UsageException("--channels is for --kind conv-vae");
        var channels = options.IntList("--channels");
        int samples = options.Int("--iw-samples", 0, VaeModel.MaxImportanceSamples);
        if (tsne > LatentPlots.MaxTsnePoints)
            throw new UsageException($"--tsne takes at most {LatentPlots.MaxTsnePoints} points, got {tsne}");
        string directory = options.String("--out") ?? Path.Combine("runs", $"sweep-{DateTime.Now:yyyyMMdd-HHmmss}");
        bool json = options.Flag("--json");
        var log = json ? stderr : stdout;
        using var device = OpenDevice(options);
        var data = LoadData(options, stderr, limit, token);
        log.WriteLine($"sweep over Z = {string.Join(", ", sizes)}: {Epochs(epochs)} each on {data.Train.Count} images, device {device.Description}");
        var pictures = TrainingPictures.EveryEpoch(data.Test, data.ClassNames);
        var rows = new List<SweepRow>();
        var plots = new Dictionary<int, IReadOnlyList<LatentPlot>>();
        foreach (int latent in sizes)
        {
            var training = new TrainingOptions { Epochs = epochs, Model = TrainCommand.ConfigOf(kind, data.Train.Rows, data.Train.Cols, hidden, latent, 0, conditionEveryLayer: false, channels, data.ImageChannels), Seed = seed, Limit = limit };
            training.Validate();
            string runDirectory = Path.Combine(directory, $"latent-{latent}");
            log.WriteLine($"[Z = {latent}] training {training.Model} into {runDirectory}");
            using var trainer = new VaeTrainer(device, data, training, runDirectory);
            trainer.EpochCompleted += pictures;
            TrainingResult result;
            try
            {
                using var progress = new TrainingProgressView(log);
                result = trainer.Train(progress, token);
            }
            catch (OperationCanceledException e) when (token.IsCancellationRequested)
            {
                stderr.WriteLine(e.Message);
                return 130;
            }
            if (result.Diverged)
                throw new InvalidDataException($"Z = {latent}: {result.Divergence}");
            log.WriteLine($"[Z = {latent}] evaluating: ELBO, log-likelihood (K = {samples}), clustering of the latent means");
            var assessment = ModelAssessment.Run(trainer.Model, data, samples, seed: seed, cancellationToken: token);
            plots[latent] = LatentPlots.Write(Path.Combine(runDirectory, "latent.png"), assessment.TestMeans!, assessment.TestLabels,
                latent, $"{training.Model}, {Epochs(epochs)}: test-set latent means", tsne, seed);
            rows.Add(new SweepRow(latent, epochs, trainer.TrainCount, result.Epochs.Sum(e => e.EpochSeconds), assessment));
            // Written after every size, so an interrupted sweep keeps the table of the sizes it finished.
            SweepReport.Write(directory, rows, Preamble(options, epochs, trainer.TrainCount, data.Test.Count, samples, data.Train.PixelsPerImage));
        }
        var (markdown, csv) = SweepReport.Write(directory, rows, Preamble(options, epochs, rows[0].TrainImages, data.Test.Count, samples, data.Train.PixelsPerImage));
        if (json)
        {
            stdout.WriteLine(JsonSerializer.Serialize(new
            {
                directory, markdown, csv,
                rows = rows.Select(r => new
                {
                    latent = r.Latent, epochs = r.Epochs, train_images = r.TrainImages, train_seconds = r.TrainSeconds,
                    test_loss = r.Assessment.Elbo.Loss, test_reconstruction = r.Assessment.Elbo.Reconstruction, test_kl = r.Assessment.Elbo.Kl,
                    log_likelihood = r.Assessment.LogLikelihood,
                    iw_samples = r.Assessment.LogLikelihood is null ? (int?)null : r.Assessment.ImportanceSamples,
                    clustering = r.Assessment.Clustering is { } c ? new
                    {
                        knn_k = c.KnnK, knn_accuracy = c.KnnAccuracy, kmeans_nmi = c.KMeansNmi, kmeans_ari = c.KMeansAri,
                        kmeans_accuracy = c.KMeansAccuracy, silhouette_label = c.SilhouetteByLabel, silhouette_kmeans = c.SilhouetteByCluster,
                    } : null,
                    seconds = r.Assessment.Seconds,
                    model = Path.Combine(directory, $"latent-{r.Latent}", VaeTrainer.ModelFileName),
                    plots = plots[r.Latent].Select(p => p.Path),
                }),
            }));
            return 0;
        }
        stdout.WriteLine();
        stdout.Write(SweepReport.Markdown(rows));
        stdout.WriteLine();
        stdout.WriteLine($"wrote {markdown}, {csv} and a model, metrics and latent plot per size in {directory}");
        return 0;
    }

    private static string Preamble(ParsedOptions options, int epochs, int trainImages, int testImages, int samples, int pixels) =>
        $"Latent-size sweep: {(options.String("--kind") == "conv-vae" ? $"conv-vae {pixels}-c{options.String("--channels")!.Replace(",", "-c")}" : $"vae {pixels}")}-{options.String("--hidden")}-Z, {Epochs(epochs)} on {trainImages} training images " +
        $"(batch 128, Adam 1e-3, seed {options.String("--seed")}); figures on the {testImages} test images, losses per image in nats. " +
        $"Test loss = reconstruction + KL (negative ELBO, one posterior sample); log p(x) is the importance-weighted estimate " +
        $"with K = {samples}; clustering of the test set's latent means (kNN fitted on the training means, k-means with k = 10).";

    private static string Epochs(int epochs) => epochs == 1 ? "1 epoch" : $"{epochs} epochs";
}
