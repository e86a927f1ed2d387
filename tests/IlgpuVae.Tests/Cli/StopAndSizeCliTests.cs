using IlgpuVae.Cli;
using IlgpuVae.Compute;
using IlgpuVae.Models;
using IlgpuVae.Tests.Data;
using Xunit;
using static IlgpuVae.Tests.Cli.CliRunner;

namespace IlgpuVae.Tests.Cli;

/// <summary>
/// Issue 22's cases 7, 9 and 14: every long command acts on a stop within about a second and exits with README's
/// code for it (130, 143, 129); count-like options are checked against memory and what a picture can show before
/// any work starts.
/// </summary>
public sealed class StopAndSizeCliTests
{
    private static string SaveModel(TempDirectory directory, VaeConfig config)
    {
        string path = directory.File("model.safetensors");
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var model = VaeModel.Create(device, config, capacity: 4);
        model.Save(path);
        return path;
    }

    // Case 7: evaluate --iw-samples K with a large K spent all of a batch's K forward passes (23-25 s) before it saw a
    // signal; the estimate now looks between samples.
    [MnistFact]
    public void Evaluate_WithManyImportanceSamples_StopsWithinASecondOfSigterm()
    {
        if (OperatingSystem.IsWindows())
            return;
        using var directory = new TempDirectory();
        string model = SaveModel(directory, new VaeConfig(784, [400], 20));
        // K = 200,000: a batch of 20 images is 200,000 forward passes, tens of seconds on these CPUs.
        using var child = new ChildCli("evaluate", "--model", model, "--data", TestData.MnistDirectory!, "--iw-samples", "200000",
            "--device", "cpu");
        // The ELBO pass and the data take a few seconds; then the estimate runs.
        Thread.Sleep(TimeSpan.FromSeconds(8));
        child.Signal("TERM");
        var exit = child.WaitForExit(TimeSpan.FromSeconds(60));
        Assert.True(exit is not null, "evaluate did not stop within a minute");
        Assert.True(exit.Value.Code == 143, $"exit {exit.Value.Code}: {child.Err}");
        // About a second, with the process's own exit and a busy 2-core machine on top.
        Assert.True(exit.Value.SecondsAfterSignal < 5, $"stopped {exit.Value.SecondsAfterSignal:F1} s after SIGTERM");
    }

    // Case 14: explore exited 0 on SIGTERM and SIGHUP; README's table says 143 and 129.
    [MnistTheory]
    [InlineData("TERM", 143)]
    [InlineData("HUP", 129)]
    public void Explore_OnASignal_ExitsWithItsCode(string signal, int expected)
    {
        if (OperatingSystem.IsWindows())
            return;
        using var directory = new TempDirectory();
        string model = SaveModel(directory, new VaeConfig(784, [16], 2));
        using var child = new ChildCli("explore", "--model", model, "--data", TestData.MnistDirectory!, "--port", "0", "--points", "100",
            "--device", "cpu");
        Assert.True(child.WaitForOutput("http://", TimeSpan.FromSeconds(120)), child.Err);
        child.Signal(signal);
        var exit = child.WaitForExit(TimeSpan.FromSeconds(30));
        Assert.True(exit is not null, "explore did not stop");
        Assert.True(exit.Value.Code == expected, $"exit {exit.Value.Code}: {child.Err}");
    }

    // Case 14: a stop that comes before export writes anything is a stop (130, nothing written), not exit 0.
    [Fact]
    public void Export_StoppedBeforeItWrites_Exits130_AndWritesNothing()
    {
        using var directory = new TempDirectory();
        string model = SaveModel(directory, new VaeConfig(784, [16], 2));
        string onnx = directory.File("onnx");
        var stderr = new StringWriter();
        int code = Program.Run(["export", "--model", model, "--out", onnx], TextWriter.Null, stderr, new CancellationToken(canceled: true));
        Assert.True(code == 130, stderr.ToString());
        Assert.False(Directory.Exists(onnx));
    }

    // Cases 7 and 14 in-process: sample and a CVAE's agreement see a stop between device batches.
    [Fact]
    public void Sample_Stopped_Exits130_AndWritesNothing()
    {
        using var directory = new TempDirectory();
        string model = SaveModel(directory, new VaeConfig(784, [16], 2));
        string output = directory.File("many.idx");
        var stderr = new StringWriter();
        int code = Program.Run(["sample", "--model", model, "--count", "100000", "--format", "idx", "--out", output, "--device", "cpu"],
            TextWriter.Null, stderr, new CancellationToken(canceled: true));
        Assert.True(code == 130, stderr.ToString());
        Assert.False(File.Exists(output));
    }

    // Case 9: sample --count 100000000 grew to 7 GB before it was killed; now one line, at once, nothing allocated.
    [Fact]
    public void Sample_ACountBeyondMemory_IsOneLine_BeforeAnyWork()
    {
        using var directory = new TempDirectory();
        string model = SaveModel(directory, new VaeConfig(784, [16], 2));
        long before = GC.GetTotalAllocatedBytes();
        var (code, _, err) = Run("sample", "--model", model, "--count", "100000000", "--format", "idx", "--out", directory.File("x.idx"),
            "--device", "cpu");
        Assert.Equal(1, code);
        AssertOneLineError(err, "100,000,000 samples of 784 values need 314 GB of memory");
        Assert.True(GC.GetTotalAllocatedBytes() - before < 200_000_000, "it allocated before refusing");
        Assert.False(File.Exists(directory.File("x.idx")));
    }

    // Case 9: a picture of more images than it can show is a usage error before the model is even read.
    [Theory]
    [InlineData("sample", "--count", "100000000", "--count 100000000 asks for a picture of 100,000,000 images")]
    [InlineData("manifold", "--size", "1000", "--size 1000 asks for a picture of 1,000,000 images")]
    [InlineData("manifold", "--scale", "1000", "option '--scale' must be at most 16")]
    public void Pictures_OfAbsurdSize_AreUsageErrors(string command, string option, string value, string message)
    {
        using var directory = new TempDirectory();
        var (code, _, err) = Run(command, "--model", directory.File("missing.safetensors"), option, value);
        Assert.Equal(2, code);
        AssertOneLineError(err, message);
    }

    // Case 9 in the library: the same check guards Sample, Decode and PriorSamples for an app.
    [Fact]
    public void Library_Sample_ACountBeyondMemory_Throws_BeforeAllocating()
    {
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var model = VaeModel.Create(device, new VaeConfig(784, [16], 2), capacity: 4);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Sample(int.MaxValue, 1));
        Assert.Contains("need", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.PriorSamples(int.MaxValue, 1));
    }
}
