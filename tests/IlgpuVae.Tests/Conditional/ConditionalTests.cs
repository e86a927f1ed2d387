using IlgpuVae.Classification;
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;

namespace IlgpuVae.Tests.Conditional;

[Collection(SharedDevices.Name)]
public sealed class ConditionalTests
{
    private static readonly Lazy<ImageData> Mnist = new(() => ImageData.Load(TestData.MnistDirectory!, trainLimit: 10_000, testLimit: 1000));
    private static readonly VaeConfig Tiny = new(6, [5], 3, 3) { ConditionEveryLayer = true };

    [Fact]
    public void Agreement_FromConfusion_CountsTheDiagonalPerRequestedClass()
    {
        // Requested 0: 3 of 4 seen as 0; requested 1: 1 of 4 seen as 1.
        var agreement = new Evaluation(0) { Confusion = [3, 1, 3, 1] };
        Assert.Equal(2, agreement.Classes);
        Assert.Equal([0.75, 0.25], agreement.PerClassAccuracy);
        Assert.Equal([4, 4], agreement.PerClassCount);
    }

    [Fact]
    public void TransferStyle_RowIsTheInputsCodeDecodedWithEveryLabel()
    {
        using var model = VaeModel.Create(OpsHarness.Device("vectorized"), Tiny, seed: 2, capacity: 8);
        var images = OpsHarness.Random(2 * Tiny.InputSize, 3, 0, 1);
        int[] labels = [1, 2];
        var transferred = model.TransferStyle(images, labels).Values;
        Assert.Equal(2 * Tiny.Classes * Tiny.InputSize, transferred.Length);
        var (mu, _) = model.Encode(images, labels);
        for (int i = 0; i < 2; i++)
            for (int c = 0; c < Tiny.Classes; c++)
                Assert.Equal(model.Decode(mu.AsSpan(i * Tiny.Latent, Tiny.Latent), [c]).Values,
                    transferred.AsSpan((i * Tiny.Classes + c) * Tiny.InputSize, Tiny.InputSize).ToArray());
        // Decoding with its own label is the reconstruction.
        Assert.Equal(model.Reconstruct(images.AsSpan(0, Tiny.InputSize), [1]).Values,
            transferred.AsSpan(1 * Tiny.InputSize, Tiny.InputSize).ToArray());
    }

    [Fact]
    public void Sample_RowsFollowTheRequestedClasses_AndScaleZeroDecodesTheOrigin()
    {
        using var model = VaeModel.Create(OpsHarness.Device("vectorized"), Tiny, seed: 2, capacity: 8);
        var (images, labels) = model.SampleClasses([2, 0], perClass: 3, seed: 5, priorScale: 0f);
        Assert.Equal([2, 2, 2, 0, 0, 0], labels);
        var origin = model.Decode(new float[Tiny.Latent], [2]).Values;
        Assert.Equal(origin, images.Image(0).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => model.SampleClasses([3], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.SampleClasses([1], 1, priorScale: -1f));
    }

    [Fact]
    public void UnconditionalModel_IsRefusedWithAClearError()
    {
        var device = OpsHarness.Device("vectorized");
        using var vae = VaeModel.Create(device, new VaeConfig(6, [5], 3), capacity: 8);
        using var classifier = Classifier.Create(device, new ClassifierConfig(6, [4], 3));
        var e = Assert.Throws<ArgumentException>(() => classifier.Agreement(vae, 10));
        Assert.Contains("needs a conditional model", e.Message);
        e = Assert.Throws<ArgumentException>(() => vae.TransferStyle(new float[6], [0]));
        Assert.Contains("takes no labels", e.Message);
        using var cvae = VaeModel.Create(device, Tiny, capacity: 8);
        using var wrong = Classifier.Create(device, new ClassifierConfig(6, [4], 10));
        e = Assert.Throws<ArgumentException>(() => wrong.Agreement(cvae, 10));
        Assert.Contains("10 classes", e.Message);
    }

    [MnistFact]
    public void ShortTraining_GeneratedDigitsAreRecognisedFarAboveChance_UntrainedAreNot()
    {
        var device = OpsHarness.Device("vectorized");
        var data = Mnist.Value;
        using var classifierTrainer = new ClassifierTrainer(device, data, ClassifierConfig.Default,
            ClassifierTrainer.DefaultSettings with { Epochs = 1, BatchSize = 64, LearningRate = 2e-3f, Seed = 3 });
        classifierTrainer.Train();
        var classifier = classifierTrainer.Classifier;

        // The default CVAE's KL schedule (beta from 8 down to 2), shortened to 6 epochs of 10 000 images of a smaller model.
        var options = TrainingOptions.ConditionalDefaults with
        {
            Epochs = 6, KlWarmupEpochs = 3, LearningRate = 2e-3f, Limit = 10_000, Seed = 2,
            Model = new VaeConfig(784, [200], 4, 10),
        };
        using var untrained = VaeModel.Create(device, options.Model, seed: 2);
        var before = classifier.Agreement(untrained, samplesPerClass: 100);
        using var trainer = new VaeTrainer(device, data, options);
        Assert.Null(trainer.Train().Divergence);
        var after = classifier.Agreement(trainer.Model, samplesPerClass: 100);
        // Chance is 10%: the untrained decoder draws the same grey blur whatever the label, which the classifier calls
        // one digit (10.0% here). After training, 96.4% of the digits are the requested ones (the worst class 79%).
        // The bounds leave room for other devices' rounding, not for a decoder that ignores its label.
        Assert.InRange(before.Accuracy!.Value, 0.0, 0.3);
        Assert.InRange(after.Accuracy!.Value, 0.8, 1.0);
        Assert.All(after.PerClassAccuracy, share => Assert.InRange(share, 0.5, 1.0));
    }
}
