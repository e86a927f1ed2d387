using System.Text.Json;
using IlgpuVae.Classification;
using IlgpuVae.Cli;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Imaging;
using IlgpuVae.Tests.Imaging;
using IlgpuVae.Models;
using IlgpuVae.Tests.Data;
using Xunit;
using static IlgpuVae.Tests.Cli.CliRunner;

namespace IlgpuVae.Tests.Cli;

public sealed class CvaeCliTests
{
    private static readonly VaeConfig Cvae = new(784, [16], 2, 10) { ConditionEveryLayer = true };

    // An untrained model is enough to check files, shapes and labels.
    private static string WriteModel(TempDirectory dir, VaeConfig config, string name = "cvae.safetensors")
    {
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var model = VaeModel.Create(device, config, seed: 3, capacity: 64);
        model.Save(dir.File(name));
        return dir.File(name);
    }

    [Theory]
    [InlineData("say 'cvae sample', 'cvae style' or 'cvae agreement'", "cvae")]
    [InlineData("unexpected argument 'style' for 'ilgpu-vae cvae sample'", "cvae", "sample", "style")]
    [InlineData("unexpected argument 'draw'", "cvae", "draw")]
    [InlineData("option '--model' is required", "cvae", "sample")]
    [InlineData("option '--classifier' is required", "cvae", "agreement", "--model", "x")]
    [InlineData("unknown option '--classifier' for 'ilgpu-vae cvae sample'", "cvae", "sample", "--model", "x", "--classifier", "c")]
    [InlineData("unknown option '--class' for 'ilgpu-vae cvae agreement'", "cvae", "agreement", "--model", "x", "--class", "3")]
    [InlineData("unknown option '--format' for 'ilgpu-vae cvae style'", "cvae", "style", "--model", "x", "--format", "idx")]
    [InlineData("count' must be at least 1", "cvae", "sample", "--model", "x", "--count", "0")]
    [InlineData("must be one of png|idx", "cvae", "sample", "--model", "x", "--format", "jpeg")]
    [InlineData("'--scale' expects numbers >= 0", "cvae", "sample", "--model", "x", "--scale", "-1")]
    [InlineData("'--scale' takes one number here", "cvae", "sample", "--model", "x", "--scale", "1,0.5")]
    public void UsageErrors_ExitTwoWithOneLine(string fragment, params string[] args)
    {
        var (code, _, err) = Run(args);
        Assert.Equal(2, code);
        AssertOneLineError(err, fragment);
    }

    [Fact]
    public void Help_ListsCvaeAndItsOptions()
    {
        var (code, output, _) = Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("cvae", output);
        (code, output, _) = Run("cvae", "--help");
        Assert.Equal(0, code);
        foreach (var subcommand in new[] { "sample", "style", "agreement" })
            Assert.Contains(subcommand, output);
        // Each subcommand's help lists its own options and not its siblings'.
        (code, output, _) = Run("cvae", "sample", "--help");
        Assert.Equal(0, code);
        foreach (var option in new[] { "--model", "--class", "--count", "--format", "--out", "--seed", "--scale" })
            Assert.Contains(option, output);
        Assert.DoesNotContain("--classifier", output);
        (code, output, _) = Run("cvae", "agreement", "--help");
        Assert.Equal(0, code);
        foreach (var option in new[] { "--model", "--classifier", "--count", "--seed", "--scale", "--json" })
            Assert.Contains(option, output);
        Assert.DoesNotContain("--format", output);
    }

    [Theory]
    [InlineData("10", "--class 10 is outside 0-9")]
    [InlineData("-1", "--class -1 is outside 0-9")]
    public void Sample_ClassOutsideTheModelsLabels_UsageError(string digit, string fragment)
    {
        using var dir = new TempDirectory();
        var (code, _, err) = Run("cvae", "sample", "--model", WriteModel(dir, Cvae), "--class", digit, "--out", dir.File("s.png"), "--device", "cpu");
        Assert.Equal(2, code);
        AssertOneLineError(err, fragment);
        Assert.False(File.Exists(dir.File("s.png")));
    }

    [Fact]
    public void Sample_UnconditionalModelOrMissingFile_OneLineError()
    {
        using var dir = new TempDirectory();
        var (code, _, err) = Run("cvae", "sample", "--model", WriteModel(dir, new VaeConfig(784, [16], 2)), "--device", "cpu");
        Assert.Equal(1, code);
        AssertOneLineError(err, "takes no labels");
        (code, _, err) = Run("cvae", "sample", "--model", dir.File("none.safetensors"));
        Assert.Equal(1, code);
        AssertOneLineError(err, "no such model file");
    }

