using System.Globalization;
using ILGPU.Runtime;
using IlgpuVae.Checkpoints;
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;

namespace IlgpuVae.Tests.Training;

/// <summary>
/// Issue 11's fault cases against the library: a crash at every point of a save (simulated by an exception from the
/// file layer's test hook right where a kill -9 would stop the process: the disk holds exactly what it would), I/O
/// errors injected there, the run directory's lock, leftover temporary files, sizes and mismatched data.
/// </summary>
[Collection(SharedDevices.Name)]
public sealed class RunReliabilityTests
{
    private static readonly Lazy<ImageData> Mnist = new(() => ImageData.Load(TestData.MnistDirectory!, testLimit: 1000));

    private static TrainingOptions Small(int epochs = 2) => new()
    {
        Epochs = epochs, BatchSize = 100, Limit = 500, Model = new VaeConfig(784, [32], 4), ReportEverySteps = 2, Seed = 7,
    };

    /// <summary>Stands for the process dying: nothing after the throw point runs, nothing catches it.</summary>
    private sealed class SimulatedKill : Exception;

    // Runs `action` with the file layer failing once, at `stage` of the `occurrence`-th write of `file`.
    private static void WithFault(string file, string stage, int occurrence, Exception fault, Action action)
    {
        int seen = 0;
        AtomicFile.FaultInjection.Value = (s, target) =>
        {
            if (s == stage && Path.GetFileName(target) == file && ++seen == occurrence)
                throw fault;
        };
        try
        {
            action();
        }
        finally
        {
            AtomicFile.FaultInjection.Value = null;
        }
    }

    private static (byte[] Model, string[] Losses) Outcome(string run) => (File.ReadAllBytes(Path.Combine(run, RunDirectory.ModelFile)),
        // Every column but the two timings, which no two runs share.
        File.ReadAllLines(Path.Combine(run, RunDirectory.MetricsFile)).Select(l => string.Join(",", l.Split(',')[..5])).ToArray());

    private static (byte[] Model, string[] Losses) Uninterrupted(TrainingOptions options)
    {
        using var dir = new TempDirectory();
        using (var trainer = new VaeTrainer(OpsHarness.Device("vectorized"), Mnist.Value, options, dir.Path))
            Assert.Null(trainer.Train().Divergence);
        return Outcome(dir.Path);
    }

    // Cases 1 and 2, and every other instant of a save: the second epoch's save dies at `stage` of `file`; a resume
    // then ends byte-identical to a run that never stopped, with every epoch's metrics row.
    [MnistTheory]
    [InlineData(RunDirectory.StateFile, "fsync")]
    [InlineData(RunDirectory.StateFile, "rename")]
    [InlineData(RunDirectory.StateFile, "committed")] // case 1: the state is in place, the model is not
    [InlineData(RunDirectory.ModelFile, "rename")]
    [InlineData(RunDirectory.ModelFile, "committed")] // case 2: the model is in place, metrics.csv is not
    [InlineData(RunDirectory.MetricsFile, "rename")]
    [InlineData(RunDirectory.MetricsFile, "committed")]
    public void KilledDuringSave_ResumeEndsIdenticalToUninterruptedRun(string file, string stage)
    {
        var device = OpsHarness.Device("vectorized");
        var expected = Uninterrupted(Small(3));
        using var dir = new TempDirectory();
        WithFault(file, stage, occurrence: 2, new SimulatedKill(), () =>
        {
            using var trainer = new VaeTrainer(device, Mnist.Value, Small(3), dir.Path);
            Assert.Throws<SimulatedKill>(() => trainer.Train());
        });
        using (var resumed = VaeTrainer.Resume(device, Mnist.Value, dir.Path))
            Assert.Null(resumed.Train().Divergence);
        var actual = Outcome(dir.Path);
        Assert.Equal(expected.Losses, actual.Losses);
        Assert.Equal(4, actual.Losses.Length);
        Assert.Equal(expected.Model, actual.Model);
    }

