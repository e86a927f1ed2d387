using System.Text.Json;
using IlgpuVae.Cli;
using IlgpuVae.Imaging;
using IlgpuVae.Tests.Imaging;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;
using static IlgpuVae.Tests.Cli.CliRunner;

namespace IlgpuVae.Tests.Cli;

public sealed class TrainCliTests
{
    [Fact]
    public void Conditioning_ForAVae_IsAUsageError()
    {
        var (code, _, err) = Run("train", "--conditioning", "every-layer");
        Assert.Equal(2, code);
        Assert.Contains("--conditioning is for --kind cvae", err);
    }

    [Fact]
    public void Channels_ForADenseKind_IsAUsageError()
    {
        var (code, _, err) = Run("train", "--channels", "8,16");
        Assert.Equal(2, code);
        Assert.Contains("--channels is for --kind conv-vae or conv-cvae", err);
    }

    [MnistFact]
    public void TrainConvVae_WritesAConvModel_ThatEveryModelCommandReads()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        var (code, output, err) = Run("train", "--kind", "conv-vae", "--channels", "4,8", "--hidden", "16", "--latent", "2",
            "--data", TestData.MnistDirectory!, "--epochs", "1", "--limit", "200", "--out", run, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("training conv-vae 1x28x28-c4-c8-16-2", output);
        var written = new RunDirectory(run).ReadConfig().Model;
        Assert.Equal([4, 8], written.Channels);
        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, RunDirectory.ConfigFile))))
            Assert.Equal("conv-vae", json.RootElement.GetProperty("model").GetString());
        string model = Path.Combine(run, "model.safetensors");
        foreach (var args in new[]
        {
            new[] { "evaluate", "--model", model, "--data", TestData.MnistDirectory!, "--iw-samples", "2", "--limit", "300" },
            ["sample", "--model", model, "--out", dir.File("s.png")],
            ["reconstruct", "--model", model, "--data", TestData.MnistDirectory!, "--out", dir.File("r.png")],
            ["interpolate", "--model", model, "--data", TestData.MnistDirectory!, "--out", dir.File("i.png")],
            ["manifold", "--model", model, "--out", dir.File("m.png")],
        })
        {
            (code, _, err) = Run(args);
            Assert.True(code == 0, $"{args[0]}: {err}");
        }
    }

    [MnistFact]
    public void TrainCvae_UsesTheConditionalDefaults_ExceptWhatIsGiven()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        var (code, output, err) = Run("train", "--model", "cvae", "--data", TestData.MnistDirectory!, "--epochs", "1", "--limit", "200",
            "--hidden", "16", "--out", run, "--device", "cpu");
        Assert.True(code == 0, err);
        var defaults = TrainingOptions.ConditionalDefaults;
        Assert.Contains($"beta {defaults.BetaStart} -> {defaults.Beta} over {defaults.KlWarmupEpochs} epochs", output);
        var written = new RunDirectory(run).ReadConfig();
        Assert.Equal(1, written.Epochs);
        Assert.Equal(10, written.Model.Classes);
        Assert.Equal((defaults.Beta, defaults.BetaStart, defaults.KlWarmupEpochs, defaults.Model.Latent, defaults.Model.ConditionEveryLayer),
            (written.Beta, written.BetaStart, written.KlWarmupEpochs, written.Model.Latent, written.Model.ConditionEveryLayer));
        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, RunDirectory.ConfigFile))))
            Assert.Equal("cvae", json.RootElement.GetProperty("model").GetString());

        // What is given wins; a VAE keeps the VAE defaults.
        (code, _, err) = Run("train", "--model", "cvae", "--beta", "3", "--data", TestData.MnistDirectory!, "--epochs", "1", "--limit", "200",
            "--hidden", "16", "--out", dir.File("given"), "--device", "cpu");
        Assert.True(code == 0, err);
        written = new RunDirectory(dir.File("given")).ReadConfig();
        Assert.Equal((3f, defaults.BetaStart), (written.Beta, written.BetaStart));
        (code, _, err) = Run("train", "--data", TestData.MnistDirectory!, "--epochs", "1", "--limit", "200",
            "--hidden", "16", "--out", dir.File("vae"), "--device", "cpu");
        Assert.True(code == 0, err);
        written = new RunDirectory(dir.File("vae")).ReadConfig();
        var vae = new TrainingOptions();
        Assert.Equal((0, vae.Beta, vae.BetaStart, vae.KlWarmupEpochs), (written.Model.Classes, written.Beta, written.BetaStart, written.KlWarmupEpochs));
    }

    [MnistFact]
    public void Resume_WithoutEpochs_KeepsTheRunsOwnCount()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        var (code, _, err) = Run("train", "--data", TestData.MnistDirectory!, "--epochs", "1", "--limit", "200", "--hidden", "16",
            "--latent", "2", "--out", run, "--device", "cpu");
        Assert.True(code == 0, err);
        // The run is complete at its one epoch: resuming it without --epochs trains nothing more.
        (code, var output, err) = Run("train", "--resume", run, "--data", TestData.MnistDirectory!, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.DoesNotContain("epoch 2/", output);
        Assert.Single(new RunDirectory(run).ReadMetrics());
        (code, output, err) = Run("train", "--resume", run, "--epochs", "2", "--data", TestData.MnistDirectory!, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("epoch 2/2", output);
    }

    [MnistFact]
    public void Train_WritesThePicturesAfterEveryEpoch()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        var (code, _, err) = Run("train", "--data", TestData.MnistDirectory!, "--epochs", "1", "--limit", "200", "--hidden", "16",
            "--latent", "2", "--out", run, "--device", "cpu");
        Assert.True(code == 0, err);
        string reconstructions = Path.Combine(run, TrainingPictures.ReconstructionsFile);
        string samples = Path.Combine(run, TrainingPictures.SamplesFile);
        var layout = DigitGrid.ComputeLayout(2, 10, new GridLabels { Title = "Test digits and reconstructions, epoch 1", RowLabels = ["input", "recon"] });
        var image = PngReader.Read(reconstructions);
        Assert.Equal((layout.Width, layout.Height), (image.Width, image.Height));
        layout = DigitGrid.ComputeLayout(8, 8, new GridLabels { Title = "Samples from the prior, epoch 1" });
        image = PngReader.Read(samples);
        Assert.Equal((layout.Width, layout.Height), (image.Width, image.Height));

        // One more epoch redraws both from the further-trained model.
        byte[] before = File.ReadAllBytes(reconstructions), samplesBefore = File.ReadAllBytes(samples);
        (code, _, err) = Run("train", "--resume", run, "--epochs", "2", "--data", TestData.MnistDirectory!, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.NotEqual(before, File.ReadAllBytes(reconstructions));
        Assert.NotEqual(samplesBefore, File.ReadAllBytes(samples));
    }

    [MnistFact]
    public void Train_CancelledBeforeItStarts_Exits130()
    {
        using var dir = new TempDirectory();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var stderr = new StringWriter();
        int code = Program.Run(["train", "--data", TestData.MnistDirectory!, "--epochs", "1", "--limit", "200", "--hidden", "16",
            "--out", dir.File("run"), "--device", "cpu"], TextWriter.Null, stderr, cancelled.Token);
        Assert.Equal(130, code);
        Assert.Contains("stopped", stderr.ToString());
        Assert.DoesNotContain("   at ", stderr.ToString());
    }
}

