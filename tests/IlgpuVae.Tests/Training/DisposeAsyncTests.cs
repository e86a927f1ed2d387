using IlgpuVae.Classification;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;

namespace IlgpuVae.Tests.Training;

/// <summary>Issue 21: DisposeAsync stops a running training and waits for it (Dispose threw "still training"), and
/// what a stop saves is saved.</summary>
public sealed class DisposeAsyncTests
{
    private static readonly ImageData Data = SyntheticIdx.InMemory(2000, 20);

    [Fact]
    public async Task VaeTrainer_DisposeAsync_StopsTheRun_SavesIt_AndFreesTheTrainer()
    {
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var dir = new TempDirectory();
        var options = new TrainingOptions { Epochs = 1000, BatchSize = 10, Model = new VaeConfig(SyntheticIdx.Height * SyntheticIdx.Width, [8], 2) };
        var trainer = new VaeTrainer(device, Data, options, dir.Path);
        var started = new TaskCompletionSource();
        var training = trainer.TrainAsync(new SyncProgress<WorkProgress>(_ => started.TrySetResult()));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Throws<InvalidOperationException>(trainer.Dispose);

        await trainer.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        var stop = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => training);
        Assert.Contains("can be resumed", stop.Message);
        Assert.True(File.Exists(Path.Combine(dir.Path, RunDirectory.StateFile)));
        Assert.Throws<ObjectDisposedException>(() => trainer.Train());
        await trainer.DisposeAsync(); // again: nothing
        // The lock went with it: the run resumes.
        using var resumed = VaeTrainer.Resume(device, Data, dir.Path);
    }

    [Fact]
    public async Task ClassifierTrainer_DisposeAsync_StopsTheRun_AndFreesTheTrainer()
    {
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        var options = ClassifierTrainer.DefaultSettings with { Epochs = 1000, BatchSize = 10 };
        var trainer = new ClassifierTrainer(device, Data, new ClassifierConfig(SyntheticIdx.Height * SyntheticIdx.Width, [8], SyntheticIdx.Classes), options);
        var started = new TaskCompletionSource();
        var training = trainer.TrainAsync(new SyncProgress<WorkProgress>(_ => started.TrySetResult()));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await trainer.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => training);
        Assert.Throws<ObjectDisposedException>(() => trainer.EvaluateTest());
    }

    [Fact]
    public async Task DisposeAsync_WhenIdle_JustDisposes()
    {
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        var trainer = new VaeTrainer(device, Data, new TrainingOptions { Epochs = 1, Model = new VaeConfig(SyntheticIdx.Height * SyntheticIdx.Width, [8], 2) });
        await trainer.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => trainer.Train());
    }
}
