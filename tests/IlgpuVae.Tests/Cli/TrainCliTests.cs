using IlgpuVae.Cli;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;

namespace IlgpuVae.Tests.Cli;

public sealed class TrainCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Conditioning_ForAVae_IsAUsageError()
    {
        var (code, _, err) = Run("train", "--conditioning", "every-layer");
        Assert.Equal(2, code);
        Assert.Contains("--conditioning is for --model cvae", err);
    }

    [MnistFact]
    public void Resume_WithoutEpochs_KeepsTheRunsOwnCount()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        var (code, _, err) = Run("train", "--data", TestData.MnistDirectory!, "--epochs", "1", "--limit", "200", "--hidden", "16",
            "--latent", "2", "--out", run, "--device", "cpu");
        Assert.True(code == 0, err);
        // The run is complete at its one epoch: resuming it without --epochs trains nothing more.
        (code, var output, err) = Run("train", "--resume", run, "--data", TestData.MnistDirectory!, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.DoesNotContain("epoch 2/", output);
        Assert.Single(new RunDirectory(run).ReadMetrics());
        (code, output, err) = Run("train", "--resume", run, "--epochs", "2", "--data", TestData.MnistDirectory!, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("epoch 2/2", output);
    }
}
