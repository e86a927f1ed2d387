using System.Globalization;
using System.Text.Json;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Onnx;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;
using static IlgpuVae.Tests.Cli.CliRunner;

namespace IlgpuVae.Tests.Cli;

/// <summary>Each decoder likelihood trains, evaluates, scores, exports and reloads from the CLI and the library.</summary>
public sealed class LikelihoodCliTests
{
    [Theory]
    [InlineData("--sigma", "0.5", "--likelihood", "bernoulli", "--sigma is for --likelihood gaussian")]
    [InlineData("--likelihood", "poisson", "--epochs", "1", "'--likelihood' must be one of")]
    [InlineData("--likelihood", "gaussian", "--sigma", "-1", "--sigma")]
    [InlineData("--likelihood", "gaussian", "--sigma", "NaN", "--sigma")]
    public void NonsenseLikelihoodOptions_AreOneLineUsageErrors(string a, string b, string c, string d, string fragment)
    {
        using var dir = new TempDirectory();
        var (code, _, err) = Run("train", a, b, c, d, "--out", dir.File("run"));
        Assert.Equal(2, code);
        AssertOneLineError(err, fragment);
        Assert.False(Directory.Exists(dir.File("run")));
    }

    [MnistTheory]
    [InlineData("bernoulli")]
    [InlineData("continuous-bernoulli")]
    [InlineData("gaussian")]
    [InlineData("gaussian", "0.2")]
    public void EveryLikelihood_TrainsEvaluatesScoresExportsAndReloads(string likelihood, string? sigma = null)
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        string[] sigmaArgs = sigma is null ? [] : ["--sigma", sigma];
        var (code, output, err) = Run(["train", "--likelihood", likelihood, .. sigmaArgs, "--hidden", "32", "--latent", "4",
            "--data", TestData.MnistDirectory!, "--epochs", "1", "--limit", "500", "--out", run, "--device", "cpu"]);
        Assert.True(code == 0, err);
        string model = Path.Combine(run, "model.safetensors");
        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, RunDirectory.ConfigFile))))
        {
            // A Bernoulli run's config.json says nothing new, so it reads as before.
            bool hasLikelihood = json.RootElement.TryGetProperty("likelihood", out var written);
            Assert.Equal(likelihood != "bernoulli", hasLikelihood);
            if (hasLikelihood)
                Assert.Equal(likelihood, written.GetString());
        }

        (code, output, err) = Run("evaluate", "--model", model, "--data", TestData.MnistDirectory!, "--iw-samples", "3",
            "--no-clustering", "--json");
        Assert.True(code == 0, err);
        using var evaluation = JsonDocument.Parse(output);
        var root = evaluation.RootElement;
        Assert.Equal(likelihood, root.GetProperty("likelihood").GetString());
        double nll = root.GetProperty("test_nll_nats").GetDouble();
        Assert.Equal(-root.GetProperty("log_likelihood").GetDouble(), nll, 6);
        double bits = nll / (784 * Math.Log(2)) + (likelihood == "gaussian" ? 8 : 0);
        Assert.Equal(bits, root.GetProperty("test_nll_bits_per_dim").GetDouble(), 9);

        // score: one row per test image whose mean is evaluate's figure (the same seed and samples).
        (code, output, err) = Run("score", "--model", model, "--data", TestData.MnistDirectory!, "--iw-samples", "3");
        Assert.True(code == 0, err);
        var rows = output.TrimEnd().Split('\n');
        Assert.Equal("index,label,neg_log_likelihood", rows[0]);
        var scores = rows[1..].Select(r => double.Parse(r.Split(',')[2], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(10_000, scores.Length);
        // The device sums in float32: equal to a few parts in 10^7.
        Assert.Equal(nll, scores.Average(), 1e-6 * Math.Abs(nll));

        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var loaded = VaeModel.Load(device, model);
        Assert.Equal(VaeConfig.TryParseLikelihood(likelihood, out var parsed) ? parsed : default, loaded.Config.Likelihood);
        Assert.Equal(sigma is null ? null : float.Parse(sigma, CultureInfo.InvariantCulture), loaded.Config.Sigma);
        var test = ImageData.Load(TestData.MnistDirectory!, trainLimit: 1, testLimit: 10_000).Test;
        var library = loaded.Score(test, importanceSamples: 3, seed: 1);
        Assert.Equal(scores, library.Select(v => double.Parse(v.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)));
        double loss = loaded.Evaluate(test, 1).Loss;
        Assert.Equal(loss, loaded.Score(test).Average(), 1e-6 * Math.Abs(loss));

        // Pictures show the decoder's mean: in [0, 1] for the Bernoulli kinds; a Gaussian's is unbounded.
        var pixels = loaded.Sample(4, seed: 2).Values;
        if (likelihood != "gaussian")
            Assert.All(pixels, p => Assert.InRange(p, 0f, 1f));
        var files = ModelExport.ToOnnx(loaded, dir.File("onnx"));
        Assert.True(File.Exists(files.Decoder));
    }

    [Fact]
    public void Metadata_OfEveryLikelihood_RoundTrips_AndBernoulliIsWrittenAsBefore()
    {
        foreach (var config in new[]
        {
            VaeConfig.Default,
            VaeConfig.Default with { Likelihood = DecoderLikelihood.ContinuousBernoulli },
            VaeConfig.Default with { Likelihood = DecoderLikelihood.Gaussian },
            VaeConfig.Default with { Likelihood = DecoderLikelihood.Gaussian, Sigma = 0.125f },
        })
        {
            var metadata = config.ToMetadata();
            Assert.Equal(config, VaeConfig.FromMetadata(metadata, "test"));
            Assert.Equal(config.Sigma is not null, metadata.ContainsKey("sigma"));
        }
        Assert.Equal("bernoulli-logits", VaeConfig.Default.ToMetadata()["likelihood"]);
        var other = VaeConfig.Default.ToMetadata();
        other["likelihood"] = "poisson";
        Assert.Contains("metadata 'likelihood' is 'poisson'", Assert.Throws<InvalidDataException>(() => VaeConfig.FromMetadata(other, "f")).Message);
        other["likelihood"] = "bernoulli-logits";
        other["sigma"] = "0.5";
        Assert.Contains("sigma", Assert.Throws<InvalidDataException>(() => VaeConfig.FromMetadata(other, "f")).Message);
    }
}