    // Case 1 on its own: right after the commit point the exports are stale, and a resume rewrites them at once.
    [MnistFact]
    public void KilledAfterCommitPoint_ResumeRewritesTheStaleExports()
    {
        var device = OpsHarness.Device("vectorized");
        using var dir = new TempDirectory();
        WithFault(RunDirectory.StateFile, "committed", occurrence: 2, new SimulatedKill(), () =>
        {
            using var trainer = new VaeTrainer(device, Mnist.Value, Small(2), dir.Path);
            Assert.Throws<SimulatedKill>(() => trainer.Train());
        });
        Assert.Equal("1", SafeTensors.Read(dir.File(RunDirectory.ModelFile)).Metadata["epochs_completed"]);
        using var resumed = VaeTrainer.Resume(device, Mnist.Value, dir.Path);
        Assert.Equal("2", SafeTensors.Read(dir.File(RunDirectory.ModelFile)).Metadata["epochs_completed"]);
        Assert.Equal(2, new RunDirectory(dir.Path).ReadMetrics().Count);
        Assert.Equal(2, resumed.History.Count);
    }

    // Case 3: an error from fsync fails the save with one line naming the target, keeps the previous checkpoint and
    // stops training; no temporary file is left.
    [MnistTheory]
    [InlineData("fsync")]
    [InlineData("rename")]
    public void IoErrorDuringSave_FailsNamingTheTarget_KeepsPreviousCheckpoint(string stage)
    {
        var device = OpsHarness.Device("vectorized");
        using var dir = new TempDirectory();
        string state = dir.File(RunDirectory.StateFile);
        byte[]? afterFirst = null;
        var error = new IOException("No space left on device");
        WithFault(RunDirectory.StateFile, stage, occurrence: 2, error, () =>
        {
            using var trainer = new VaeTrainer(device, Mnist.Value, Small(3), dir.Path);
            trainer.EpochCompleted += (_, e) => afterFirst ??= File.ReadAllBytes(state);
            var thrown = Assert.Throws<IOException>(() => trainer.Train());
            Assert.StartsWith(state + ": not saved", thrown.Message);
            Assert.Contains("No space left on device", thrown.Message);
            Assert.DoesNotContain('\n', thrown.Message);
            Assert.DoesNotContain(".tmp", thrown.Message);
        });
        Assert.Equal(afterFirst, File.ReadAllBytes(state));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp*"));
        using var resumed = VaeTrainer.Resume(device, Mnist.Value, dir.Path);
        Assert.Single(resumed.History);
    }

    // Case 6: a second writer is refused at once, naming the holder's process; the lock goes with the first.
    [MnistFact]
    public void SecondWriter_IsRefusedNamingTheHolder()
    {
        var device = OpsHarness.Device("vectorized");
        using var dir = new TempDirectory();
        using (var first = new VaeTrainer(device, Mnist.Value, Small(1), dir.Path))
        {
            var e = Assert.Throws<IOException>(() => new VaeTrainer(device, Mnist.Value, Small(1), dir.Path));
            Assert.Contains($"process {Environment.ProcessId}", e.Message);
            Assert.DoesNotContain('\n', e.Message);
            first.Train();
            Assert.Throws<IOException>(() => VaeTrainer.Resume(device, Mnist.Value, dir.Path));
        }
        using var resumed = VaeTrainer.Resume(device, Mnist.Value, dir.Path);
        Assert.Single(resumed.History);
    }

    // Case 9: temporary files of a save that was killed are removed when the next training takes the directory.
    [MnistFact]
    public void LeftoverTempFiles_AreRemovedOnTheNextStart()
    {
        var device = OpsHarness.Device("vectorized");
        using var dir = new TempDirectory();
        using (var trainer = new VaeTrainer(device, Mnist.Value, Small(1), dir.Path))
            trainer.Train();
        string[] leftovers =
        [
            dir.File($".{RunDirectory.ModelFile}.{Guid.NewGuid():N}.tmp"),
            dir.File($"{RunDirectory.StateFile}.tmp-0123456789abcdef"), // what earlier versions left
        ];
        foreach (var path in leftovers)
            File.WriteAllBytes(path, new byte[1000]);
        string mine = dir.File("notes.tmp");
        File.WriteAllText(mine, "not ours");
        using (VaeTrainer.Resume(device, Mnist.Value, dir.Path))
        {
            foreach (var path in leftovers)
                Assert.False(File.Exists(path), path);
            Assert.True(File.Exists(mine));
        }
    }

