using ILGPU.Runtime;
using IlgpuVae.Checkpoints;
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;

namespace IlgpuVae.Tests.Training;

[Collection(SharedDevices.Name)]
public sealed class TrainingTests
{
    private static readonly Lazy<ImageData> Mnist = new(() => ImageData.Load(TestData.MnistDirectory!, testLimit: 2000));

    private static TrainingOptions Small(int epochs = 2) => new()
    {
        Epochs = epochs, BatchSize = 100, Limit = 1000, Model = new VaeConfig(784, [64], 8), ReportEverySteps = 2, Seed = 5,
    };

    [MnistFact]
    public void Train_RealMnistSubset_TestLossFallsBelowBound()
    {
        var device = OpsHarness.Device("vectorized");
        var options = new TrainingOptions { Epochs = 3, Limit = 6000, Model = new VaeConfig(784, [200], 10) };
        using var trainer = new VaeTrainer(device, Mnist.Value, options);
        var result = trainer.Train();
        Assert.Null(result.Divergence);
        Assert.Equal(3, result.Epochs.Count);
        // An untrained model scores about 784 ln 2 = 543 per image; three epochs on 6000 images reach about 174 here.
        // The bound leaves room for other devices' rounding but not for a model that learns nothing useful.
        Assert.InRange(result.Epochs[^1].TestLoss, 100, 190);
        Assert.True(result.Epochs[^1].TestLoss < result.Epochs[0].TestLoss, "test loss did not fall");
        Assert.True(result.Epochs[^1].TestKl > 1, "the posterior collapsed onto the prior");
    }

    [MnistFact]
    public void Train_SameSeed_SameLosses()
    {
        var device = OpsHarness.Device("vectorized");
        using var a = new VaeTrainer(device, Mnist.Value, Small(1));
        using var b = new VaeTrainer(device, Mnist.Value, Small(1));
        var first = a.Train().Epochs[0];
        var second = b.Train().Epochs[0];
        Assert.Equal(first.TrainLoss, second.TrainLoss);
        Assert.Equal(first.TestLoss, second.TestLoss);
    }

    // On OpenCL too: the same device and kernels give the uninterrupted run bit for bit (and OpenClTrainingTests
    // holds that run, Small's options being its "vae" case, to the vectorised path's losses).
    [MnistTheory]
    [InlineData("vectorized")]
    [OpenClData]
    public void Resume_AfterCancellationMidEpoch_EqualsUninterruptedRun(string impl)
    {
        var device = OpsHarness.Device(impl);
        using var whole = new TempDirectory();
        using var split = new TempDirectory();
        List<EpochMetrics> expected;
        using (var trainer = new VaeTrainer(device, Mnist.Value, Small(), whole.Path))
            expected = trainer.Train().Epochs.ToList();

        using (var cancel = new CancellationTokenSource())
        using (var trainer = new VaeTrainer(device, Mnist.Value, Small(), split.Path))
        {
            // Stop in the first epoch after step 4 of 10.
            var progress = new SyncProgress<WorkProgress>(p => { if (p.Part == "training" && p.Epoch == 1 && p.Done == 4) cancel.Cancel(); });
            var stop = Assert.ThrowsAny<OperationCanceledException>(() => trainer.Train(progress, cancel.Token));
            Assert.Contains("stopped at epoch 1, step", stop.Message);
            Assert.Equal(cancel.Token, stop.CancellationToken);
        }
        Assert.True(File.Exists(Path.Combine(split.Path, RunDirectory.StateFile)));
        using (var resumed = VaeTrainer.Resume(device, Mnist.Value, split.Path))
        {
            var result = resumed.Train();
            Assert.Null(result.Divergence);
            Assert.Equal(expected.Select(e => (e.Epoch, e.TrainLoss, e.TestLoss, e.TestKl)),
                resumed.History.Select(e => (e.Epoch, e.TrainLoss, e.TestLoss, e.TestKl)));
        }
        var a = SafeTensors.Read(Path.Combine(whole.Path, RunDirectory.ModelFile));
        var b = SafeTensors.Read(Path.Combine(split.Path, RunDirectory.ModelFile));
        foreach (var tensor in a.Tensors)
            Assert.Equal(tensor.Data, b.Get(tensor.Name).Data);
    }

