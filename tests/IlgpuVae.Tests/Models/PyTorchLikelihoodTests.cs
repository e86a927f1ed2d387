using System.Globalization;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Onnx;
using Xunit;
using Xunit.Abstractions;
using static IlgpuVae.Tests.Cli.CliRunner;

namespace IlgpuVae.Tests.Models;

/// <summary>
/// PyTorch's torch.distributions (Bernoulli, ContinuousBernoulli, Normal), in float64, give our per-image negative
/// ELBO at z = mu on our weights, for every likelihood (tools/pytorch/likelihood_agreement.py).
/// </summary>
public sealed class PyTorchLikelihoodTests(ITestOutputHelper output)
{
    private static readonly Lazy<string?> Python = new(() =>
        new[] { "python3", "/usr/bin/python3" }.FirstOrDefault(p => OnnxChecker.Run(p, ["-c", "import torch"]).Code == 0));

    [PyTorchMnistTheory]
    [InlineData("bernoulli")]
    [InlineData("continuous-bernoulli")]
    [InlineData("gaussian")]
    public void TestLoss_OnOurWeights_AgreesWithTorchDistributions(string likelihood)
    {
        using var dir = new TempDirectory();
        string run = dir.File("run"), scores = dir.File("ours.csv");
        var (code, _, err) = Run("train", "--likelihood", likelihood, "--hidden", "64", "--latent", "4",
            "--data", TestData.MnistDirectory!, "--epochs", "1", "--limit", "2000", "--out", run, "--device", "cpu");
        Assert.True(code == 0, err);
        string model = Path.Combine(run, "model.safetensors");
        (code, _, err) = Run("score", "--model", model, "--data", TestData.MnistDirectory!, "--posterior-mean", "--out", scores);
        Assert.True(code == 0, err);
        string script = Path.Combine(TestData.RepositoryRoot(), "tools", "pytorch", "likelihood_agreement.py");
        var (exit, text) = OnnxChecker.Run(Python.Value!, [script, model, "--data", TestData.MnistDirectory!, "--scores", scores]);
        output.WriteLine(text);
        Assert.True(exit == 0, text);
        // "... relative difference of the means 1.02e-07, worst per image 1.23e-05"
        double worst = double.Parse(text.Trim().Split(' ')[^1], CultureInfo.InvariantCulture);
        Assert.InRange(worst, 0, 1e-4);
    }

    /// <summary>
    /// A model of two stochastic layers (--preset burda2, briefly trained) loaded by tensor name into
    /// tools/pytorch/evaluate_in_pytorch.py's TwoLayerVae: its importance-weighted test NLL on the first 100 binarised
    /// test images agrees with `evaluate --iw-samples K` within 0.1 nat (other noise on each side: the Monte Carlo
    /// difference of two K = 1,000 estimates over 100 images, measured 0.01-0.02 nat).
    /// </summary>
    [PyTorchMnistTheory]
    [InlineData(1000)]
    public void TwoStochasticLayers_ImportanceWeightedNll_AgreesWithPyTorch(int samples)
    {
        const int images = 100;
        using var dir = new TempDirectory();
        string run = dir.File("run"), data = dir.File("data");
        var (code, _, err) = Run("train", "--preset", "burda2", "--binarize", "--objective", "iwae", "--samples", "2",
            "--data", TestData.MnistDirectory!, "--epochs", "1", "--limit", "2000", "--batch", "100", "--out", run, "--device", "cpu");
        Assert.True(code == 0, err);
        string model = Path.Combine(run, "model.safetensors");
        // The first test images (binarised as they are within the whole set) and a few training images beside them.
        var mnist = IlgpuVae.Data.ImageData.Load(TestData.MnistDirectory!, trainLimit: images);
        Directory.CreateDirectory(data);
        IlgpuVae.Data.IdxWriter.WriteImages(Path.Combine(data, "train-images-idx3-ubyte"), mnist.Train.Images[..(images * 784)], images, 28, 28);
        IlgpuVae.Data.IdxWriter.WriteImages(Path.Combine(data, "t10k-images-idx3-ubyte"), mnist.Test.Images[..(images * 784)], images, 28, 28);
        (code, var ours, err) = Run("evaluate", "--model", model, "--data", data, "--iw-samples", samples.ToString(CultureInfo.InvariantCulture),
            "--no-clustering", "--device", "cpu");
        Assert.True(code == 0, err);
        string script = Path.Combine(TestData.RepositoryRoot(), "tools", "pytorch", "evaluate_in_pytorch.py");
        var (exit, text) = OnnxChecker.Run(Python.Value!, [script, model, "--data", TestData.MnistDirectory!, "--limit",
            images.ToString(CultureInfo.InvariantCulture), "--iw-samples", samples.ToString(CultureInfo.InvariantCulture)]);
        output.WriteLine(ours);
        output.WriteLine(text);
        Assert.True(exit == 0, text);
        static double Nll(string printed) => double.Parse(System.Text.RegularExpressions.Regex.Match(printed, @"test NLL\s+([0-9.]+) nats").Groups[1].Value,
            CultureInfo.InvariantCulture);
        Assert.InRange(Nll(ours) - Nll(text), -0.1, 0.1);
    }

    /// <summary>Skipped, visibly, without MNIST or a python3 with torch (Debian's python3-torch; .ci/run installs it).</summary>
    public sealed class PyTorchMnistTheoryAttribute : TheoryAttribute
    {
        public PyTorchMnistTheoryAttribute()
        {
            if (TestData.MnistDirectory is null)
                Skip = "MNIST is not available";
            else if (Python.Value is null)
                Skip = "no python3 with torch (Debian: apt-get install python3-torch); the PyTorch agreement test needs it";
        }
    }
}