    [Fact]
    public void Sample_DefaultGrid_OneRowPerDigit_OneClassAsSquare()
    {
        using var dir = new TempDirectory();
        string model = WriteModel(dir, Cvae);
        var (code, output, err) = Run("cvae", "sample", "--model", model, "--out", dir.File("grid.png"), "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("10 of each digit 0-9", output);
        var grid = PngReader.Read(dir.File("grid.png"));
        var tenByTen = DigitGrid.ComputeLayout(10, 10);
        Assert.True(grid.Width >= tenByTen.GridWidth && grid.Height >= tenByTen.GridHeight);

        (code, output, err) = Run("cvae", "sample", "--model", model, "--class", "3", "--count", "64", "--out", dir.File("three.png"), "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("64 generated digits (digit 3)", output);
        // 64 images of one digit make an 8 x 8 square: two rows fewer than the grid of all ten digits.
        var square = PngReader.Read(dir.File("three.png"));
        Assert.True(square.Height >= DigitGrid.ComputeLayout(8, 8).GridHeight && square.Height < grid.Height);
    }

    [Fact]
    public void Sample_IdxFormat_WritesImagesAndRequestedLabels()
    {
        using var dir = new TempDirectory();
        string model = WriteModel(dir, Cvae);
        string prefix = dir.File("gen");
        var (code, output, err) = Run("cvae", "sample", "--model", model, "--format", "idx", "--count", "3", "--out", prefix, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("30 generated digits and their requested labels", output);
        var images = IdxReader.ReadImages(prefix + "-images-idx3-ubyte");
        var labels = IdxReader.ReadLabels(prefix + "-labels-idx1-ubyte");
        Assert.Equal([30, 28, 28], images.Dimensions);
        Assert.Equal(Enumerable.Range(0, 10).SelectMany(d => Enumerable.Repeat((byte)d, 3)), labels.Data);

        // The bytes are the model's pixel probabilities of the same codes, quantised by Pixels.ToBytes like every IDX export.
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var loaded = VaeModel.Load(device, model);
        var expected = loaded.Decode(loaded.PriorSamples(30, 1), labels.Data.Select(l => (int)l).ToArray()).Values;
        Assert.Equal(Pixels.ToBytes(expected), images.Data);

        (code, _, err) = Run("cvae", "sample", "--model", model, "--format", "idx", "--class", "7", "--count", "5", "--out", prefix, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Equal(Enumerable.Repeat((byte)7, 5), IdxReader.ReadLabels(prefix + "-labels-idx1-ubyte").Data);
    }

    [MnistFact]
    public void Style_OneRowPerTestDigit_InputThenEveryDigit()
    {
        using var dir = new TempDirectory();
        var (code, output, err) = Run("cvae", "style", "--model", WriteModel(dir, Cvae), "--count", "4", "--out", dir.File("style.png"),
            "--data", TestData.MnistDirectory!, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("4 test digits, each decoded as 0-9", output);
        var image = PngReader.Read(dir.File("style.png"));
        Assert.True(image.Width >= DigitGrid.ComputeLayout(4, 11).GridWidth);
    }

    [MnistFact]
    public void Agreement_Json_HasTestLossAndOneRowPerScale()
    {
        using var dir = new TempDirectory();
        string model = WriteModel(dir, Cvae);
        using (var device = ComputeDevice.Open(DeviceChoice.Cpu))
        using (var classifier = Classifier.Create(device, new ClassifierConfig(784, [8], 10)))
            classifier.Save(dir.File("classifier.safetensors"));
        var (code, output, err) = Run("cvae", "agreement", "--model", model, "--classifier", dir.File("classifier.safetensors"),
            "--count", "20", "--scale", "1,0", "--json", "--data", TestData.MnistDirectory!, "--device", "cpu");
        Assert.True(code == 0, err);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.InRange(root.GetProperty("test_loss").GetDouble(), 100, 1000);
        var rows = root.GetProperty("agreement").EnumerateArray().ToArray();
        Assert.Equal([1.0, 0.0], rows.Select(r => r.GetProperty("scale").GetDouble()));
        foreach (var row in rows)
        {
            Assert.Equal(10, row.GetProperty("per_class").GetArrayLength());
            Assert.Equal(200, row.GetProperty("confusion").EnumerateArray().Sum(c => c.GetInt32()));
            Assert.InRange(row.GetProperty("overall").GetDouble(), 0, 1);
        }

        (code, output, err) = Run("cvae", "agreement", "--model", model, "--classifier", dir.File("classifier.safetensors"),
            "--count", "10", "--data", TestData.MnistDirectory!, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("test loss", output);
        Assert.Contains("N(0, I)", output);
    }

    [MnistFact]
    public void Evaluate_CvaeWithClassifier_ReportsAgreement_AndRefusesAPlainVae()
    {
        using var dir = new TempDirectory();
        string model = WriteModel(dir, Cvae);
        using (var device = ComputeDevice.Open(DeviceChoice.Cpu))
        using (var classifier = Classifier.Create(device, new ClassifierConfig(784, [8], 10)))
            classifier.Save(dir.File("classifier.safetensors"));
        var (code, output, err) = Run("evaluate", "--model", model, "--classifier", dir.File("classifier.safetensors"),
            "--agreement-samples", "20", "--iw-samples", "0", "--no-clustering", "--json", "--data", TestData.MnistDirectory!, "--device", "cpu");
        Assert.True(code == 0, err);
        using var json = JsonDocument.Parse(output);
        var agreement = json.RootElement.GetProperty("agreement");
        Assert.Equal(20, agreement.GetProperty("samples_per_class").GetInt32());
        Assert.Equal(10, agreement.GetProperty("per_class").GetArrayLength());
        Assert.InRange(agreement.GetProperty("overall").GetDouble(), 0, 1);

        string vae = WriteModel(dir, new VaeConfig(784, [16], 2), "vae.safetensors");
        (code, _, err) = Run("evaluate", "--model", vae, "--classifier", dir.File("classifier.safetensors"),
            "--data", TestData.MnistDirectory!, "--device", "cpu");
        Assert.Equal(2, code);
        AssertOneLineError(err, "plain vae");
    }

    [Fact]
    public void Agreement_MissingClassifier_OneLineError()
    {
        using var dir = new TempDirectory();
        var (code, _, err) = Run("cvae", "agreement", "--model", WriteModel(dir, Cvae), "--classifier", dir.File("none.safetensors"));
        Assert.Equal(1, code);
        AssertOneLineError(err, "no such classifier file");
    }
}
