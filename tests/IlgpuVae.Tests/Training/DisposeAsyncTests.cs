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
        var stop = await Stopped(training);
        Assert.Contains("can be resumed", stop.Message);
        Assert.True(stop.CancellationToken.IsCancellationRequested);
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
        var stop = await Stopped(training);
        // DisposeAsync's own stop: a cancelled token of the trainer's, not the caller's (none here).
        Assert.True(stop.CancellationToken.IsCancellationRequested);
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

    [Fact]
    public async Task DisposeAsync_RightAfterTrainAsync_EndsTheTaskCanceled_NotFaultedWithObjectDisposed()
    {
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        // The pool thread has not started training when DisposeAsync comes: a few tries make that race likely.
        for (int i = 0; i < 3; i++)
        {
            using var dir = new TempDirectory();
            var options = new TrainingOptions { Epochs = 1000, BatchSize = 10, Model = new VaeConfig(SyntheticIdx.Height * SyntheticIdx.Width, [8], 2) };
            var trainer = new VaeTrainer(device, Data, options, dir.Path);
            var training = trainer.TrainAsync();
            await trainer.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
            var stop = await Stopped(training);
            Assert.Contains("stopped at epoch 1, step 0 of 200", stop.Message);
            Assert.True(stop.CancellationToken.IsCancellationRequested);
            // What a stop saves is saved, and the lock went with the trainer.
            Assert.True(File.Exists(Path.Combine(dir.Path, RunDirectory.StateFile)));
            VaeTrainer.Resume(device, Data, dir.Path).Dispose();
        }
    }

    [Fact]
    public async Task VaeTrainer_CallersToken_EndsTrainAsyncCanceled_WithThatToken_AndTheRunSaved()
    {
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var dir = new TempDirectory();
        var options = new TrainingOptions { Epochs = 1000, BatchSize = 10, Model = new VaeConfig(SyntheticIdx.Height * SyntheticIdx.Width, [8], 2) };
        await using var trainer = new VaeTrainer(device, Data, options, dir.Path);
        using var cancel = new CancellationTokenSource();
        var training = trainer.TrainAsync(new SyncProgress<WorkProgress>(p => { if (p.Done == 3) cancel.Cancel(); }), cancel.Token);
        var stop = await Stopped(training);
        Assert.Equal(cancel.Token, stop.CancellationToken);
        Assert.StartsWith("stopped at epoch 1, step 3 of 200; the run in ", stop.Message);
        Assert.True(File.Exists(Path.Combine(dir.Path, RunDirectory.StateFile)));

        // On the caller's thread: the caller's token too.
        var again = Assert.ThrowsAny<OperationCanceledException>(() => trainer.Train(cancellationToken: cancel.Token));
        Assert.Equal(cancel.Token, again.CancellationToken);
    }

    [Fact]
    public async Task ClassifierTrainer_CallersToken_EndsTrainAsyncCanceled_WithThatToken()
    {
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        var options = ClassifierTrainer.DefaultSettings with { Epochs = 1000, BatchSize = 10 };
        await using var trainer = new ClassifierTrainer(device, Data, new ClassifierConfig(SyntheticIdx.Height * SyntheticIdx.Width, [8], SyntheticIdx.Classes), options);
        using var cancel = new CancellationTokenSource();
        var training = trainer.TrainAsync(new SyncProgress<WorkProgress>(p => { if (p.Done == 3) cancel.Cancel(); }), cancel.Token);
        var stop = await Stopped(training);
        Assert.Equal(cancel.Token, stop.CancellationToken);
        Assert.Equal("stopped at epoch 1, step 3 of 200; nothing was saved", stop.Message);

        var again = Assert.ThrowsAny<OperationCanceledException>(() => trainer.Train(cancellationToken: cancel.Token));
        Assert.Equal(cancel.Token, again.CancellationToken);
    }

    /// <summary>Waits for a training task to end, checks that it ended Canceled (not Faulted) and returns what awaiting
    /// it throws.</summary>
    private static async Task<OperationCanceledException> Stopped(Task training)
    {
        await Task.WhenAny(training, Task.Delay(TimeSpan.FromSeconds(60)));
        Assert.True(training.IsCanceled, $"the training task ended {training.Status}: {training.Exception?.InnerException}");
        return await Assert.ThrowsAnyAsync<OperationCanceledException>(() => training);
    }
}
