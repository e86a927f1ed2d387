using IlgpuVae.Compute;
using IlgpuVae.Models;
using IlgpuVae.Layers;
using IlgpuVae.Checkpoints;
using IlgpuVae.Cli;
using IlgpuVae.Tests.Data;
using Xunit;
using static IlgpuVae.Tests.Cli.CliRunner;

namespace IlgpuVae.Tests.Cli;

public sealed class CliTests
{
    [Theory]
    [InlineData("unknown command", "frobnicate")]
    [InlineData("epochs' must be at least 1", "train", "--epochs", "0")]
    [InlineData("batch' must be at least 1", "train", "--batch", "-5")]
    [InlineData("expects a finite number", "train", "--lr", "NaN")]
    [InlineData("must be greater than 0", "train", "--lr", "-0.1")]
    [InlineData("at least 0", "train", "--beta", "-1")]
    [InlineData("comma-separated list", "train", "--hidden", "400,0")]
    [InlineData("latent' must be at least 1", "train", "--latent", "0")]
    [InlineData("unknown option '--bogus'", "train", "--bogus")]
    [InlineData("needs a value", "train", "--epochs")]
    [InlineData("option '--epochs' is given more than once", "train", "--epochs", "2", "--limit", "100", "--epochs", "3")]
    [InlineData("option '--seed' needs a value (N) before '--limit'", "train", "--seed", "--limit", "200")]
    [InlineData("option '--seed' needs a value (N) before '--epochs'", "train", "--seed", "--epochs")]
    [InlineData("option '--out' needs a value (DIR) before '-z'", "train", "--out", "-z", "2", "--epochs", "1")]
    [InlineData("must be one of", "train", "--device", "tpu")]
    [InlineData("must be one of", "train", "--model", "gan")]
    [InlineData("no run directory", "train", "--resume", "/nonexistent/run")]
    [InlineData("say 'classifier train' or 'classifier evaluate'", "classifier")]
    // A data file named and mistyped: the option named, not the hint for finding a data set.
    [InlineData("--train-images: no such file '/nonexistent/t.idx'", "train", "--device", "cpu", "--train-images", "/nonexistent/t.idx", "--test-fraction", "0.1")]
    [InlineData("--labels: no such file '/nonexistent/l.npy'", "train", "--device", "cpu", "--data", "/nonexistent/x.npy", "--labels", "/nonexistent/l.npy")]
    // Counts that would overflow a counter or a canvas later are refused before any work.
    [InlineData("option '--epochs' must be at most 1000000, got 2147483647", "train", "--epochs", "2147483647")]
    [InlineData("option '--epochs' must be at most 1000000", "classifier", "train", "--epochs", "1000001")]
    [InlineData("option '--columns' must be at most 4, got 40000000", "sample", "--model", "/nonexistent/m.safetensors", "--count", "4", "--columns", "40000000")]
    [InlineData("option '--agreement-samples' must be at most 100000", "evaluate", "--model", "/nonexistent/m.safetensors", "--classifier", "/nonexistent/c.safetensors", "--agreement-samples", "300000000")]
    [InlineData("option '--count' must be at most 100000", "cvae", "agreement", "--model", "/nonexistent/m.safetensors", "--classifier", "/nonexistent/c.safetensors", "--count", "300000000")]
    public void UsageErrors_ExitTwoWithOneLine(string fragment, params string[] args)
    {
        var (code, _, err) = Run(args);
        Assert.Equal(2, code);
        AssertOneLineError(err, fragment);
    }

    [Fact]
    public void Help_ListsCommandsAndOptions()
    {
        var (code, output, _) = Run("--help");
        Assert.Equal(0, code);
        foreach (var command in new[] { "train", "evaluate", "devices", "fetch-data" })
            Assert.Contains(command, output);
        // The benchmarks left the tool for a developer tool of the repository; the help says where they went.
        Assert.Contains("dotnet run -c Release --project tools/IlgpuVae.Benchmarks -- ops|train", output);
        (code, output, _) = Run("train", "--help");
        Assert.Equal(0, code);
        foreach (var option in new[] { "--data", "--epochs", "--batch", "--lr", "--hidden", "--latent", "--beta", "--kl-warmup", "--seed", "--device", "--limit", "--out", "--resume" })
            Assert.Contains(option, output);
    }

    [Fact]
    public void Devices_ListsTheCpuAccelerator()
    {
        var (code, output, _) = Run("devices");
        Assert.Equal(0, code);
        Assert.Contains("cpu", output);
        Assert.Contains("* = the device --device auto uses: ", output);
        Assert.Contains(" type ", output.Split('\n')[0]);
    }