    // Case 8: a divergence before any checkpoint does not claim one was kept.
    [MnistFact]
    public void DivergenceBeforeAnyCheckpoint_SaysNothingWasKept()
    {
        var device = OpsHarness.Device("vectorized");
        using var dir = new TempDirectory();
        using var trainer = new VaeTrainer(device, Mnist.Value, Small(1), dir.Path);
        trainer.Model.Network.Parameters.SubView(0, 1).CopyFromCPU(new[] { float.NaN });
        var result = trainer.Train();
        Assert.True(result.Diverged);
        Assert.DoesNotContain("kept", result.Divergence);
        Assert.Contains("no checkpoint was written", result.Divergence);
        Assert.False(File.Exists(dir.File(RunDirectory.StateFile)));
    }

    // Case 8: a resume may raise the epoch count, not lower it.
    [MnistFact]
    public void Resume_FewerEpochsThanTheRun_IsRefused()
    {
        var device = OpsHarness.Device("vectorized");
        using var dir = new TempDirectory();
        using (var trainer = new VaeTrainer(device, Mnist.Value, Small(2), dir.Path))
            trainer.Train();
        byte[] config = File.ReadAllBytes(dir.File(RunDirectory.ConfigFile));
        var e = Assert.Throws<ArgumentException>(() => VaeTrainer.Resume(device, Mnist.Value, dir.Path, epochs: 1));
        Assert.Contains("not lower it", e.Message);
        Assert.Equal(config, File.ReadAllBytes(dir.File(RunDirectory.ConfigFile)));
        using var extended = VaeTrainer.Resume(device, Mnist.Value, dir.Path, epochs: 3);
        Assert.Equal(3, extended.Options.Epochs);
    }

    // Version 1 run directories (weights only in model.safetensors) still resume.
    [MnistFact]
    public void VersionOneRunDirectory_StillResumes()
    {
        var device = OpsHarness.Device("vectorized");
        var expected = Uninterrupted(Small(2));
        using var dir = new TempDirectory();
        using (var trainer = new VaeTrainer(device, Mnist.Value, Small(2) with { Epochs = 1 }, dir.Path))
            trainer.Train();
        // Rewrite the state as version 1 wrote it: counters, Adam's moments and step losses, no weights, no options, no
        // checksum.
        string statePath = dir.File(RunDirectory.StateFile);
        var v2 = SafeTensors.Read(statePath);
        var metadata = v2.Metadata.Where(p => p.Key is not ("format_version" or "config" or "metrics" or RunDirectory.ChecksumKey)).ToDictionary();
        SafeTensors.Write(statePath, metadata, v2.Tensors.Where(t => !t.Name.StartsWith(RunDirectory.WeightsPrefix, StringComparison.Ordinal)));
        using (var resumed = VaeTrainer.Resume(device, Mnist.Value, dir.Path, epochs: 2))
            Assert.Null(resumed.Train().Divergence);
        var actual = Outcome(dir.Path);
        Assert.Equal(expected.Losses, actual.Losses);
        Assert.Equal(expected.Model, actual.Model);
    }

    // Case 4: absurd sizes from options, config.json or a checkpoint's metadata are one-line errors before allocation.
    [Theory]
    [InlineData(1_000_000_000, 20)]
    [InlineData(400, 2_000_000)]
    public void AbsurdSizes_AreRefusedBeforeAllocating(int hidden, int latent)
    {
        var device = OpsHarness.Device("vectorized");
        var e = Assert.Throws<ArgumentException>(() => VaeModel.Create(device, new VaeConfig(784, [hidden], latent)));
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains(hidden.ToString(CultureInfo.InvariantCulture), e.Message);
        Assert.Matches("needs [0-9.]+ [kMGTPE]?B; the device has [0-9.]+ [kMGTPE]?B|more than 2,147,483,647 parameters", e.Message);
    }

