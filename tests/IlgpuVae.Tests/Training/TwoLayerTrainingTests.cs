using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;
using static IlgpuVae.Tests.Cli.CliRunner;

namespace IlgpuVae.Tests.Training;

/// <summary>
/// Two stochastic layers (--preset burda2) end to end: training on each objective, the run directory, the model file's
/// metadata and tensor names, resume, prior samples, the log-likelihood estimate, and the CLI's refusals.
/// </summary>
[Collection(SharedDevices.Name)]
public sealed class TwoLayerTrainingTests
{
    private static readonly Lazy<ImageData> Mnist = new(() => ImageData.Load(TestData.MnistDirectory!, testLimit: 300));

    private static TrainingOptions Small(TrainingObjective objective, int samples) => new()
    {
        Epochs = 2, BatchSize = 50, Limit = 1000, Seed = 4, ReportEverySteps = 5, LearningRate = 3e-3f,
        Model = VaeConfig.Burda2 with { Hidden = [32, 32], Latent = 8, Hidden2 = [16, 12], Latent2 = 4 },
        Objective = objective, Samples = samples, DynamicBinarization = true, Epsilon = TrainingOptions.BurdaEpsilon,
    };

    [MnistTheory]
    [InlineData(TrainingObjective.ImportanceWeighted, 3)]
    [InlineData(TrainingObjective.Elbo, 1)]
    [InlineData(TrainingObjective.Elbo, 2)]
    public void TwoLayerRun_Learns_RoundTrips_AndResumesBitIdentical(TrainingObjective objective, int samples)
    {
        var device = OpsHarness.Device("vectorized");
        using var dir = new TempDirectory();
        var options = Small(objective, samples);
        List<EpochMetrics> straight;
        using (var trainer = new VaeTrainer(device, Mnist.Value, options, dir.File("straight")))
            straight = [.. trainer.Train().Epochs];
        // Untrained: about 784 ln 2 = 543 nats; two small epochs on binary pixels get well below it.
        Assert.InRange(straight[^1].TestLoss, 100, 400);
        Assert.True(straight[^1].TrainLoss < straight[0].TrainLoss);
        using (var trainer = new VaeTrainer(device, Mnist.Value, options with { Epochs = 1 }, dir.File("resumed")))
            trainer.Train();
        using (var trainer = VaeTrainer.Resume(device, Mnist.Value, dir.File("resumed"), 2))
            trainer.Train();
        var resumed = new RunDirectory(dir.File("resumed")).ReadMetrics();
        Assert.Equal(straight.Select(m => $"{m.TrainLoss:F4} {m.TestLoss:F4}"), resumed.Select(m => $"{m.TrainLoss:F4} {m.TestLoss:F4}"));
        // config.json keeps the second layer.
        Assert.Equal(RunDirectory.ConfigText(options with { Model = options.Model.ForImages(28, 28) }),
            RunDirectory.ConfigText(TrainingOptions.FromRunDirectory(dir.File("straight"))));
        Assert.Contains("\"latent2\": 4", RunDirectory.ConfigText(options));

        using var model = VaeModel.Load(device, Path.Combine(dir.File("straight"), VaeTrainer.ModelFileName));
        Assert.Equal(options.Model.ForImages(28, 28), model.Config);
        Assert.Equal("4", model.Metadata["latent2"]);
        Assert.Equal("16,12", model.Metadata["hidden2"]);
        // Readable names, in the order of the layers (PyTorch's modules: tools/pytorch/evaluate_in_pytorch.py's TwoLayerVae).
        var names = VaeNetwork.LayoutOf(model.Config).Slots.Select(s => s.Name).ToArray();
        Assert.Equal(
        [
            "encoder.0.weight", "encoder.0.bias", "encoder.1.weight", "encoder.1.bias", "mu.weight", "logvar.weight", "mu.bias", "logvar.bias",
            "encoder2.0.weight", "encoder2.0.bias", "encoder2.1.weight", "encoder2.1.bias", "mu2.weight", "logvar2.weight", "mu2.bias", "logvar2.bias",
            "decoder2.0.weight", "decoder2.0.bias", "decoder2.1.weight", "decoder2.1.bias",
            "prior_mu.weight", "prior_logvar.weight", "prior_mu.bias", "prior_logvar.bias",
            "decoder.0.weight", "decoder.0.bias", "decoder.1.weight", "decoder.1.bias", "out.weight", "out.bias",
        ], names);
        // Ancestral samples: probabilities, the same for the same seed, others for another.
        var batch = model.Sample(7, 3);
        Assert.Equal((7, 1, 28, 28), (batch.Count, batch.Channels, batch.Height, batch.Width));
        var drawn = batch.Values;
        Assert.Equal(7 * 784, drawn.Length);
        Assert.All(drawn, p => Assert.InRange(p, 0f, 1f));
        Assert.Equal(drawn, model.Sample(7, 3).Values);
        Assert.NotEqual(drawn, model.Sample(7, 4).Values);
        // The estimate of log p(x) (z1 and z2 from q) lies above the one-sample ELBO in expectation; with K = 20 over
        // 300 images, clearly.
        var test = model.ImagesAsTrained(Mnist.Value.Test);
        var estimate = model.EstimateLogLikelihood(test, 20, 1);
        var elbo = model.Evaluate(test, 1);
        Assert.True(double.IsFinite(estimate));
        Assert.InRange(-estimate, 50, elbo.Loss);
    }

