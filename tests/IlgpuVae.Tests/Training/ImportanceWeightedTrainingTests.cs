using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;

namespace IlgpuVae.Tests.Training;

/// <summary>
/// Burda et al.'s protocol end to end: dynamic binarisation, the tanh preset, the multi-sample objectives, their
/// learning-rate schedule, and the options' round trip through a run directory.
/// </summary>
[Collection(SharedDevices.Name)]
public sealed class ImportanceWeightedTrainingTests
{
    private static readonly Lazy<ImageData> Mnist = new(() => ImageData.Load(TestData.MnistDirectory!, testLimit: 500));

    private static TrainingOptions Small(TrainingObjective objective, int samples) => new()
    {
        Epochs = 2, BatchSize = 50, Limit = 3000, Seed = 4, ReportEverySteps = 5, LearningRate = 3e-3f,
        Model = VaeConfig.Burda with { Hidden = [32, 32], Latent = 6 },
        Objective = objective, Samples = samples, DynamicBinarization = true,
        Schedule = LearningRateSchedule.Burda,
    };

    [MnistTheory]
    [InlineData(TrainingObjective.ImportanceWeighted, 5)]
    [InlineData(TrainingObjective.Elbo, 3)]
    public void MultiSampleTraining_Learns_AndIsReproducible(TrainingObjective objective, int samples)
    {
        var device = OpsHarness.Device("vectorized");
        using var dir = new TempDirectory();
        var options = Small(objective, samples);
        List<EpochMetrics> first;
        using (var trainer = new VaeTrainer(device, Mnist.Value, options, dir.File("a")))
            first = [.. trainer.Train().Epochs];
        Assert.Equal(2, first.Count);
        // Untrained: about 784 ln 2 = 543 nats; on binary pixels two small epochs get well below it.
        Assert.InRange(first[^1].TestLoss, 100, 350);
        Assert.True(first[^1].TrainLoss < first[0].TrainLoss);
        using (var trainer = new VaeTrainer(device, Mnist.Value, options, dir.File("b")))
            Assert.Equal(first.Select(m => m.TestLoss), trainer.Train().Epochs.Select(m => m.TestLoss));
        // The options and the binarisation survive the run directory, and the model file says what it was trained on.
        // (The report interval is not part of a run's configuration.)
        Assert.Equal(RunDirectory.ConfigText(options with { Model = options.Model.ForImages(28, 28) }),
            RunDirectory.ConfigText(TrainingOptions.FromRunDirectory(dir.File("a"))));
        using var model = VaeModel.Load(device, Path.Combine(dir.File("a"), VaeTrainer.ModelFileName));
        Assert.True(model.TrainedOnBinaryImages);
        Assert.Equal(HiddenActivation.Tanh, model.Config.Activation);
        Assert.Equal(objective == TrainingObjective.Elbo ? "elbo" : "iwae", model.Metadata["objective"]);
    }

    [MnistFact]
    public void ResumedMultiSampleRun_EndsBitIdentical()
    {
        var device = OpsHarness.Device("vectorized");
        using var dir = new TempDirectory();
        // A constant rate: Burda et al.'s schedule stretches over the run's epochs, which a resume raises here.
        var options = Small(TrainingObjective.ImportanceWeighted, 4) with { Epochs = 3, Schedule = LearningRateSchedule.Constant };
        List<EpochMetrics> straight;
        using (var trainer = new VaeTrainer(device, Mnist.Value, options, dir.File("straight")))
            straight = [.. trainer.Train().Epochs];
        using (var trainer = new VaeTrainer(device, Mnist.Value, options with { Epochs = 1 }, dir.File("resumed")))
            trainer.Train();
        using (var trainer = VaeTrainer.Resume(device, Mnist.Value, dir.File("resumed"), 3))
            trainer.Train();
        // metrics.csv keeps four decimals.
        var resumed = new RunDirectory(dir.File("resumed")).ReadMetrics();
        Assert.Equal(straight.Select(m => $"{m.TrainLoss:F4} {m.TestLoss:F4}"), resumed.Select(m => $"{m.TrainLoss:F4} {m.TestLoss:F4}"));
    }

