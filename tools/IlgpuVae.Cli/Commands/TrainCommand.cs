using System.CommandLine;
using IlgpuVae.Data;
using IlgpuVae.Imaging;
using IlgpuVae.Models;
using IlgpuVae.Training;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>train</c>: a VAE or CVAE into a run directory, or <c>--resume</c> one.</summary>
public static class TrainCommand
{
    private static readonly Dictionary<string, string> Kinds = new()
    {
        ["vae"] = "vae", ["cvae"] = "cvae", ["conv-vae"] = "conv-vae", ["conv-cvae"] = "conv-cvae",
    };

    /// <summary>The --channels option of the commands that build convolutional models.</summary>
    internal static OptionSpec ChannelsOption => new("--channels",
        "conv kinds: output channels of the stride-2 4x4 convolutions from the image side (the decoder mirrors them)", "LIST", "32,64");

    /// <summary>
    /// The architecture of a kind for images of rows x cols: dense (784-400-20 by default), or convolutions of
    /// <paramref name="channels"/> before the dense layers <paramref name="hidden"/>.
    /// </summary>
    internal static VaeConfig ConfigOf(string kind, int rows, int cols, int[] hidden, int latent, int classes,
        bool conditionEveryLayer, int[] channels, int imageChannels = 1) =>
        (kind.StartsWith("conv-", StringComparison.Ordinal)
            ? VaeConfig.Convolutional(latent, channels, hidden, classes, rows, cols, imageChannels)
            : imageChannels == 1 ? new VaeConfig(rows * cols, hidden, latent, classes)
            : new VaeConfig(rows * cols, hidden, latent, classes).ForImages(rows, cols, imageChannels))
        with { ConditionEveryLayer = conditionEveryLayer };

    /// <summary>
    /// The MLP for a file of real-valued vectors: D-hidden-Z with a Gaussian decoder (the default for vectors), the columns
    /// standardised by the training rows' means and standard deviations (stored in the model).
    /// </summary>
    private static VaeConfig VectorConfig(ImageData data, string kind, int[] hidden, int latent, HiddenActivation activation,
        DecoderLikelihood likelihood, float? sigma, bool binarize)
    {
        if (kind != "vae")
            throw new UsageException($"--kind {kind} is for images; a file of vectors trains --kind vae (an MLP)");
        if (likelihood != DecoderLikelihood.Gaussian)
            throw new UsageException($"--likelihood {VaeConfig.LikelihoodName(likelihood)} models values in [0, 1]; standardised vectors are unbounded: use --likelihood gaussian (the default for vectors)");
        if (binarize)
            throw new UsageException("--binarize is for images in [0, 1], not real-valued vectors");
        try
        {
            return new VaeConfig(data.Train.PixelsPerImage, hidden, latent) { Activation = activation, Likelihood = likelihood, Sigma = sigma }
                .ForVectors(data.Train);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--data: {e.Message.Split(" (Parameter")[0]}");
        }
    }

