using IlgpuVae.Classification;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;

namespace IlgpuVae.Tests.Training;

/// <summary>The progress contract: a report after every step, the loss only where it was read back, then the test pass as a phase.</summary>
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
        var progress = new Recorder<TrainingProgress>();
        trainer.Train(progress);
        var training = progress.Reports.Where(p => p.Completed is null && p.Phase == TrainingPhase.Training).ToList();
        Assert.Equal(Enumerable.Range(1, 10), training.Select(p => p.Step));
        Assert.Equal([4, 8], training.Where(p => p.TrainLoss is not null).Select(p => p.Step));
        var testing = progress.Reports.Where(p => p.Phase == TrainingPhase.Testing).ToList();
        Assert.NotEmpty(testing);
        Assert.Equal(Enumerable.Range(1, testing.Count), testing.Select(p => p.Step));
        Assert.All(testing, p => Assert.Equal(testing.Count, p.StepsPerEpoch));
        Assert.All(testing, p => Assert.Null(p.TrainLoss));
        var last = progress.Reports[^1];
        Assert.NotNull(last.Completed);
        Assert.NotNull(last.TrainLoss);
    }

    [MnistFact]
    public void ClassifierTrainer_ReportsEveryStep_ThenTheTestPass()
    {
        var data = ImageData.Load(TestData.MnistDirectory!, trainLimit: 600, testLimit: 500);
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        var options = new ClassifierTrainingOptions { Epochs = 1, BatchSize = 100, Model = ClassifierConfig.Default with { Hidden = [16] } };
        using var trainer = new ClassifierTrainer(device, data, options);
        var progress = new Recorder<TrainingProgress>();
        trainer.Train(progress);
        Assert.Equal(Enumerable.Range(1, 6), progress.Reports.Where(p => p.Completed is null && p.Phase == TrainingPhase.Training).Select(p => p.Step));
        Assert.Contains(progress.Reports, p => p.Phase == TrainingPhase.Testing && p.Step == p.StepsPerEpoch);
        Assert.NotNull(progress.Reports[^1].Completed);
    }
}
