using IlgpuVae.Classification;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;

namespace IlgpuVae.Tests.Training;

/// <summary>The progress contract: a "training" report after every step, the loss only where it was read back, then the
/// test pass as the "testing" part, and a last "training" report with the epoch's metrics.</summary>
public sealed class TrainingProgressTests
{
    /// <summary>Collects reports in order (Progress&lt;T&gt; would post them to the thread pool).</summary>
    private sealed class Recorder<T> : IProgress<T>
    {
        public List<T> Reports { get; } = [];

        public void Report(T value) => Reports.Add(value);
    }

    [MnistFact]
    public void VaeTrainer_ReportsEveryStep_LossAtReadBacks_ThenTheTestPass()
    {
        var data = ImageData.Load(TestData.MnistDirectory!, trainLimit: 1000, testLimit: 700);
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        var options = new TrainingOptions { Epochs = 1, BatchSize = 100, ReportEverySteps = 4, Model = new VaeConfig(784, [16], 2) };
        using var trainer = new VaeTrainer(device, data, options);
        var progress = new Recorder<WorkProgress>();
        trainer.Train(progress);
        Assert.All(progress.Reports, p => Assert.Contains(p.Part, new[] { "training", "testing" }));
        Assert.All(progress.Reports, p => Assert.Equal((1, 1), (p.Epoch, p.Epochs)));
        var training = progress.Reports.Where(p => p.Completed is null && p.Part == "training").ToList();
        Assert.Equal(Enumerable.Range(1, 10), training.Select(p => p.Done));
        Assert.All(training, p => Assert.Equal(10, p.Total));
        Assert.All(training, p => Assert.True(p.SamplesPerSecond > 0));
        Assert.Equal([4, 8], training.Where(p => p.TrainLoss is not null).Select(p => p.Done));
        var testing = progress.Reports.Where(p => p.Part == "testing").ToList();
        Assert.NotEmpty(testing);
        Assert.Equal(Enumerable.Range(1, testing.Count), testing.Select(p => p.Done));
        Assert.All(testing, p => Assert.Equal(testing.Count, p.Total));
        Assert.All(testing, p => Assert.Null(p.TrainLoss));
        Assert.All(testing, p => Assert.Null(p.Completed));
        var last = progress.Reports[^1];
        Assert.Equal(("training", 10, 10), (last.Part, last.Done, last.Total));
        Assert.Equal(trainer.History[0], last.Completed);
        Assert.Equal(last.Completed!.TrainLoss, last.TrainLoss);
        Assert.Single(progress.Reports, p => p.Completed is not null);
    }

    [MnistFact]
    public void ClassifierTrainer_ReportsEveryStep_ThenTheTestPass()
    {
        var data = ImageData.Load(TestData.MnistDirectory!, trainLimit: 600, testLimit: 500);
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        var settings = ClassifierTrainer.DefaultSettings with { Epochs = 1, BatchSize = 100 };
        using var trainer = new ClassifierTrainer(device, data, ClassifierConfig.Default with { Hidden = [16] }, settings);
        var progress = new Recorder<WorkProgress>();
        trainer.Train(progress);
        Assert.Equal(Enumerable.Range(1, 6), progress.Reports.Where(p => p.Completed is null && p.Part == "training").Select(p => p.Done));
        Assert.Contains(progress.Reports, p => p.Part == "testing" && p.Done == p.Total && p.Epoch == 1);
        Assert.Equal(("training", 1, 1), (progress.Reports[^1].Part, progress.Reports[^1].Epoch, progress.Reports[^1].Epochs));
        Assert.NotNull(progress.Reports[^1].Completed?.TestAccuracy);
    }
}