    // With PoCL present (as in CI) this is the case that matters: an OpenCL device of type CPU is listed, as "cpu",
    // and auto still picks the vectorised CPU path, saying why.
    [Fact]
    public void Devices_AutoPicksAGpuOrTheVectorizedCpu_NeverACpuOpenClDevice()
    {
        var devices = ComputeDevice.List(out int auto);
        var picked = devices[auto];
        if (devices.Any(d => d.IsGpu))
            Assert.True(picked.IsGpu, $"auto picked {picked.Name} ({picked.Kind}, {picked.Type}) over a GPU");
        else
            Assert.Equal(DeviceChoice.Cpu, picked.Kind);
        var (code, output, _) = Run("devices");
        Assert.Equal(0, code);
        foreach (var cpuOpenCl in devices.Where(d => d.Kind == DeviceChoice.OpenCL && !d.IsGpu))
        {
            Assert.Contains("opencl  cpu", output);
            Assert.Contains("use --device opencl", output);
        }
        (code, output, _) = Run("devices", "--json");
        Assert.Equal(0, code);
        using var json = System.Text.Json.JsonDocument.Parse(output);
        Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("auto_reason").GetString()));
        Assert.All(json.RootElement.GetProperty("devices").EnumerateArray(),
            d => Assert.Contains(d.GetProperty("type").GetString(), new[] { "gpu", "cpu", "accelerator" }));
    }

    [Fact]
    public void Evaluate_MissingOrCorruptModel_OneLineError()
    {
        using var dir = new TempDirectory();
        var (code, _, err) = Run("evaluate", "--model", dir.File("none.safetensors"));
        Assert.Equal(1, code);
        AssertOneLineError(err, "no such model file");

        File.WriteAllBytes(dir.File("bad.safetensors"), [1, 2, 3]);
        if (TestData.MnistDirectory is null)
            return;
        (code, _, err) = Run("evaluate", "--model", dir.File("bad.safetensors"), "--data", TestData.MnistDirectory);
        Assert.Equal(1, code);
        AssertOneLineError(err, "bad.safetensors");
    }

    [MnistFact]
    public void Evaluate_CheckpointOfAnotherArchitecture_OneLineError()
    {
        using var dir = new TempDirectory();
        var config = new IlgpuVae.Models.VaeConfig(784, [400], 20);
        // Metadata says 784-400-20 but the first tensor has another shape.
        var tensors = VaeNetwork.LayoutOf(config).Slots
            .Select(s => new NamedTensor(s.Name, s.Name == "encoder.0.weight" ? [64, 784] : s.Shape,
                new float[s.Name == "encoder.0.weight" ? 64 * 784 : s.Length])).ToList();
        SafeTensors.Write(dir.File("model.safetensors"), config.ToMetadata(), tensors);
        var (code, _, err) = Run("evaluate", "--model", dir.File("model.safetensors"), "--data", TestData.MnistDirectory!);
        Assert.Equal(1, code);
        AssertOneLineError(err, "encoder.0.weight");
    }

    [MnistFact]
    public void Train_CorruptDataFile_OneLineErrorAndFileLeftAlone()
    {
        using var dir = new TempDirectory();
        foreach (var file in Directory.GetFiles(TestData.MnistDirectory!))
            File.Copy(file, dir.File(Path.GetFileName(file)));
        var labels = Directory.GetFiles(dir.Path, "t10k-labels*").Single();
        var bytes = File.ReadAllBytes(labels);
        File.WriteAllBytes(labels, bytes[..(bytes.Length / 2)]);
        var (code, _, err) = Run("train", "--data", dir.Path, "--epochs", "1", "--limit", "100", "--out", dir.File("run"));
        Assert.Equal(2, code); // a data error
        AssertOneLineError(err, "t10k-labels");
        Assert.Equal(bytes.Length / 2, new FileInfo(labels).Length);
    }

    [MnistFact]
    public void Train_UnwritableOutput_OneLineError()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("file"), "");
        var (code, _, err) = Run("train", "--data", TestData.MnistDirectory!, "--epochs", "1", "--limit", "100", "--out", dir.File("file/run"));
        Assert.Equal(1, code);
        AssertOneLineError(err, "output directory");
    }

    [MnistFact]
    public void TrainThenEvaluate_SmallRun_WritesRunAndJson()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        var (code, output, err) = Run("train", "--data", TestData.MnistDirectory!, "--epochs", "1", "--limit", "500",
            "--hidden", "32", "--latent", "4", "--out", run);
        Assert.True(code == 0, err);
        Assert.Contains("epoch 1/1", output);
        (code, output, err) = Run("evaluate", "--model", Path.Combine(run, "model.safetensors"), "--data", TestData.MnistDirectory!, "--json");
        Assert.True(code == 0, err);
        using var json = System.Text.Json.JsonDocument.Parse(output);
        double loss = json.RootElement.GetProperty("test_loss").GetDouble();
        double recon = json.RootElement.GetProperty("test_reconstruction").GetDouble();
        double kl = json.RootElement.GetProperty("test_kl").GetDouble();
        Assert.Equal(loss, recon + kl, 6);
        Assert.InRange(loss, 100, 543);
    }
}