public sealed class ImportanceWeightedCliTests
{
    [Theory]
    [InlineData("--objective iwae --beta 2", "the iwae objective has none")]
    [InlineData("--objective iwae --kind cvae", "a CVAE trains on the ELBO")]
    [InlineData("--samples 0", "--samples")]
    [InlineData("--objective nope", "--objective")]
    [InlineData("--preset burda --hidden 100", "--preset sets --hidden")]
    [InlineData("--preset vgg", "--preset")]
    [InlineData("--lr-schedule steps", "--lr-schedule")]
    [InlineData("--activation gelu", "--activation")]
    [InlineData("--adam-eps 0", "option '--adam-eps' must be greater than 0")]
    [InlineData("--adam-eps -1e-4", "option '--adam-eps' must be greater than 0")]
    [InlineData("--adam-eps nan", "option '--adam-eps' expects a finite number")]
    [InlineData("--adam-eps inf", "option '--adam-eps' expects a finite number")]
    [InlineData("--adam-eps tiny", "option '--adam-eps' expects a finite number")]
    [InlineData("--gradient dreg", "--gradient dreg is for --objective iwae")]
    [InlineData("--gradient dreg --objective elbo --samples 5", "--gradient dreg is for --objective iwae")]
    [InlineData("--gradient score", "--gradient")]
    [InlineData("--output-bias zeros", "option '--output-bias' must be one of uniform|data-mean")]
    [InlineData("--output-bias data-mean --likelihood gaussian", "--output-bias data-mean is for a dense decoder")]
    [InlineData("--output-bias data-mean --kind conv-vae", "--output-bias data-mean is for a dense decoder")]
    public void BadOptions_AreOneLineUsageErrors(string args, string fragment)
    {
        var (code, _, err) = Run(["train", .. args.Split(' ')]);
        Assert.Equal(2, code);
        AssertOneLineError(err, fragment);
    }

