using IlgpuVae.Checkpoints;
using IlgpuVae.Cli;
using IlgpuVae.Layers;
using IlgpuVae.Models;
using IlgpuVae.Tests.Data;
using Xunit;
using static IlgpuVae.Tests.Cli.CliRunner;

namespace IlgpuVae.Tests.Cli;

public sealed class ClassifierCliTests
{
    [Theory]
    [InlineData("say 'classifier train' or 'classifier evaluate'", "classifier")]
    [InlineData("unexpected argument 'evaluate' for 'ilgpu-vae classifier train'", "classifier", "train", "evaluate")]
    [InlineData("unexpected argument 'predict'", "classifier", "predict")]
    [InlineData("option '--model' is required", "classifier", "evaluate")]
    [InlineData("unknown option '--epochs' for 'ilgpu-vae classifier evaluate'", "classifier", "evaluate", "--model", "x", "--epochs", "2")]
    [InlineData("unknown option '--model' for 'ilgpu-vae classifier train'", "classifier", "train", "--model", "x")]
    [InlineData("epochs' must be at least 1", "classifier", "train", "--epochs", "0")]
    [InlineData("batch' must be at least 1", "classifier", "train", "--batch", "0")]
    [InlineData("must be greater than 0", "classifier", "train", "--lr", "0")]
    [InlineData("comma-separated list", "classifier", "train", "--hidden", "512,-1")]
    [InlineData("must be one of", "classifier", "train", "--lr-schedule", "step")]
    [InlineData("limit' must be at least 1", "classifier", "train", "--limit", "0")]
    [InlineData("unknown option '--latent'", "classifier", "train", "--latent", "2")]
    public void UsageErrors_ExitTwoWithOneLine(string fragment, params string[] args)
    {
        var (code, _, err) = Run(args);
        Assert.Equal(2, code);
        AssertOneLineError(err, fragment);
    }

    [Fact]
    public void Help_ListsClassifierAndItsOptions()
    {
        var (code, output, _) = Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("classifier", output);
        (code, output, _) = Run("classifier", "--help");
        Assert.Equal(0, code);
        Assert.Contains("train", output);
        Assert.Contains("evaluate", output);
        (code, output, _) = Run("classifier", "train", "--help");
        Assert.Equal(0, code);
        foreach (var option in new[] { "--data", "--epochs", "--hidden", "--lr", "--batch", "--seed", "--out", "--device", "--cpu-ops" })
            Assert.Contains(option, output);
        Assert.DoesNotContain("--model", output);
        (code, output, _) = Run("classifier", "evaluate", "--help");
        Assert.Equal(0, code);
        foreach (var option in new[] { "--model", "--json", "--data", "--device" })
            Assert.Contains(option, output);
        Assert.DoesNotContain("--epochs", output);
    }

    [Fact]
    public void Evaluate_MissingModel_OneLineError()
    {
        using var dir = new TempDirectory();
        var (code, _, err) = Run("classifier", "evaluate", "--model", dir.File("none.safetensors"));
        Assert.Equal(1, code);
        AssertOneLineError(err, "no such classifier file");
    }

    [MnistFact]
    public void Evaluate_VaeCheckpoint_OneLineError()
    {
        using var dir = new TempDirectory();
        var config = new VaeConfig(784, [16], 2);
        SafeTensors.Write(dir.File("vae.safetensors"), config.ToMetadata(),
            VaeNetwork.LayoutOf(config).Slots.Select(s => new NamedTensor(s.Name, s.Shape, new float[s.Length])));
        var (code, _, err) = Run("classifier", "evaluate", "--model", dir.File("vae.safetensors"), "--data", TestData.MnistDirectory!);
        Assert.Equal(1, code);
        AssertOneLineError(err, "not 'ilgpu-vae-classifier'");
    }

    [MnistFact]
    public void Train_UnwritableOutput_OneLineErrorBeforeTraining()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("file"), "");
        var (code, output, err) = Run("classifier", "train", "--data", TestData.MnistDirectory!, "--limit", "100",
            "--out", dir.File("file/classifier.safetensors"));
        Assert.Equal(1, code);
        AssertOneLineError(err, "output directory");
        Assert.DoesNotContain("epoch", output);
    }

    [MnistFact]
    public void TrainThenEvaluate_SmallRun_WritesFileAndJson()
    {
        using var dir = new TempDirectory();
        string path = dir.File("out/classifier.safetensors");
        var (code, output, err) = Run("classifier", "train", "--data", TestData.MnistDirectory!, "--epochs", "2", "--limit", "1000",
            "--batch", "32", "--lr", "0.005", "--hidden", "32", "--out", path);
        Assert.True(code == 0, err);
        Assert.Contains("epoch 1/2", output);
        Assert.Contains("epoch 2/2", output);
        Assert.Contains("test accuracy", output);
        Assert.True(File.Exists(path));

        (code, output, err) = Run("classifier", "evaluate", "--model", path, "--data", TestData.MnistDirectory!, "--json");
        Assert.True(code == 0, err);
        using var json = System.Text.Json.JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal("mlp 784-32-10", root.GetProperty("config").GetString());
        Assert.Equal(10000, root.GetProperty("test_images").GetInt32());
        double accuracy = root.GetProperty("test_accuracy").GetDouble();
        // 1000 images, two epochs of 32 steps: 81% here; chance is 10%.
        Assert.InRange(accuracy, 0.7, 1.0);
        var perClass = root.GetProperty("per_class_accuracy").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var counts = root.GetProperty("per_class_count").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal(10, perClass.Length);
        Assert.Equal(10000, counts.Sum());
        Assert.Equal(accuracy, perClass.Zip(counts, (a, n) => a * n).Sum() / 10000, 9);

        (code, output, err) = Run("classifier", "evaluate", "--model", path, "--data", TestData.MnistDirectory!);
        Assert.True(code == 0, err);
        Assert.Contains("digit 9:", output);
    }
}