    public static Command Create(CliContext cli) => CommandBuilder.Create("train",
        "train a VAE (or CVAE) on MNIST, any IDX image set, a folder of pictures, a .npy array or a CSV file of vectors; writes checkpoints, metrics and images to a run directory",
        [
            .. DataOptions,
            new("--kind", "vae, cvae (conditioned on the digit label; its defaults differ where shown), or conv-vae / conv-cvae " +
                "(convolutions before and transposed convolutions after the dense layers)", "KIND", "vae") { Aliases = ["-k"] },
            // The old spelling: --model names a model file everywhere else.
            new("--model", "the old name of --kind", "KIND") { Hidden = true },
            EpochsOption("epochs in total (with --resume: the new total) (default: 10; cvae: 20)"),
            BatchOption,
            new("--lr", "Adam learning rate (with --lr-schedule burda: at the start)", "RATE", "0.001"),
            new("--lr-schedule", "constant, cosine (decays towards 0 over the run) or burda (Burda et al.'s eight stages: " +
                "stage i lasts 3^i of the run's 3280 parts at lr x 10^(-i/7); with --epochs 3280, their schedule)", "KIND", "constant"),
            new("--adam-eps", "Adam's epsilon, added to the root of the second moment (default: 1e-8; --preset burda or burda2: 1e-4)", "E"),
            new("--preset", "burda: Burda et al.'s (2016) one-stochastic-layer model, two tanh layers of 200 and Z = 50, " +
                "mirrored by the decoder; burda2: their two-stochastic-layer model as their code builds it, two tanh layers of 200, z1 of 100, two " +
                "tanh layers of 100, z2 of 50, the generative side mirrored (--kind vae only; no --gradient dreg); either " +
                "with their Adam epsilon 1e-4 and output bias (sets --hidden, --latent and --activation, and --adam-eps and --output-bias unless given)", "NAME"),
            new("--output-bias", "the decoder's output bias at the start: uniform (drawn like every tensor, U(+-1/sqrt(fan-in))) " +
                "or data-mean (the logit of each pixel's mean over the training images, clipped to [0.001, 0.999]: Burda et al.'s; " +
                "dense Bernoulli and continuous Bernoulli decoders) (default: uniform; --preset burda or burda2: data-mean)", "KIND"),
            new("--hidden", "encoder hidden widths, e.g. 400 or 512,256 (the decoder mirrors them; conv kinds: the dense layers after the convolutions)", "LIST", "400"),
            ChannelsOption,
            new("--latent", "latent size Z (default: 20; cvae: 10)", "N") { Aliases = ["-z"] },
            new("--activation", "the hidden layers' activation: relu or tanh", "NAME", "relu"),
            new("--likelihood", "the decoder's distribution: bernoulli (BCE on grey levels), continuous-bernoulli (the " +
                "normalised density on [0, 1]; pictures show its mean) or gaussian (mean from the decoder, a learned " +
                "log-variance per pixel unless --sigma; 8-bit data are dequantised; the only one, and the default, for vectors)", "NAME", "bernoulli"),
            new("--sigma", "gaussian: a fixed standard deviation (on data in [0, 1]) instead of the learned log-variance", "S"),
            new("--objective", "elbo (BCE + beta KL, averaged over --samples) or iwae (the importance-weighted bound of " +
                "--samples samples, Burda et al. 2016)", "NAME", "elbo"),
            new("--samples", "K, posterior samples per image in each training step", "K", "1"),
            new("--gradient", "the encoder's gradient: standard (the objective's own) or dreg (with --objective iwae: the doubly " +
                "reparameterised gradient of Tucker et al. 2019; the decoder's gradient is unchanged)", "NAME", "standard"),
            new("--binarize", "dynamic binarisation: redraw every pixel as Bernoulli(intensity) each time an image is used, " +
                "and test on the test set binarised once by a fixed seed (the binarised-MNIST protocol)"),
            new("--conditioning", "cvae: the decoder layers that read the label: first-layer or every-layer", "KIND", "first-layer"),
            new("--beta", "KL weight in loss = BCE + beta KL (default: 1; cvae: 2)", "B"),
            new("--kl-warmup", "epochs over which the KL weight moves linearly from --beta-start to --beta (default: 0; cvae: 10)", "N"),
            new("--beta-start", "the KL weight at the start of --kl-warmup, above --beta to anneal down (default: 0; cvae: 8)", "B"),
            SeedOption("seed of initialisation, shuffling and noise", "1"),
            new("--limit", "train on the first N training images only", "N"),
            OutOption("run directory (default: runs/<kind>-<time>)") with { ValueName = "DIR" },
            new("--resume", "continue the run in DIR where it stopped (its options are kept; --epochs may raise the total)", "DIR") { Aliases = ["-r"] },
            new("--overwrite", "start over in an --out directory that holds a run, deleting that run's checkpoint, state, config.json, metrics and pictures " +
                "(only files ilgpu-vae wrote: another program's files of those names are refused)"),
            DeviceOption,
            CpuOpsOption,
        ],
        options => Run(options, cli));

    // What a resume keeps from the run: given with --resume, each is refused rather than silently ignored.
    private static readonly string[] KeptOnResume =
        ["--kind", "--model", "--batch", "--lr", "--lr-schedule", "--adam-eps", "--output-bias", "--preset", "--hidden", "--latent", "--activation",
         "--likelihood", "--sigma", "--conditioning", "--beta", "--kl-warmup", "--beta-start", "--objective", "--samples", "--gradient", "--binarize", "--seed",
         "--limit", "--out", "--overwrite"];