    [Fact]
    public void AbsurdSizes_InACheckpointsMetadata_AreAOneLineError()
    {
        using var dir = new TempDirectory();
        string path = dir.File("huge.safetensors");
        var metadata = new VaeConfig(784, [400], 20).ToMetadata();
        metadata["hidden"] = "1000000000";
        SafeTensors.Write(path, metadata, [new NamedTensor("encoder.0.weight", [1], [0f])]);
        var e = Assert.Throws<InvalidDataException>(() => VaeModel.Load(OpsHarness.Device("vectorized"), path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Matches("needs [0-9.]+ [kMGTPE]?B; the device has [0-9.]+ [kMGTPE]?B|more than 2,147,483,647 parameters", e.Message);
    }

    [Fact]
    public void AbsurdSizes_InConfigJson_AreAOneLineError()
    {
        using var dir = new TempDirectory();
        new RunDirectory(dir.Path).WriteConfig(Small());
        string config = dir.File(RunDirectory.ConfigFile);
        File.WriteAllText(config, System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(config), @"""hidden"": \[[^\]]*\]", "\"hidden\": [1000000000]"));
        var options = TrainingOptions.FromRunDirectory(dir.Path);
        Assert.Equal(1_000_000_000, options.Model.Hidden[0]);
        var data = new ImageData(new ImageSet(new byte[784 * 2], new byte[2], 28, 28), new ImageSet(new byte[784], new byte[1], 28, 28));
        var e = Assert.Throws<ArgumentException>(() => new VaeTrainer(OpsHarness.Device("vectorized"), data, options));
        Assert.Contains("needs", e.Message);
    }

    // A config.json whose sizes make no model is named as the fault, before anything is built from it.
    [Theory]
    [InlineData("{\"input_size\":784,\"hidden\":null,\"latent\":20,\"epochs\":1,\"batch\":1,\"learning_rate\":0.001}", "hidden")]
    [InlineData("{\"input_size\":784,\"latent\":20,\"epochs\":1,\"batch\":1,\"learning_rate\":0.001}", "hidden")]
    [InlineData("{}", "input size must be positive")]
    public void ConfigWithoutAModel_IsAnInvalidConfiguration(string json, string fragment)
    {
        var e = Assert.Throws<InvalidDataException>(() => RunDirectory.ParseConfig(json, "run/config.json"));
        Assert.StartsWith("run/config.json: not a valid run configuration (", e.Message);
        Assert.Contains(fragment, e.Message);
    }

    // Case 5: a model meets data of another image size, or labels it does not know, with an error before running.
    [MnistFact]
    public void ModelOfAnotherInputSize_RefusesTheData()
    {
        var device = OpsHarness.Device("vectorized");
        using var model = VaeModel.Create(device, new VaeConfig(100, [16], 2));
        var e = Assert.Throws<ArgumentException>(() => model.Evaluate(Mnist.Value.Test, 1));
        Assert.Contains("100 pixels", e.Message);
        Assert.Throws<ArgumentException>(() => model.LatentMeans(Mnist.Value.Test));
        using var conditional = VaeModel.Create(device, new VaeConfig(784, [16], 2, Classes: 5));
        e = Assert.Throws<ArgumentException>(() => conditional.CheckCompatible(Mnist.Value.Test));
        Assert.Contains("5 classes", e.Message);
        // Unlabelled images: their labels read as 0, which a conditional model would take as a digit without a word.
        var unlabelled = ImageSet.Unlabelled(new byte[784 * 3], 28, 28);
        using var tenClasses = VaeModel.Create(device, new VaeConfig(784, [16], 2, Classes: 10));
        e = Assert.Throws<ArgumentException>(() => tenClasses.Evaluate(unlabelled, 1));
        Assert.Contains("no labels", e.Message);
        using var plain = VaeModel.Create(device, new VaeConfig(784, [16], 2));
        plain.CheckCompatible(unlabelled);
    }
}