    [MnistFact]
    public void RunDirectory_HoldsCheckpointAndMetrics_AndModelReloads()
    {
        var device = OpsHarness.Device("vectorized");
        using var run = new TempDirectory();
        using (var trainer = new VaeTrainer(device, Mnist.Value, Small(1), run.Path))
            trainer.Train();
        foreach (var name in new[] { RunDirectory.ModelFile, RunDirectory.StateFile, RunDirectory.ConfigFile, RunDirectory.MetricsFile })
            Assert.True(File.Exists(run.File(name)), name);
        // Pictures are an observer's business (IlgpuVae.Imaging's TrainingPictures), not the trainer's.
        Assert.Empty(Directory.GetFiles(run.Path, "*.png"));
        var metrics = File.ReadAllLines(run.File(RunDirectory.MetricsFile));
        Assert.Equal(RunDirectory.MetricsHeader, metrics[0]);
        Assert.Equal(2, metrics.Length);
        var header = SafeTensors.ReadHeader(run.File(RunDirectory.ModelFile));
        Assert.Equal(["encoder.0.weight", "encoder.0.bias", "mu.weight", "logvar.weight", "mu.bias", "logvar.bias", "decoder.0.weight", "decoder.0.bias", "out.weight", "out.bias"],
            header.Tensors.Select(t => t.Name).ToArray());
        Assert.Equal([64, 784], header.Tensors[0].Shape);
        using var model = VaeModel.Load(device, run.File(RunDirectory.ModelFile));
        Assert.Equal("vae 784-64-8", model.Config.ToString());
        var image = Mnist.Value.Test.Image(0).ToArray().Select(p => p / 255f).ToArray();
        var recon = model.Reconstruct(image).Values;
        Assert.Equal(784, recon.Length);
        Assert.All(recon, v => Assert.InRange(v, 0f, 1f));
    }

    [MnistFact]
    public void EpochCompleted_RaisedOncePerEpoch_AfterItsCheckpoint()
    {
        var device = OpsHarness.Device("vectorized");
        using var run = new TempDirectory();
        var seen = new List<(int Epoch, string CheckpointEpochs, string? Directory)>();
        using (var trainer = new VaeTrainer(device, Mnist.Value, Small(2), run.Path))
        {
            trainer.EpochCompleted += (sender, e) =>
            {
                Assert.Same(trainer, sender);
                Assert.Equal(trainer.History[^1], e);
                string checkpointEpochs = SafeTensors.ReadHeader(run.File(RunDirectory.ModelFile)).Metadata["epochs_completed"];
                seen.Add((e.Epoch, checkpointEpochs, trainer.RunDirectory));
            };
            Assert.Null(trainer.Train().Divergence);
        }
        Assert.Equal([(1, "1", run.Path), (2, "2", run.Path)], seen);

        // Without a run directory the event still comes, saying so.
        string? directory = "unset";
        using var unsaved = new VaeTrainer(device, Mnist.Value, Small(1));
        unsaved.EpochCompleted += (sender, _) => directory = ((VaeTrainer)sender!).RunDirectory;
        unsaved.Train();
        Assert.Null(directory);
    }

    [Fact]
    public void Options_Nonsense_AreRejectedWithOneLine()
    {
        var bad = new[]
        {
            new TrainingOptions { Epochs = 0 }, new TrainingOptions { BatchSize = -1 },
            new TrainingOptions { LearningRate = float.NaN }, new TrainingOptions { LearningRate = -1e-3f },
            new TrainingOptions { Beta = -1 }, new TrainingOptions { Limit = 0 },
            new TrainingOptions { Model = new VaeConfig(784, [0], 20) }, new TrainingOptions { Model = new VaeConfig(784, [400], 0) },
        };
        foreach (var options in bad)
        {
            var e = Assert.Throws<ArgumentException>(options.Validate);
            Assert.DoesNotContain('\n', e.Message);
        }
    }

    [MnistFact]
    public void Train_DivergingLearningRate_StopsWithStepAndKeepsLastCheckpoint()
    {
        var device = OpsHarness.Device("vectorized");
        using var run = new TempDirectory();
        using (var trainer = new VaeTrainer(device, Mnist.Value, Small(1), run.Path))
            Assert.Null(trainer.Train().Divergence);
        var before = File.ReadAllBytes(run.File(RunDirectory.ModelFile));
        using var resumed = VaeTrainer.Resume(device, Mnist.Value, run.Path, epochs: 2);
        // Poison a weight: the next forward produces NaN, which the trainer must catch and report.
        resumed.Model.Network.Parameters.SubView(0, 1).CopyFromCPU(new[] { float.NaN });
        var result = resumed.Train();
        Assert.True(result.Diverged);
        Assert.Contains("epoch 2, step 1", result.Divergence);
        Assert.Equal(before, File.ReadAllBytes(run.File(RunDirectory.ModelFile)));
    }
}