    private static int Run(ParsedOptions options, CliContext cli)
    {
        var (stdout, stderr, token) = cli;
        // Given, not merely defaulted: a resumed run keeps its own count unless told otherwise.
        int? epochsGiven = options.Given("--epochs") ? options.Int("--epochs", 1, TrainingSettings.MaxEpochs) : null;
        string? resume = options.String("--resume");
        TrainingOptions training;
        string runDirectory;
        Func<ImageData?, VaeConfig>? configFor = null;
        bool presetOutputBias = false;
        if (resume is not null)
        {
            if (!Directory.Exists(resume))
                throw new UsageException($"--resume: no run directory '{resume}'");
            if (KeptOnResume.FirstOrDefault(options.Given) is string kept)
                throw new UsageException($"{kept} cannot change on --resume: a resume keeps the run's model, batch, learning " +
                    "rate, Adam's epsilon, beta schedule, seed, limit and directory, and may only raise --epochs (and choose --data, --device, " +
                    "--cpu-ops); start a new run with --out to change the others");
            runDirectory = resume;
            training = TrainingOptions.FromRunDirectory(resume);
            if (epochsGiven is int e)
            {
                if (e < training.Epochs)
                    throw new UsageException($"--epochs {e}: the run in {resume} trains {training.Epochs} epochs; a resume can raise the total, not lower it");
                if (e != training.Epochs)
                    stdout.WriteLine($"resume: epochs {training.Epochs} -> {e} (every other option as the run had it)");
                training = training with { Epochs = e };
            }
        }
        else
        {
            if (options.Given("--kind") && options.Given("--model") && options.String("--kind") != options.String("--model"))
                throw new UsageException("--model is the old name of --kind; give one of them");
            string kind = options.Given("--model") ? options.Choice("--model", Kinds) : options.Choice("--kind", Kinds);
            bool everyLayer = options.Choice("--conditioning", new Dictionary<string, bool>
            {
                ["first-layer"] = false, ["every-layer"] = true,
            });
            bool conditional = kind.EndsWith("cvae", StringComparison.Ordinal);
            if (!conditional && options.Given("--conditioning"))
                throw new UsageException("--conditioning is for --kind cvae or conv-cvae");
            if (!kind.StartsWith("conv-", StringComparison.Ordinal) && options.Given("--channels"))
                throw new UsageException("--channels is for --kind conv-vae or conv-cvae");
            var defaults = conditional ? TrainingOptions.ConditionalDefaults : new TrainingOptions();
            VaeConfig? preset = null;
            if (options.Given("--preset"))
            {
                preset = options.Choice("--preset", new Dictionary<string, VaeConfig> { ["burda"] = VaeConfig.Burda, ["burda2"] = VaeConfig.Burda2 });
                if (options.Given("--hidden") || options.Given("--latent") || options.Given("--activation"))
                    throw new UsageException("--preset sets --hidden, --latent and --activation; give either the preset or them");
                if (preset.IsTwoLayer && kind != "vae")
                    throw new UsageException($"--preset burda2 (two stochastic layers) is for --kind vae, not {kind}");
            }
            int[] hidden = preset?.Hidden.ToArray() ?? options.IntList("--hidden");
            int[] channels = options.IntList("--channels");
            int latent = preset?.Latent ?? options.OptionalInt("--latent", 1) ?? defaults.Model.Latent;
            var activation = preset?.Activation ?? options.Choice("--activation", new Dictionary<string, HiddenActivation>
            {
                ["relu"] = HiddenActivation.Relu, ["tanh"] = HiddenActivation.Tanh,
            });
            var likelihood = options.Choice("--likelihood", Enum.GetValues<DecoderLikelihood>().ToDictionary(VaeConfig.LikelihoodName));
            float? sigma = options.Given("--sigma") ? options.Float("--sigma", 0, exclusiveMin: true) : null;
            if (sigma is not null && likelihood != DecoderLikelihood.Gaussian)
                throw new UsageException("--sigma is for --likelihood gaussian");
            // The image size is the data's and a CVAE's classes its labels', known once the data is loaded.
            bool likelihoodGiven = options.Given("--likelihood");
            configFor = data => (data is { Train.IsVectors: true } ? VectorConfig(data, kind, hidden, latent, activation,
                likelihoodGiven ? likelihood : DecoderLikelihood.Gaussian, sigma, options.Flag("--binarize")) : ConfigOf(kind, data?.Train.Rows ?? 28, data?.Train.Cols ?? 28, hidden, latent,
                conditional ? data?.Classes ?? defaults.Model.Classes : 0, everyLayer, channels, data?.ImageChannels ?? 1)
                with { Activation = activation, Likelihood = likelihood, Sigma = sigma })
                with { Hidden2 = preset?.Hidden2 ?? [], Latent2 = preset?.Latent2 ?? 0 };
            var objective = options.Choice("--objective", new Dictionary<string, TrainingObjective>
            {
                ["elbo"] = TrainingObjective.Elbo, ["iwae"] = TrainingObjective.ImportanceWeighted,
            });
            if (objective == TrainingObjective.ImportanceWeighted && (options.Given("--beta") || options.Given("--kl-warmup") || options.Given("--beta-start")))
                throw new UsageException("--beta, --kl-warmup and --beta-start weight the ELBO's KL; the iwae objective has none");
            bool dreg = options.Choice("--gradient", new Dictionary<string, bool> { ["standard"] = false, ["dreg"] = true });
            if (dreg && objective != TrainingObjective.ImportanceWeighted)
                throw new UsageException("--gradient dreg is for --objective iwae (the importance-weighted bound)");
            if (dreg && preset is { IsTwoLayer: true })
                throw new UsageException("--gradient dreg is built for one stochastic layer; --preset burda2 trains on the bound's own gradient");
            if (objective == TrainingObjective.ImportanceWeighted && conditional)
                throw new UsageException("--objective iwae is for --kind vae or conv-vae; a CVAE trains on the ELBO");
            if (options.Given("--output-bias") && options.String("--output-bias") == "data-mean"
                && (likelihood == DecoderLikelihood.Gaussian || kind.StartsWith("conv-", StringComparison.Ordinal)))
                throw new UsageException("--output-bias data-mean is for a dense decoder with a Bernoulli or continuous Bernoulli likelihood, whose output is a logit");
            training = new TrainingOptions
            {
                Epochs = epochsGiven ?? defaults.Epochs,
                BatchSize = options.Int("--batch", 1),
                LearningRate = options.Float("--lr", 0, exclusiveMin: true),
                Schedule = options.Choice("--lr-schedule", new Dictionary<string, LearningRateSchedule>
                {
                    ["constant"] = LearningRateSchedule.Constant, ["cosine"] = LearningRateSchedule.Cosine,
                    ["burda"] = LearningRateSchedule.Burda,
                }),
                Model = configFor(null),
                Objective = dreg ? TrainingObjective.ImportanceWeightedDreg : objective,
                Samples = options.Int("--samples", 1),
                DynamicBinarization = options.Flag("--binarize"),
                Beta = options.Given("--beta") ? options.Float("--beta", 0) : objective == TrainingObjective.ImportanceWeighted ? 1f : defaults.Beta,
                KlWarmupEpochs = options.OptionalInt("--kl-warmup", 0) ?? (objective == TrainingObjective.ImportanceWeighted ? 0 : defaults.KlWarmupEpochs),
                BetaStart = options.Given("--beta-start") ? options.Float("--beta-start", 0) : defaults.BetaStart,
                Seed = options.Int("--seed"),
                Limit = options.OptionalInt("--limit", 1),
                Epsilon = options.Given("--adam-eps") ? options.Float("--adam-eps", 0, exclusiveMin: true)
                    : preset is not null ? TrainingOptions.BurdaEpsilon : TrainingSettings.DefaultEpsilon,
                OutputBiasFromData = options.Given("--output-bias")
                    && options.Choice("--output-bias", new Dictionary<string, bool> { ["uniform"] = false, ["data-mean"] = true }),
            };
            presetOutputBias = preset is not null && !options.Given("--output-bias");
            runDirectory = options.String("--out") ?? Path.Combine("runs", $"{kind}-{DateTime.Now:yyyyMMdd-HHmmss}");
            if (!options.Flag("--overwrite") && VaeTrainer.HoldsRun(runDirectory))
                throw new UsageException($"--out {runDirectory} already holds a run: continue it with '--resume {runDirectory}', " +
                    "or start over with --overwrite (which deletes that run)");
            if (options.Flag("--overwrite") && VaeTrainer.OverwriteRefusal(runDirectory) is string refusal)
                throw new UsageException($"--out {refusal}");
        }
        training.Validate();
        // Every option is checked (the device opened) before any data is fetched.
        using var device = OpenDevice(options);
        var data = LoadData(options, stderr, token: token);
        if (training.Model.IsConditional)
            RequireLabels(data, "a conditional VAE");
        if (configFor is not null)
        {
            training = training with { Model = configFor(data) };
            // The preset's initial output bias where it applies, a dense decoder whose output is a logit: known only now,
            // as vectors get a Gaussian decoder by default.
            if (presetOutputBias)
                training = training with { OutputBiasFromData = training.Model.Likelihood != DecoderLikelihood.Gaussian && !training.Model.IsConvolutional };
        }
        // Before the trainer touches the run directory: a test set too small for the pictures fails now, not after an epoch.
        // Vectors have no pictures.
        var pictures = data.Train.IsVectors ? null : TrainingPictures.EveryEpoch(data.Test, data.ClassNames);
        using var trainer = resume is not null
            ? VaeTrainer.Resume(device, data, runDirectory, training.Epochs)
            : new VaeTrainer(device, data, training, runDirectory, overwrite: options.Flag("--overwrite"));
        if (pictures is not null)
            trainer.EpochCompleted += pictures;
        string objectiveText = training.Objective != TrainingObjective.Elbo
            ? $"iwae, K = {training.Samples}{(training.Objective == TrainingObjective.ImportanceWeightedDreg ? ", DReG gradient" : "")}"
            : $"beta {(training.KlWarmupEpochs > 0 ? $"{training.BetaStart} -> {training.Beta} over {training.KlWarmupEpochs} epochs" : training.Beta)}" +
              (training.Samples > 1 ? $", ELBO averaged over K = {training.Samples}" : "");
        string scheduleText = training.Schedule == LearningRateSchedule.Constant ? "" : $" ({training.Schedule.ToString().ToLowerInvariant()} schedule)";
        objectiveText += training.OutputBiasFromData ? ", output bias from the mean image" : "";
        // Said only when not Adam's usual epsilon, so a default run prints what it did.
        objectiveText += training.Epsilon == TrainingSettings.DefaultEpsilon ? ""
            : $", Adam epsilon {training.Epsilon.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        stdout.WriteLine($"training {training.Model} on {trainer.TrainCount} {(training.DynamicBinarization ? "dynamically binarised " : "")}{(data.Train.IsVectors ? "rows" : "images")}, {training.Epochs} epochs of {trainer.StepsPerEpoch} steps (batch {training.BatchSize}, lr {training.LearningRate}{scheduleText}, {objectiveText})");
        stdout.WriteLine($"device: {device.Description}");
        stdout.WriteLine($"run directory: {Path.GetFullPath(runDirectory)}");
        TrainingResult result;
        try
        {
            using var progress = new TrainingProgressView(stdout);
            result = trainer.Train(progress, token);
        }
        catch (OperationCanceledException e) when (token.IsCancellationRequested)
        {
            stderr.WriteLine(e.Message + $"; resume with '{Program.Name} train --resume {runDirectory}'");
            return 130;
        }
        if (result.Diverged)
        {
            stderr.WriteLine($"error: {result.Divergence}{(resume is null ? ErrorHints.Diverged : ErrorHints.DivergedOnResume)}");
            return 1;
        }
        if (trainer.History.Count > 0)
        {
            var last = trainer.History[^1];
            stdout.WriteLine($"done: test loss {F(last.TestLoss)} (reconstruction {F(last.TestReconstruction ?? double.NaN)} + KL {F(last.TestKl ?? double.NaN)}) per image");
        }
        stdout.WriteLine($"wrote {Path.Combine(runDirectory, VaeTrainer.ModelFileName)}, metrics.csv{(data.Train.IsVectors ? "" : ", reconstructions.png, samples.png")}");
        return 0;
    }
}
