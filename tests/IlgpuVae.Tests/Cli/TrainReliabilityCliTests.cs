using System.Diagnostics;
using IlgpuVae.Cli;
using IlgpuVae.Compute;
using IlgpuVae.Models;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;
using static IlgpuVae.Tests.Cli.CliRunner;

namespace IlgpuVae.Tests.Cli;

/// <summary>Issue 11's fault cases at the command line: signals (in a child process), resume options, --data, sizes.</summary>
public sealed class TrainReliabilityCliTests
{
    // Case 7: SIGTERM and SIGHUP stop like Ctrl+C: the step finishes, the run is saved and resumable, and the exit code
    // is 128 + the signal. A real child process gets a real signal.
    [MnistTheory]
    [InlineData("TERM", 143)]
    [InlineData("HUP", 129)]
    public void Signal_StopsAfterTheStep_SavesAndExitsWithTheSignalsCode(string signal, int expectedCode)
    {
        if (OperatingSystem.IsWindows())
            return;
        using var dir = new TempDirectory();
        string run = dir.File("run");
        using var child = new ChildCli("train", "--data", TestData.MnistDirectory!, "--epochs", "50", "--limit", "2000", "--hidden", "16",
            "--latent", "2", "--batch", "10", "--out", run, "--device", "cpu");
        // Training has started once the first epoch ends (its progress line), so there is a checkpoint to outdo.
        Assert.True(child.WaitForOutput("epoch 1/", TimeSpan.FromSeconds(120)), child.Err);
        child.Signal(signal);
        var exit = child.WaitForExit(TimeSpan.FromSeconds(60));
        Assert.True(exit is not null, "the child did not stop");
        Assert.True(expectedCode == exit.Value.Code, $"exit {exit.Value.Code}: {child.Err}");
        Assert.Contains($"SIG{signal}: stopping after the current step", child.Err);
        Assert.Contains("can be resumed", child.Err);
        // The save is at least as far as epoch 1's end.
        var state = IlgpuVae.Checkpoints.SafeTensors.Read(Path.Combine(run, RunDirectory.StateFile)).Metadata;
        Assert.True(int.Parse(state["global_step"], System.Globalization.CultureInfo.InvariantCulture) >= 200, state["global_step"]);
    }

    // Case 8: options a resume would ignore are refused, naming what a resume keeps; --epochs may not shrink the run.
    [Fact]
    public void Resume_WithOptionsItWouldIgnore_IsAUsageError()
    {
        using var dir = new TempDirectory();
        new RunDirectory(dir.Path).WriteConfig(new TrainingOptions { Epochs = 6 });
        byte[] config = File.ReadAllBytes(dir.File(RunDirectory.ConfigFile));
        foreach (var option in new[] { "--lr", "--latent", "--hidden", "--model", "--kind", "--seed", "--adam-eps", "--gradient" })
        {
            string value = option switch { "--lr" => "0.01", "--hidden" => "32", "--model" or "--kind" => "cvae", _ => "3" };
            var (code, _, err) = Run("train", "--resume", dir.Path, option, value);
            Assert.Equal(2, code);
            AssertOneLineError(err, $"{option} cannot change on --resume");
            Assert.Contains("a resume keeps the run's model, batch, learning rate", err);
        }
        var (shrink, _, shrinkErr) = Run("train", "--resume", dir.Path, "--epochs", "2");
        Assert.Equal(2, shrink);
        AssertOneLineError(shrinkErr, "trains 6 epochs; a resume can raise the total, not lower it");
        Assert.Equal(config, File.ReadAllBytes(dir.File(RunDirectory.ConfigFile)));
    }