    [MnistFact]
    public void ResumedRun_KeepsAdamsEpsilon_AndEndsBitIdentical()
    {
        var device = OpsHarness.Device("vectorized");
        using var dir = new TempDirectory();
        var options = Small(TrainingObjective.ImportanceWeighted, 2) with
        {
            Epochs = 2, Limit = 1000, Schedule = LearningRateSchedule.Constant, Epsilon = TrainingOptions.BurdaEpsilon,
        };
        List<EpochMetrics> straight, usual;
        using (var trainer = new VaeTrainer(device, Mnist.Value, options, dir.File("straight")))
            straight = [.. trainer.Train().Epochs];
        // The epsilon matters to the arithmetic, so a resume that lost it would not end where the straight run does.
        using (var trainer = new VaeTrainer(device, Mnist.Value, options with { Epsilon = TrainingSettings.DefaultEpsilon }, dir.File("usual")))
            usual = [.. trainer.Train().Epochs];
        Assert.NotEqual(straight[^1].TestLoss, usual[^1].TestLoss);
        using (var trainer = new VaeTrainer(device, Mnist.Value, options with { Epochs = 1 }, dir.File("resumed")))
            trainer.Train();
        Assert.Equal(TrainingOptions.BurdaEpsilon, TrainingOptions.FromRunDirectory(dir.File("resumed")).Epsilon);
        Assert.Equal(TrainingOptions.BurdaEpsilon, new RunDirectory(dir.File("resumed")).ReadCheckpoint().Options.Epsilon);
        using (var trainer = VaeTrainer.Resume(device, Mnist.Value, dir.File("resumed"), 2))
            trainer.Train();
        var resumed = new RunDirectory(dir.File("resumed")).ReadMetrics();
        Assert.Equal(straight.Select(m => $"{m.TrainLoss:F4} {m.TestLoss:F4}"), resumed.Select(m => $"{m.TrainLoss:F4} {m.TestLoss:F4}"));
    }

    [MnistFact]
    public void DregRun_Learns_IsRecorded_AndResumesBitIdentical()
    {
        var device = OpsHarness.Device("vectorized");
        using var dir = new TempDirectory();
        var options = Small(TrainingObjective.ImportanceWeightedDreg, 3) with
        {
            Limit = 1000, Schedule = LearningRateSchedule.Constant,
        };
        List<EpochMetrics> straight, standard;
        using (var trainer = new VaeTrainer(device, Mnist.Value, options, dir.File("straight")))
            straight = [.. trainer.Train().Epochs];
        Assert.InRange(straight[^1].TestLoss, 100, 350);
        Assert.True(straight[^1].TrainLoss < straight[0].TrainLoss);
        // Another estimator of the encoder's gradient: the same seed and noise train other weights.
        using (var trainer = new VaeTrainer(device, Mnist.Value, options with { Objective = TrainingObjective.ImportanceWeighted }, dir.File("standard")))
            standard = [.. trainer.Train().Epochs];
        Assert.NotEqual(straight[^1].TestLoss, standard[^1].TestLoss);
        Assert.Contains("\"gradient\": \"dreg\"", File.ReadAllText(Path.Combine(dir.File("straight"), RunDirectory.ConfigFile)));
        Assert.DoesNotContain("gradient", File.ReadAllText(Path.Combine(dir.File("standard"), RunDirectory.ConfigFile)));
        using (var model = VaeModel.Load(device, Path.Combine(dir.File("straight"), VaeTrainer.ModelFileName)))
            Assert.Equal("dreg", model.Metadata["gradient"]);
        using (var trainer = new VaeTrainer(device, Mnist.Value, options with { Epochs = 1 }, dir.File("resumed")))
            trainer.Train();
        Assert.Equal(TrainingObjective.ImportanceWeightedDreg, new RunDirectory(dir.File("resumed")).ReadCheckpoint().Options.Objective);
        using (var trainer = VaeTrainer.Resume(device, Mnist.Value, dir.File("resumed"), 2))
            trainer.Train();
        var resumed = new RunDirectory(dir.File("resumed")).ReadMetrics();
        Assert.Equal(straight.Select(m => $"{m.TrainLoss:F4} {m.TestLoss:F4}"), resumed.Select(m => $"{m.TrainLoss:F4} {m.TestLoss:F4}"));
    }

