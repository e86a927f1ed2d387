using IlgpuVae.Data;
using IlgpuVae.Tests.Data;
using Xunit;
using static IlgpuVae.Tests.Cli.CliRunner;

namespace IlgpuVae.Tests.Cli;

/// <summary>The CLI on data other than MNIST: a 12 x 16 IDX set written by the test trains, evaluates, samples,
/// reconstructs and reloads; labels are required only where they are used; faults are one-line errors.</summary>
public sealed class DataCliTests
{
    private const int H = SyntheticIdx.Height, W = SyntheticIdx.Width;

    [Fact]
    public void TwelveBySixteen_TrainsEvaluatesSamplesAndReconstructs()
    {
        using var dir = new TempDirectory();
        SyntheticIdx.Write(dir.Path);
        string run = dir.File("run");
        var (code, output, err) = Run("train", "--data", dir.Path, "--epochs", "2", "--hidden", "32", "--latent", "2", "--out", run, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains($"vae {H * W}-32-2 on 240 images", output);
        Assert.True(File.Exists(Path.Combine(run, "samples.png")));
        string model = Path.Combine(run, "model.safetensors");

        (code, output, err) = Run("evaluate", "-m", model, "--data", dir.Path, "--iw-samples", "2", "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("on 60 test images", output);
        Assert.Contains("kNN accuracy", output);

        string idx = dir.File("samples.idx");
        (code, _, err) = Run("sample", "-m", model, "--format", "idx", "--count", "7", "--out", idx, "--device", "cpu");
        Assert.True(code == 0, err);
        var written = ImageData.LoadSet(idx, null);
        Assert.Equal((7, H, W), (written.Count, written.Rows, written.Cols));

        foreach (var command in new[] { "reconstruct", "manifold", "latent" })
        {
            (code, _, err) = Run(command, "-m", model, "--data", dir.Path, "--out", dir.File(command + ".png"), "--device", "cpu");
            Assert.True(code == 0, $"{command}: {err}");
        }
    }

    [Fact]
    public void ExplicitFilesAndTestFraction_Train()
    {
        using var dir = new TempDirectory();
        var (images, labels) = SyntheticIdx.Make(100, 1);
        IdxWriter.WriteImages(dir.File("x.idx"), images, 100, H, W);
        IdxWriter.WriteLabels(dir.File("y.idx"), labels);
        var (code, output, err) = Run("train", "--train-images", dir.File("x.idx"), "--train-labels", dir.File("y.idx"), "--test-fraction", "0.2",
            "--epochs", "1", "--hidden", "8", "--out", dir.File("run"), "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("on 80 images", output);

        (code, _, err) = Run("train", "--train-images", dir.File("x.idx"), "--epochs", "1", "--out", dir.File("run2"), "--device", "cpu");
        Assert.Equal(1, code);
        AssertOneLineError(err, "no test images");
        Assert.Contains("--test-fraction", err);
    }

    // Issue 22, case 13: a fraction of 1 or more is a usage error (exit 2) found before any data is read.
    [Theory]
    [InlineData("1")]
    [InlineData("1.5")]
    public void TestFraction_OneOrMore_IsAUsageError(string fraction)
    {
        using var dir = new TempDirectory();
        var (code, _, err) = Run("train", "--train-images", dir.File("missing.idx"), "--test-fraction", fraction,
            "--epochs", "1", "--out", dir.File("run"), "--device", "cpu");
        Assert.Equal(2, code);
        AssertOneLineError(err, "'--test-fraction' must be less than 1");
        Assert.False(Directory.Exists(dir.File("run")));
    }

    [Fact]
    public void Unlabelled_VaeSkipsClusteringWithANote_CvaeAndClassifierRefuse()
    {
        using var dir = new TempDirectory();
        SyntheticIdx.Write(dir.Path, labels: false);
        string run = dir.File("run");
        var (code, _, err) = Run("train", "--data", dir.Path, "--epochs", "1", "--hidden", "8", "--out", run, "--device", "cpu");
        Assert.True(code == 0, err);
        (code, var output, err) = Run("evaluate", "-m", Path.Combine(run, "model.safetensors"), "--data", dir.Path, "--iw-samples", "0", "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("have no labels: the clustering of the latent means by class is skipped", output);

        (code, _, err) = Run("train", "--kind", "cvae", "--data", dir.Path, "--epochs", "1", "--out", dir.File("cvae"), "--device", "cpu");
        Assert.Equal(2, code);
        AssertOneLineError(err, "a conditional VAE learns from labels");
        (code, _, err) = Run("classifier", "train", "--data", dir.Path, "--epochs", "1", "--out", dir.File("c.safetensors"), "--device", "cpu");
        Assert.Equal(2, code);
        AssertOneLineError(err, "a classifier learns from labels");
    }

    [Fact]
    public void Cvae_OnTwelveBySixteen_TakesItsClassesFromTheLabels()
    {
        using var dir = new TempDirectory();
        SyntheticIdx.Write(dir.Path);
        string run = dir.File("run");
        var (code, output, err) = Run("train", "--kind", "cvae", "--data", dir.Path, "--epochs", "1", "--hidden", "8", "--out", run, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains($"cvae {H * W}+3-8-10", output);
    }

    [Fact]
    public void StructuralFault_IsAOneLineErrorNamingFileAndFault()
    {
        using var dir = new TempDirectory();
        SyntheticIdx.Write(dir.Path);
        IdxWriter.WriteImages(dir.File(MnistFiles.TestImages + ".gz"), new byte[60 * H * W], 60, W, H);
        var (code, _, err) = Run("train", "--data", dir.Path, "--epochs", "1", "--out", dir.File("run"), "--device", "cpu");
        Assert.Equal(2, code); // a data error
        AssertOneLineError(err, $"{dir.File(MnistFiles.TestImages + ".gz")}: images are 16x12, but the training images");
    }

    [Fact]
    public void UnknownDataset_IsAUsageErrorListingTheKnownOnes()
    {
        var (code, _, err) = Run("train", "--dataset", "cifar-10");
        Assert.Equal(2, code);
        AssertOneLineError(err, "unknown data set 'cifar-10'; known: mnist, fashion-mnist");
        (code, _, err) = Run("train", "--dataset", "mnist", "--train-images", "x");
        Assert.Equal(2, code);
        AssertOneLineError(err, "--dataset names a whole data set");
    }
}
