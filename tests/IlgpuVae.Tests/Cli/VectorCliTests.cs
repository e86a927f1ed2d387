using System.Globalization;
using System.Text;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Tests.Data;
using Xunit;
using static IlgpuVae.Tests.Cli.CliRunner;

namespace IlgpuVae.Tests.Cli;

/// <summary>Real-valued vectors: a CSV file or an N x D .npy array trains a Gaussian MLP VAE, and is scored in order.</summary>
public sealed class VectorCliTests
{
    // Three columns on very different scales (standardisation matters) and a 0/1 label column.
    internal static string WriteCsv(string path, int rows = 240, int seed = 1)
    {
        var random = new Random(seed);
        var text = new StringBuilder("x1,\"x2\",x3,label\n");
        for (int i = 0; i < rows; i++)
        {
            double a = random.NextDouble() * 2 - 1, b = random.NextDouble();
            text.Append(CultureInfo.InvariantCulture, $"{1000 + 50 * a},{-3 + 0.01 * b},{a * a + 0.1 * b},{i % 2}\n");
        }
        File.WriteAllText(path, text.ToString());
        return path;
    }

    [Fact]
    public void Csv_TrainsScoresEveryRowInOrder_AndTheLibraryGivesTheSameScores()
    {
        using var dir = new TempDirectory();
        string csv = WriteCsv(dir.File("rows.csv"));
        string run = dir.File("run");
        var (code, output, err) = Run("train", "--data", csv, "--label-column", "label", "--test-fraction", "0.25",
            "--hidden", "16", "--latent", "2", "--epochs", "2", "--out", run, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("gaussian", output);
        Assert.False(File.Exists(Path.Combine(run, "samples.png")));
        string model = Path.Combine(run, "model.safetensors");

        (code, output, err) = Run("score", "--model", model, "--data", csv, "--label-column", "label", "--device", "cpu", "--seed", "3");
        Assert.True(code == 0, err);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("index,label,neg_elbo", lines[0]);
        Assert.Equal(241, lines.Length);
        var cli = lines[1..].Select(l => float.Parse(l.Split(',')[2], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal("1", lines[2].Split(',')[1]);

        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        var loaded = VaeModel.Load(device, model);
        var loadedMean = loaded.Config.InputMean;
        var set = ImageData.LoadVectorSet(csv, "label");
        Assert.True(set.IsVectors);
        Assert.Equal(cli, loaded.Score(set, 0, 3));

        // The standardisation is the training rows', stored in the file, and the same on the host (spans) as on the
        // device (sets): the posterior means agree.
        Assert.NotNull(loaded.Config.InputMean);
        Assert.InRange(loaded.Config.InputMean![0], 990, 1010);
        var rows = set.Vectors!;
        var (mu, _) = loaded.Encode(rows);
        var means = loaded.LatentMeans(set);
        for (int i = 0; i < mu.Length; i++)
            Assert.Equal(means[i], mu[i], 1e-4f);
        // Raw rows in the data's units: no [0, 1] check for a model of vectors, and finite scores.
        var scores = loaded.Score(rows);
        Assert.All(scores.Loss, s => Assert.True(float.IsFinite(s)));
        // Reconstructions come back in the data's units.
        var reconstruction = loaded.Reconstruct(rows.AsSpan(0, 3)).Values;
        Assert.InRange(reconstruction[0], 900, 1100);

        loaded.Dispose();

        // A stopped run of vectors resumes: config.json and the checkpoint keep the standardisation.
        (code, _, err) = Run("train", "--resume", run, "--epochs", "3", "--data", csv, "--label-column", "label",
            "--test-fraction", "0.25", "--device", "cpu");
        Assert.True(code == 0, err);
        using var resumed = VaeModel.Load(device, model);
        Assert.Equal(loadedMean, resumed.Config.InputMean);
    }

    [Fact]
    public void Npy_NxD_TrainsAndScores()
    {
        using var dir = new TempDirectory();
        var random = new Random(2);
        var values = Enumerable.Range(0, 100 * 4).Select(_ => (float)(random.NextDouble() * 10 - 5)).ToArray();
        string npy = dir.File("rows.npy");
        ImageSourceTests.WriteNpy(npy, "<f4", [100, 4], values.SelectMany(BitConverter.GetBytes).ToArray());
        string run = dir.File("run");
        var (code, _, err) = Run("train", "--data", npy, "--test-fraction", "0.2", "--hidden", "8", "--latent", "2",
            "--epochs", "1", "--out", run, "--device", "cpu");
        Assert.True(code == 0, err);
        (code, var output, err) = Run("score", "--model", Path.Combine(run, "model.safetensors"), "--data", npy, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Equal(101, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        // Samples of a model of vectors are rows in the data's units (an N x D .npy array, by default), which score reads
        // back; a picture or an IDX file of them (values clamped to [0, 1]) is refused.
        string model = Path.Combine(run, "model.safetensors"), drawn = dir.File("drawn.npy");
        (code, _, err) = Run("sample", "--model", model, "--count", "6", "--out", drawn, "--device", "cpu");
        Assert.True(code == 0, err);
        var rows = IlgpuVae.Data.Npy.Read(drawn);
        Assert.Equal([6, 4], rows.Shape);
        Assert.Contains(rows.Floats(), v => v < 0 || v > 1);
        (code, output, err) = Run("score", "--model", model, "--data", drawn, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Equal(7, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        foreach (string format in new[] { "png", "idx" })
        {
            (code, _, err) = Run("sample", "--model", model, "--format", format, "--out", dir.File($"drawn.{format}"), "--device", "cpu");
            Assert.Equal(2, code);
            AssertOneLineError(err, $"--format {format} writes images; this model draws vectors of 4 values: use --format npy");
            Assert.False(File.Exists(dir.File($"drawn.{format}")));
        }
        (code, _, err) = Run("sample", "--model", model, "--out", dir.File("drawn.png"), "--device", "cpu");
        Assert.Equal(2, code);
        AssertOneLineError(err, "name a .npy file");
        Assert.False(File.Exists(dir.File("drawn.png")));
        (code, _, err) = Run("sample", "--model", model, "--columns", "2", "--device", "cpu");
        Assert.Equal(2, code);
        AssertOneLineError(err, "--columns lays out a picture");
    }

    [Theory]
    [InlineData("a,b\n1,2\n3,\n5,6\n", "row 2 (line 3), column 'b': missing value")]
    [InlineData("a,b\n1,2\n3,x\n5,6\n", "row 2 (line 3), column 'b': 'x' is not a number")]
    [InlineData("a,b\n1,2\n3,2\n5,2\n", "column 'b': constant")]
    [InlineData("a,b\n1,2\n3,4,5\n5,6\n", "row 2 (line 3) has 3 columns; the header has 2")]
    [InlineData("a,b\n1,2\n3,NaN\n5,6\n", "row 2 (line 3), column 'b': NaN is not a finite number")]
    [InlineData("a,b\n1,2\n3,4\n5,inf\n", "row 3 (line 4), column 'b'")]
    public void BadCsv_IsOneLineNamingRowAndColumn_Exit2_NothingWritten(string text, string fragment)
    {
        using var dir = new TempDirectory();
        string csv = dir.File("bad.csv");
        File.WriteAllText(csv, text);
        var (code, _, err) = Run("train", "--data", csv, "--test-fraction", "0.3", "--out", dir.File("run"), "--device", "cpu");
        Assert.Equal(2, code);
        AssertOneLineError(err, fragment);
        Assert.False(Directory.Exists(dir.File("run")));
        Assert.Throws<InvalidDataException>(() => ImageData.LoadVectorSet(csv));
    }

    [Theory]
    [InlineData("bernoulli")]
    [InlineData("continuous-bernoulli")]
    public void BernoulliKinds_OnVectors_AreRefused(string likelihood)
    {
        using var dir = new TempDirectory();
        string csv = WriteCsv(dir.File("rows.csv"), 40);
        var (code, _, err) = Run("train", "--data", csv, "--label-column", "label", "--test-fraction", "0.25",
            "--likelihood", likelihood, "--out", dir.File("run"), "--device", "cpu");
        Assert.Equal(2, code);
        AssertOneLineError(err, "use --likelihood gaussian");
        Assert.False(Directory.Exists(dir.File("run")));
    }

    [Fact]
    public void Config_ForVectors_RoundTripsThroughMetadata_AndRefusesBernoulli()
    {
        var set = ImageData.LoadVectorSet(WriteCsv(Path.Combine(Path.GetTempPath(), $"vec-{Guid.NewGuid():N}.csv"), 30), "label");
        var config = new VaeConfig(3, [8], 2) { Likelihood = DecoderLikelihood.Gaussian }.ForVectors(set);
        Assert.Equal(3, config.InputSize);
        var back = VaeConfig.FromMetadata(config.ToMetadata(), "test");
        Assert.Equal(config, back);
        Assert.Equal(config.InputStd, back.InputStd);
        Assert.Throws<ArgumentException>(() => (config with { Likelihood = DecoderLikelihood.Bernoulli }).Validate());
        // Population standard deviation of the training rows.
        var column = Enumerable.Range(0, set.Count).Select(r => (double)set.Vectors![r * 3]).ToArray();
        double mean = column.Average();
        Assert.Equal(Math.Sqrt(column.Select(v => (v - mean) * (v - mean)).Average()), config.InputStd![0], 1e-3);
    }
}