    [Fact]
    public void Dreg_RoundTripsThroughConfig_AsIwaeWithGradientDreg_AndWithTheElboIsRefused()
    {
        var options = new TrainingOptions { Objective = TrainingObjective.ImportanceWeightedDreg, Samples = 5 };
        options.Validate();
        string text = RunDirectory.ConfigText(options);
        // The spellings of the runs written before the objective took the gradient in: "objective" and "gradient".
        Assert.Contains("\"objective\": \"iwae\"", text);
        Assert.Contains("\"gradient\": \"dreg\"", text);
        Assert.Equal(TrainingObjective.ImportanceWeightedDreg, RunDirectory.ParseConfig(text, "config.json").Objective);
        var iwae = options with { Objective = TrainingObjective.ImportanceWeighted };
        Assert.DoesNotContain("gradient", RunDirectory.ConfigText(iwae));
        Assert.Equal(iwae, RunDirectory.ParseConfig(RunDirectory.ConfigText(iwae), "config.json"));
        // "standard", written by no version but accepted, is the bound's own gradient.
        Assert.Equal(TrainingObjective.ImportanceWeighted,
            RunDirectory.ParseConfig(text.Replace("\"dreg\"", "\"standard\""), "config.json").Objective);
        var bad = Assert.Throws<InvalidDataException>(() =>
            RunDirectory.ParseConfig(text.Replace("\"dreg\"", "\"score\""), "config.json"));
        Assert.Contains("gradient 'score' is not standard or dreg", bad.Message);
        var elbo = Assert.Throws<InvalidDataException>(() =>
            RunDirectory.ParseConfig(text.Replace("\"iwae\"", "\"elbo\""), "config.json"));
        Assert.Contains("the DReG gradient is for the importance-weighted objective (iwae), not the ELBO", elbo.Message);
        Assert.DoesNotContain('\n', elbo.Message);
        Assert.Contains("objective 'vae' is not elbo or iwae", Assert.Throws<InvalidDataException>(() =>
            RunDirectory.ParseConfig(text.Replace("\"iwae\"", "\"vae\""), "config.json")).Message);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-1e-4f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void AdamEpsilon_NotFiniteAndPositive_IsRefused(float epsilon)
    {
        var error = Assert.Throws<ArgumentException>(() => new TrainingOptions { Epsilon = epsilon }.Validate());
        Assert.StartsWith("Adam's epsilon must be a positive number", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void AdamEpsilon_RoundTripsThroughConfig_AndTheUsualOneIsNotWritten()
    {
        var options = new TrainingOptions { Epsilon = 1e-4f };
        string text = RunDirectory.ConfigText(options);
        Assert.Contains("\"adam_eps\": 0.0001", text);
        Assert.Equal(1e-4f, RunDirectory.ParseConfig(text, "config.json").Epsilon);
        string usual = RunDirectory.ConfigText(new TrainingOptions());
        Assert.DoesNotContain("adam_eps", usual);
        Assert.Equal(TrainingSettings.DefaultEpsilon, RunDirectory.ParseConfig(usual, "config.json").Epsilon);
    }

    [MnistFact]
    public void Assessment_OfABinaryModel_UsesTheBinarisedTestSet()
    {
        var device = OpsHarness.Device("vectorized");
        var options = Small(TrainingObjective.ImportanceWeighted, 2) with { Epochs = 1 };
        using var trainer = new VaeTrainer(device, Mnist.Value, options);
        var epoch = trainer.Train().Epochs[^1];
        var assessment = ModelAssessment.Run(trainer.Model, Mnist.Value, importanceSamples: 0, clustering: false);
        // The trainer tests on the same binarised set with another seed of noise: one-sample ELBOs within a nat.
        Assert.InRange(assessment.Elbo.Loss, epoch.TestLoss - 1, epoch.TestLoss + 1);
        // It is exactly the evaluation of the fixed binarisation, and not that of the grey levels.
        double Loss(ImageSet set)
        {
            using var test = new DeviceDataset(device, set);
            using var evaluator = new Evaluator(trainer.Model.Network, test);
            return evaluator.Evaluate(1, 0).Loss;
        }
        Assert.Equal(Loss(Mnist.Value.Test.Binarized()), assessment.Elbo.Loss);
        Assert.NotEqual(Loss(Mnist.Value.Test), assessment.Elbo.Loss);
    }

    [MnistFact]
    public void Binarized_MnistTestSet_IsTheOnePyTorchReproduces()
    {
        // tools/pytorch/evaluate_in_pytorch.py reproduces this binarisation in numpy and checks the same digest
        // (BINARIZED_MNIST_TEST_SHA256), so both evaluate on the same binary test images.
        var test = ImageData.Load(TestData.MnistDirectory!, trainLimit: 100).Test;
        Assert.Equal(10000, test.Count);
        string digest = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(test.Binarized().Images));
        Assert.Equal("621335a7d3be5d827218fe313e90beb1cf23d6ece845ef9e4f8236610ee949f9", digest);
    }

    [Fact]
    public void Binarized_IsFixedBySeed_AndBinary_AndKeepsTheMeanIntensity()
    {
        var random = new Random(3);
        var pixels = new byte[200 * 28 * 28];
        random.NextBytes(pixels);
        var set = ImageSet.Unlabelled(pixels, 28, 28);
        var a = set.Binarized();
        Assert.Equal(a.Images, set.Binarized(ImageSet.TestBinarizationSeed).Images);
        Assert.NotEqual(a.Images, set.Binarized(1).Images);
        Assert.All(a.Images, v => Assert.True(v is 0 or 255));
        double mean = pixels.Average(v => v / 255.0), binary = a.Images.Average(v => v / 255.0);
        Assert.InRange(binary, mean - 0.005, mean + 0.005);
        Assert.False(a.HasLabels);
    }

    [Fact]
    public void BurdaSchedule_StagesEndAfter3PowersOfPasses_AtTheirRates()
    {
        // Their run: 3,280 passes; stage i ends after 1, 4, 13, 40, 121, 364, 1,093 and 3,280 passes.
        const long steps = 7;
        long total = 3280 * steps;
        int[] ends = [1, 4, 13, 40, 121, 364, 1093, 3280];
        for (int stage = 0; stage < 8; stage++)
        {
            long first = stage == 0 ? 0 : ends[stage - 1] * steps, last = ends[stage] * steps - 1;
            Assert.Equal(stage, TrainingSettings.BurdaStage(first, total));
            Assert.Equal(stage, TrainingSettings.BurdaStage(last, total));
            var options = new TrainingOptions { Schedule = LearningRateSchedule.Burda };
            Assert.Equal(1e-3 * Math.Pow(10, -stage / 7.0), options.LearningRateAt(first, total), 1e-9);
        }
        // Compressed into 328 epochs of 10 steps, each stage lasts a tenth as many passes: stage 3 starts after 1.3
        // epochs (step 13), stage 7 after 109.3 (step 1,093).
        Assert.Equal(2, TrainingSettings.BurdaStage(12, 328 * 10));
        Assert.Equal(3, TrainingSettings.BurdaStage(13, 328 * 10));
        Assert.Equal(6, TrainingSettings.BurdaStage(1092, 328 * 10));
        Assert.Equal(7, TrainingSettings.BurdaStage(1093, 328 * 10));
        Assert.Equal(7, TrainingSettings.BurdaStage(328 * 10 - 1, 328 * 10));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(TrainingOptions.MaxSamples + 1)]
    public void Samples_OutOfRange_AreRefused(int samples)
    {
        var error = Assert.Throws<ArgumentException>(() => new TrainingOptions { Samples = samples }.Validate());
        Assert.Contains("samples per image", error.Message);
    }

    [Fact]
    public void ImportanceWeighted_WithAKlWeight_IsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            new TrainingOptions { Objective = TrainingObjective.ImportanceWeighted, Beta = 2 }.Validate());
        Assert.Contains("no KL weight", error.Message);
    }

    [Fact]
    public void TanhConfig_RoundTripsThroughMetadata_AndReluFilesReadAsBefore()
    {
        var config = VaeConfig.Burda;
        Assert.Equal("vae 784-200-200-50 tanh", config.ToString());
        Assert.Equal(config.ToString(), VaeConfig.FromMetadata(config.ToMetadata(), "test").ToString());
        Assert.False(VaeConfig.Default.ToMetadata().ContainsKey("activation"));
        var bad = config.ToMetadata();
        bad["activation"] = "gelu";
        var error = Assert.Throws<InvalidDataException>(() => VaeConfig.FromMetadata(bad, "m.safetensors"));
        Assert.Contains("'activation' is 'gelu'", error.Message);
    }
}
