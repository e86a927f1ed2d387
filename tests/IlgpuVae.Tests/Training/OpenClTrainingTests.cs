using IlgpuVae.Classification;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;
using Xunit.Abstractions;

namespace IlgpuVae.Tests.Training;

/// <summary>
/// Whole trainings on OpenCL (PoCL in CI: ILGPU's OpenCL C through an independent compiler and runtime) against the
/// vectorised CPU path, for every model kind and objective and the classifier (a resume on OpenCL is
/// TrainingTests.Resume_AfterCancellationMidEpoch_EqualsUninterruptedRun, whose options are "vae" here). The two paths share no
/// arithmetic: the vectorised ops sum in SIMD lanes and a packed GEMM, the kernels in tiled GEMMs and group trees,
/// and exp, log and tanh come from different libraries; the device's Box-Muller differs from the host's by up to 4e-6.
/// So losses agree to float32 rounding carried through a few Adam steps, not bit for bit: <see cref="Tolerance"/> is
/// far above that (measured on PoCL 7.0: at most 1.2e-6 relative, mostly below 1e-7) and far below what a kernel bug
/// does (the ticket bug OpenCL found made the train loss 120 times too large; a lost barrier
/// or a wrong gradient moves losses by percents within a few steps).
/// </summary>
[Collection(SharedDevices.Name)]
public sealed class OpenClTrainingTests(ITestOutputHelper output)
{
    /// <summary>The largest relative difference allowed between OpenCL's and the vectorised path's losses.</summary>
    public const double Tolerance = 1e-4;

    private static readonly Lazy<ImageData> Mnist = new(() => ImageData.Load(TestData.MnistDirectory!, testLimit: 500));

    public static TheoryData<string> Kinds => new() { "vae", "cvae", "conv-vae", "conv-cvae", "iwae", "elbo-k3" };

    private static TrainingOptions Options(string kind) => kind switch
    {
        "vae" => Mlp(new VaeConfig(784, [64], 8)),
        "cvae" => Mlp(new VaeConfig(784, [64], 8, Classes: 10)),
        "conv-vae" => Mlp(VaeConfig.Convolutional(latent: 8, channels: [8, 16], dense: [64])) with { Limit = 400, Epochs = 1 },
        "conv-cvae" => Mlp(VaeConfig.Convolutional(latent: 8, channels: [8, 16], dense: [64], classes: 10)
            with { ConditionEveryLayer = true }) with { Limit = 400, Epochs = 1 },
        // Burda et al.'s protocol, small: tanh, dynamic binarisation on the device, K samples through the decoder.
        "iwae" => Burda(TrainingObjective.ImportanceWeighted, 5),
        "elbo-k3" => Burda(TrainingObjective.Elbo, 3),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static TrainingOptions Mlp(VaeConfig config) => new()
    {
        Epochs = 2, BatchSize = 100, Limit = 1000, Model = config, ReportEverySteps = 2, Seed = 5,
    };

    private static TrainingOptions Burda(TrainingObjective objective, int samples) => new()
    {
        Epochs = 2, BatchSize = 50, Limit = 500, Seed = 4, ReportEverySteps = 5, LearningRate = 3e-3f,
        Model = VaeConfig.Burda with { Hidden = [32, 32], Latent = 6 },
        Objective = objective, Samples = samples, DynamicBinarization = true, Schedule = LearningRateSchedule.Burda,
    };

    [OpenClMnistTheory]
    [MemberData(nameof(Kinds))]
    public void Training_EveryKindAndObjective_SameLossesAsTheVectorizedPath(string kind)
    {
        var options = Options(kind);
        var expected = Train(OpsHarness.Device("vectorized"), options);
        var actual = Train(OpsHarness.Device("opencl"), options);
        AssertSameLosses(kind, expected, actual);
    }

    [OpenClMnistFact]
    public void Classifier_SameLossesAndAccuracyAsTheVectorizedPath()
    {
        var options = ClassifierTrainer.DefaultSettings with { Epochs = 2, Limit = 1000, BatchSize = 100, ReportEverySteps = 2, Seed = 5 };
        EpochMetrics[] Run(ComputeDevice device)
        {
            using var trainer = new ClassifierTrainer(device, Mnist.Value, new ClassifierConfig(784, [32]), options);
            return [.. trainer.Train().Epochs];
        }
        var expected = Run(OpsHarness.Device("vectorized"));
        var actual = Run(OpsHarness.Device("opencl"));
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Near("classifier train loss", expected[i].TrainLoss, actual[i].TrainLoss);
            Near("classifier test loss", expected[i].TestLoss, actual[i].TestLoss);
            // Accuracy counts images: one image whose two largest logits are within rounding may flip.
            Assert.InRange(Math.Abs(expected[i].TestAccuracy!.Value - actual[i].TestAccuracy!.Value), 0, 1.0 / 500 + 1e-12);
        }
    }

    private static EpochMetrics[] Train(ComputeDevice device, TrainingOptions options)
    {
        using var trainer = new VaeTrainer(device, Mnist.Value, options);
        var result = trainer.Train();
        Assert.Null(result.Divergence);
        return [.. result.Epochs];
    }

    private void AssertSameLosses(string kind, IReadOnlyList<EpochMetrics> expected, IReadOnlyList<EpochMetrics> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Near($"{kind} epoch {i + 1} train loss", expected[i].TrainLoss, actual[i].TrainLoss);
            Near($"{kind} epoch {i + 1} test loss", expected[i].TestLoss, actual[i].TestLoss);
            // The KL is a small part of the loss, and for the importance-weighted objective a difference of sampled
            // log-densities several nats large each: it is judged on the scale of the whole loss it is part of.
            Near($"{kind} epoch {i + 1} test KL", expected[i].TestKl!.Value, actual[i].TestKl!.Value, expected[i].TestLoss);
        }
    }

    private void Near(string what, double expected, double actual, double scale = 0)
    {
        double relative = Math.Abs(actual - expected) / Math.Max(Math.Max(Math.Abs(expected), scale), 1e-3);
        output.WriteLine($"{what}: vectorized {expected:R}, OpenCL {actual:R}, relative difference {relative:E2}");
        Assert.True(relative <= Tolerance, $"{what}: vectorized {expected:R}, OpenCL {actual:R} (relative {relative:E2} > {Tolerance:E0})");
    }
}

/// <summary>A theory that needs an OpenCL device and MNIST; skipped, visibly, without either.</summary>
public sealed class OpenClMnistTheoryAttribute : TheoryAttribute
{
    public OpenClMnistTheoryAttribute() => Skip = OpenClMnistFactAttribute.Missing();
}

/// <summary>A fact that needs an OpenCL device and MNIST; skipped, visibly, without either.</summary>
public sealed class OpenClMnistFactAttribute : FactAttribute
{
    public OpenClMnistFactAttribute() => Skip = Missing();

    internal static string? Missing() =>
        !OpsHarness.OpenClAvailable ? OpsHarness.NoOpenCl
        : TestData.MnistDirectory is null ? "MNIST is not available"
        : null;
}