    [Fact]
    public void Metadata_RoundTrips_OneLayerFilesCarryNoSecondLayer_AndBadSizesAreRefused()
    {
        var two = VaeConfig.Burda2;
        Assert.True(two.IsTwoLayer);
        Assert.Equal("vae 784-200-200-100-100-100-50 tanh (two stochastic layers)", two.ToString());
        Assert.Equal(two, VaeConfig.FromMetadata(two.ToMetadata(), "m"));
        Assert.NotEqual(two, two with { Hidden2 = [50] });
        Assert.NotEqual(VaeConfig.Burda.GetHashCode(), (VaeConfig.Burda with { Latent2 = 5 }).GetHashCode());
        var one = VaeConfig.Burda.ToMetadata();
        Assert.DoesNotContain("latent2", one.Keys);
        Assert.DoesNotContain("hidden2", one.Keys);
        Assert.False(VaeConfig.FromMetadata(one, "m").IsTwoLayer);
        var orphan = new Dictionary<string, string>(one) { ["hidden2"] = "5" };
        Assert.Contains("'hidden2' but no 'latent2'", Assert.Throws<InvalidDataException>(() => VaeConfig.FromMetadata(orphan, "m")).Message);
        Assert.Throws<ArgumentException>(() => (VaeConfig.Burda with { Hidden2 = [5] }).Validate());
        Assert.Throws<ArgumentException>(() => (two with { Latent2 = -1 }).Validate());
        Assert.Contains("not a cvae", Assert.Throws<ArgumentException>(() => (two with { Classes = 10 }).Validate()).Message);
        Assert.Throws<ArgumentException>(() => (VaeConfig.Convolutional() with { Latent2 = 4 }).Validate());
        // DReG is built for one stochastic layer.
        var dreg = new TrainingOptions { Model = two, Objective = TrainingObjective.ImportanceWeightedDreg, Samples = 2 };
        var error = Assert.Throws<ArgumentException>(dreg.Validate);
        Assert.DoesNotContain('\n', error.Message);
    }

    [MnistFact]
    public void Cli_TrainsAndSamplesTwoLayers_AndRefusesWhatNeedsOneLayer_InOneLine()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        string mnist = TestData.MnistDirectory!;
        var (code, output, err) = Run("train", "--preset", "burda2", "--binarize", "--objective", "iwae", "--samples", "2",
            "--data", mnist, "--epochs", "1", "--limit", "200", "--batch", "50", "--out", run, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("vae 784-200-200-100-100-100-50 tanh (two stochastic layers)", output);
        Assert.Contains("Adam epsilon 0.0001", output);
        string model = Path.Combine(run, "model.safetensors");
        (code, _, err) = Run("sample", "--model", model, "--count", "4", "--out", dir.File("s.png"), "--device", "cpu");
        Assert.True(code == 0, err);
        foreach (var args in new[]
        {
            new[] { "train", "--preset", "burda2", "--kind", "cvae", "--data", mnist, "--out", dir.File("x") },
            ["train", "--preset", "burda2", "--objective", "iwae", "--samples", "2", "--gradient", "dreg", "--data", mnist, "--out", dir.File("y")],
            ["export", "--model", model, "--out", dir.File("onnx")],
            ["manifold", "--model", model, "--out", dir.File("m.png"), "--device", "cpu"],
        })
        {
            (code, _, err) = Run(args);
            Assert.True(code == 2, $"{string.Join(' ', args)}: exit {code}: {err}");
            Assert.Single(err.Trim().Split('\n'));
            Assert.Contains("stochastic layer", err);
        }
    }
}