    // Case 8: a raised epoch count is applied and said so.
    [MnistFact]
    public void Resume_WithMoreEpochs_SaysSo()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        var (code, _, err) = Run("train", "--data", TestData.MnistDirectory!, "--epochs", "1", "--limit", "200", "--hidden", "16",
            "--latent", "2", "--out", run, "--device", "cpu");
        Assert.True(code == 0, err);
        (code, var output, err) = Run("train", "--resume", run, "--epochs", "2", "--data", TestData.MnistDirectory!, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("resume: epochs 1 -> 2", output);
        Assert.Equal(2, TrainingOptions.FromRunDirectory(run).Epochs);
    }

    // Case 10: --data naming a missing directory is an error, and nothing is created.
    [Fact]
    public void Data_MissingDirectory_IsAnErrorAndNothingIsCreated()
    {
        using var dir = new TempDirectory();
        string missing = dir.File("no-such-dir");
        foreach (var command in new[] { "train", "fetch-data" })
        {
            var (code, _, err) = Run(command, "--data", missing);
            Assert.Equal(2, code);
            AssertOneLineError(err, $"--data: no such directory '{missing}'");
            Assert.False(Directory.Exists(missing));
        }
    }

    // Case 10: the other options are checked before anything is fetched.
    [Fact]
    public void Train_UnavailableDevice_FailsBeforeFetchingAnything()
    {
        var kinds = ComputeDevice.List(out _).Select(d => d.Kind).ToHashSet();
        if (kinds.Contains(DeviceChoice.Cuda))
            return; // The device opens here; the order is what matters, and a machine without CUDA shows it.
        using var dir = new TempDirectory();
        var (code, _, err) = Run("train", "--data", dir.Path, "--device", "cuda", "--out", dir.File("run"));
        Assert.Equal(1, code);
        AssertOneLineError(err, "--device");
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    // Case 4 at the command line: one line, no stack trace, no assertion ending the process.
    [MnistTheory]
    [InlineData("--hidden", "1000000000")]
    [InlineData("--latent", "2000000")]
    [InlineData("--latent", "2000000000")]
    [InlineData("--hidden", "400,2147483647")]
    [InlineData("--batch", "2000000000")]
    public void Train_AbsurdSizes_AreOneLineErrors(string option, string value)
    {
        using var dir = new TempDirectory();
        var (code, _, err) = Run("train", "--data", TestData.MnistDirectory!, option, value, "--out", dir.File("run"), "--device", "cpu");
        Assert.Equal(1, code);
        AssertOneLineError(err, value.Replace(',', '-'));
    }

    // Case 5 at the command line: a 100-input model on 784-pixel MNIST.
    [MnistFact]
    public void Evaluate_ModelOfAnotherInputSize_IsAnError()
    {
        using var dir = new TempDirectory();
        string path = dir.File("small.safetensors");
        using (var model = VaeModel.Create(ComputeDevice.Open(DeviceChoice.Cpu), new VaeConfig(100, [16], 2)))
            model.Save(path);
        foreach (var command in new[] { "evaluate", "latent", "reconstruct" })
        {
            var (code, _, err) = Run(command, "--model", path, "--data", TestData.MnistDirectory!, "--device", "cpu");
            Assert.True(code == 1, $"{command}: {code} {err}");
            AssertOneLineError(err, "the model reads images of 100 pixels; these have 784");
        }
    }

    // Case 6 at the command line: the second writer's error names the first one's process.
    [MnistFact]
    public void Train_IntoADirectoryAnotherTrainingHolds_NamesTheHolder()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        Directory.CreateDirectory(run);
        using var held = new FileStream(Path.Combine(run, RunDirectory.LockFile), FileMode.Create, FileAccess.ReadWrite, FileShare.None);
        held.Write("4242\n"u8);
        held.Flush();
        var (code, _, err) = Run("train", "--data", TestData.MnistDirectory!, "--epochs", "1", "--limit", "200", "--hidden", "16",
            "--out", run, "--device", "cpu");
        Assert.Equal(1, code);
        AssertOneLineError(err, "process 4242");
        Assert.False(File.Exists(Path.Combine(run, RunDirectory.ConfigFile)));
    }
}
