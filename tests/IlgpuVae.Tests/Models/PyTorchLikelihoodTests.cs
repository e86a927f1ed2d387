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