    [MnistFact]
    public void TrainIwaeWithGradientDreg_TrainsTheDregObjective_RecordedAsIwaeAndDreg()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        var (code, output, err) = Run("train", "--objective", "iwae", "--samples", "2", "--gradient", "dreg", "--hidden", "16",
            "--latent", "2", "--data", TestData.MnistDirectory!, "--epochs", "1", "--limit", "100", "--out", run, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("iwae, K = 2, DReG gradient", output);
        Assert.Equal(TrainingObjective.ImportanceWeightedDreg, new RunDirectory(run).ReadConfig().Objective);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, RunDirectory.ConfigFile)));
        Assert.Equal(("iwae", "dreg"), (json.RootElement.GetProperty("objective").GetString(), json.RootElement.GetProperty("gradient").GetString()));
    }

    [MnistFact]
    public void TrainIwaeOnBinarisedImages_ThenEvaluate_ReportsTheBinarisedNll()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        var (code, output, err) = Run("train", "--preset", "burda", "--objective", "iwae", "--samples", "3", "--binarize",
            "--lr-schedule", "burda", "--data", TestData.MnistDirectory!, "--epochs", "1", "--limit", "300", "--out", run,
            "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("training vae 784-200-200-50 tanh on 300 dynamically binarised images", output);
        Assert.Contains("burda schedule), iwae, K = 3, output bias from the mean image, Adam epsilon 0.0001)", output);
        // The preset's epsilon is Burda et al.'s, recorded in config.json and in the checkpoint's options.
        Assert.Contains("\"adam_eps\": 0.0001", File.ReadAllText(Path.Combine(run, RunDirectory.ConfigFile)));
        var (_, _, checkpointOptions) = new RunDirectory(run).ReadCheckpoint();
        Assert.Equal(TrainingOptions.BurdaEpsilon, checkpointOptions.Epsilon);
        string model = Path.Combine(run, "model.safetensors");
        (code, output, err) = Run("evaluate", "--model", model, "--data", TestData.MnistDirectory!, "--iw-samples", "4",
            "--no-clustering");
        Assert.True(code == 0, err);
        Assert.Contains($"binarised by seed {IlgpuVae.Data.ImageSet.TestBinarizationSeed}", output);
        Assert.Contains("test NLL", output);
        Assert.Contains("bits/dim (importance-weighted; NLL / (D ln 2) of the binarised pixels: bits per binary pixel)", output);
        // A resume keeps the objective.
        (code, _, err) = Run("train", "--resume", run, "--samples", "5");
        Assert.Equal(2, code);
        Assert.Contains("--samples cannot change on --resume", err);
        // And Adam's epsilon, even given as the value it has.
        (code, _, err) = Run("train", "--resume", run, "--adam-eps", "1e-4");
        Assert.Equal(2, code);
        AssertOneLineError(err, "--adam-eps cannot change on --resume");
    }

    [MnistFact]
    public void OutputBias_ThePresetsStartAtTheMeanImage_UnlessTold_AndAResumeKeepsIt()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        var (code, output, err) = Run("train", "--preset", "burda", "--data", TestData.MnistDirectory!,
            "--epochs", "1", "--limit", "100", "--batch", "50", "--out", run, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("output bias from the mean image", output);
        Assert.True(TrainingOptions.FromRunDirectory(run).OutputBiasFromData);
        Assert.True(new RunDirectory(run).ReadCheckpoint().Options.OutputBiasFromData);
        (code, _, err) = Run("train", "--resume", run, "--output-bias", "data-mean");
        Assert.Equal(2, code);
        AssertOneLineError(err, "--output-bias cannot change on --resume");
        // Told otherwise, the preset draws it like every tensor, and config.json reads as before the option.
        string uniform = dir.File("uniform");
        (code, output, err) = Run("train", "--preset", "burda", "--output-bias", "uniform", "--data", TestData.MnistDirectory!,
            "--epochs", "1", "--limit", "100", "--batch", "50", "--out", uniform, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.DoesNotContain("output bias", output);
        Assert.DoesNotContain("output_bias", File.ReadAllText(Path.Combine(uniform, RunDirectory.ConfigFile)));
        // Without a preset it is asked for by name; with a Gaussian decoder the preset leaves it out rather than fail.
        string plain = dir.File("plain");
        (code, _, err) = Run("train", "--hidden", "16", "--output-bias", "data-mean", "--data", TestData.MnistDirectory!,
            "--epochs", "1", "--limit", "100", "--out", plain, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.True(TrainingOptions.FromRunDirectory(plain).OutputBiasFromData);
        string gaussian = dir.File("gaussian");
        (code, _, err) = Run("train", "--preset", "burda", "--likelihood", "gaussian", "--data", TestData.MnistDirectory!,
            "--epochs", "1", "--limit", "100", "--batch", "50", "--out", gaussian, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.False(TrainingOptions.FromRunDirectory(gaussian).OutputBiasFromData);
    }

    [MnistFact]
    public void AdamEps_IsRecorded_AndOverridesThePresets()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        var (code, output, err) = Run("train", "--preset", "burda", "--adam-eps", "3e-6", "--data", TestData.MnistDirectory!,
            "--epochs", "1", "--limit", "100", "--batch", "50", "--out", run, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("Adam epsilon 3E-06)", output);
        Assert.Equal(3e-6f, TrainingOptions.FromRunDirectory(run).Epsilon);
        Assert.Equal(3e-6f, new RunDirectory(run).ReadCheckpoint().Options.Epsilon);
        // Without the preset or the option: Adam's usual 1e-8, not written, so a default config.json reads as before.
        string plain = dir.File("plain");
        (code, output, err) = Run("train", "--hidden", "16", "--data", TestData.MnistDirectory!, "--epochs", "1",
            "--limit", "100", "--out", plain, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.DoesNotContain("Adam epsilon", output);
        Assert.DoesNotContain("adam_eps", File.ReadAllText(Path.Combine(plain, RunDirectory.ConfigFile)));
        Assert.Equal(TrainingSettings.DefaultEpsilon, TrainingOptions.FromRunDirectory(plain).Epsilon);
    }
}
